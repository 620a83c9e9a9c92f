//! riscv64's `arch_data`: the hwprobe answers (Linux 6.8).

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};

use super::VdsoArch;
use crate::layout::ArchLayout;

impl VdsoArch for vdso_abi::riscv64::ArchData {
    const LAYOUT: ArchLayout = ArchLayout::of(vdso_abi::Arch::Riscv64);

    unsafe fn store_relaxed(dst: *mut Self, src: &Self) {
        // SAFETY: the caller guarantees `dst` is valid, aligned and written by this writer
        // alone; each element of the array is in bounds and 8-aligned, the flag is one byte.
        unsafe {
            let values = addr_of_mut!((*dst).all_cpu_hwprobe_values).cast::<u64>();
            for (i, v) in src.all_cpu_hwprobe_values.iter().enumerate() {
                AtomicU64::from_ptr(values.add(i)).store(*v, Relaxed);
            }
            AtomicU8::from_ptr(addr_of_mut!((*dst).homogeneous_cpus)).store(src.homogeneous_cpus, Relaxed);
        }
    }

    unsafe fn load_relaxed(src: *const Self) -> Self {
        let mut out = Self::default();
        let p = src.cast_mut();
        // SAFETY: the caller guarantees `src` is valid and aligned; each element is in bounds;
        // concurrent writers use atomic stores, so these loads do not race; the atomics are
        // only loaded from.
        unsafe {
            let values = addr_of_mut!((*p).all_cpu_hwprobe_values).cast::<u64>();
            for (i, v) in out.all_cpu_hwprobe_values.iter_mut().enumerate() {
                *v = AtomicU64::from_ptr(values.add(i)).load(Relaxed);
            }
            out.homogeneous_cpus = AtomicU8::from_ptr(addr_of_mut!((*p).homogeneous_cpus)).load(Relaxed);
        }
        out
    }

    fn set_hwprobe(&mut self, values: &[u64], homogeneous: bool) -> bool {
        let n = values.len().min(self.all_cpu_hwprobe_values.len());
        self.all_cpu_hwprobe_values = [0; vdso_abi::riscv64::HWPROBE_KEYS];
        self.all_cpu_hwprobe_values[..n].copy_from_slice(&values[..n]);
        self.homogeneous_cpus = homogeneous as u8;
        true
    }
}
