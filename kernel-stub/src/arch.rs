//! The per-architecture tail of `struct vdso_data`, and the facts that tie it to a layout.
//!
//! `vdso_abi::VdsoData<A>` is generic over its trailing `arch_data`; the writer and reader here
//! are generic over the same `A`. [`VdsoArch`] is implemented for the two tails `vdso-abi`
//! defines, so the type of the data page names its layout and nobody can pair a riscv64 writer
//! with an x86_64 page by accident.

use core::ptr::addr_of_mut;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};

use crate::layout::ArchLayout;

/// An architecture's `arch_data` type, its page layout, and single-copy-atomic accessors for
/// its fields (the seqlock needs every shared field read and written with atomic accesses).
pub trait VdsoArch: Copy + Default + core::fmt::Debug + Send + Sync + 'static {
    /// The mapping this architecture's pages follow.
    const LAYOUT: ArchLayout;

    /// Stores every field of `src` into `*dst` with relaxed atomic stores.
    ///
    /// # Safety
    ///
    /// `dst` must be valid for writes of `Self`, aligned, and written by no other thread while
    /// this runs (readers may read it concurrently with atomic loads).
    unsafe fn store_relaxed(dst: *mut Self, src: &Self);

    /// Loads every field of `*src` with relaxed atomic loads.
    ///
    /// # Safety
    ///
    /// `src` must be valid for reads of `Self` and aligned; concurrent writers must use
    /// atomic stores (as [`VdsoArch::store_relaxed`] does).
    unsafe fn load_relaxed(src: *const Self) -> Self;

    /// Sets riscv64's hwprobe answers (`values[key]`, and whether all CPUs agree); returns
    /// `false` on an architecture without them (nothing is changed).
    fn set_hwprobe(&mut self, values: &[u64], homogeneous: bool) -> bool {
        let _ = (values, homogeneous);
        false
    }
}

impl VdsoArch for vdso_abi::x86_64::ArchData {
    const LAYOUT: ArchLayout = ArchLayout::X86_64;

    unsafe fn store_relaxed(_dst: *mut Self, _src: &Self) {
        // Zero-sized: the x86_64 struct ends at byte 240.
    }

    unsafe fn load_relaxed(_src: *const Self) -> Self {
        vdso_abi::x86_64::ArchData
    }
}

impl VdsoArch for vdso_abi::riscv64::ArchData {
    const LAYOUT: ArchLayout = ArchLayout::RISCV64;

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
