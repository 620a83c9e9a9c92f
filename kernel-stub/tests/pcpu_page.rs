//! loongarch64's per-CPU array, mapped by the kernel stub for each loongarch64 row of the
//! process's page size (classic: 63 slots on page 2; modern: Linux 6.18 defconfig's 2048 slots
//! over arch pages 3..=10): each CPU's node, stored through the writer's view, is what the
//! reader's read-only pages hold at that CPU's 64-byte slot, in the plain and the namespace
//! arrangement; a CPU past the array's slots and a layout without the page is refused.
//!
//! Only as loongarch64 binaries (under qemu-loongarch64): the stub maps a layout only where the
//! process's page size is the layout's (16 KiB for loongarch64's default image), and only
//! loongarch64 has the page; the x86_64 run checks the slot arithmetic (the stub's unit tests)
//! and that a layout without the page refuses `set_cpu_node` (mapping.rs).
#![cfg(target_arch = "loongarch64")]

use vdso_abi::{Arch, Variant};
use vdso_kernel_stub::mapping::note_only_image;
use vdso_kernel_stub::{ArchLayout, Error, MapOptions, MappedVdso, TimensOffsets, Timespec};

#[test]
fn the_per_cpu_page_holds_each_cpus_node_at_its_slot() {
    let native = ArchLayout::native();
    let layouts: Vec<ArchLayout> = Variant::of_arch(Arch::Loongarch64)
        .filter(|v| v.page_size == native.page_size)
        .map(ArchLayout::of_variant)
        .collect();
    assert_eq!(layouts.len(), 2, "the classic and the modern row of this page size");
    for layout in layouts {
        each_cpus_node_at_its_slot(layout);
    }
}

fn each_cpus_node_at_its_slot(layout: ArchLayout) {
    let page = layout.pcpu_page.expect("loongarch64 has a per-CPU page");
    let nr_cpus = layout.pcpu_slots;
    assert_eq!(layout.pcpu_slots_mapped(), nr_cpus, "{layout:?}");
    // The array's pages are data pages: the last slot ends inside them.
    assert!((page + layout.pcpu_pages) * layout.page_size <= layout.data_size(), "{layout:?}");
    assert!(64 * nr_cpus <= layout.pcpu_pages * layout.page_size, "{layout:?}");
    let offsets = TimensOffsets { monotonic: Timespec::new(5, 0), boottime: Timespec::new(6, 0) };
    for options in [MapOptions::new(layout), MapOptions::new(layout).timens(offsets)] {
        let m = MappedVdso::map_with(&note_only_image(layout), options).unwrap();
        let slot = |cpu: usize| m.base() as usize + page * layout.page_size + 64 * cpu;
        for cpu in 0..nr_cpus as u32 {
            m.set_cpu_node(cpu, 1000 + 7 * cpu).unwrap();
        }
        for cpu in 0..nr_cpus {
            // SAFETY: inside the readable per-CPU pages.
            let node = unsafe { std::ptr::read_volatile(slot(cpu) as *const u32) };
            assert_eq!(node, 1000 + 7 * cpu as u32, "{:?} cpu {cpu}", layout.profile);
        }
        // The reader's pages refuse write access, as every data page does (first and last).
        for cpu in [0, nr_cpus - 1] {
            let at = (slot(cpu) & !(layout.page_size - 1)) as *mut std::ffi::c_void;
            // SAFETY: asks to change the protection of our own read-only data page; it must fail.
            let r = unsafe { rustix::mm::mprotect(at, layout.page_size, rustix::mm::MprotectFlags::WRITE) };
            assert_eq!(r, Err(rustix::io::Errno::ACCESS));
        }
        // Nothing else of the data pages changed: page 0's `mult` is still zero.
        // SAFETY: inside the readable data pages.
        let mult = unsafe {
            std::ptr::read_volatile((m.base() as usize + layout.vdso_data_offset + 24) as *const u32)
        };
        assert_eq!(mult, 0);
        let past = nr_cpus as u32;
        assert!(
            matches!(m.set_cpu_node(past, 1), Err(Error::CpuOutOfRange { cpu, slots }) if cpu == past && slots == nr_cpus),
            "cpu {past} (the image serves {nr_cpus}) must be refused"
        );
    }
}
