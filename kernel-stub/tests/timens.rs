//! The time-namespace page builder fills exactly what ABI.md §2 says.

use vdso_abi::{clock, clock_mode, TimensOffset, VdsoData, CS_BASES};
use vdso_kernel_stub::timens::timens_page;
use vdso_kernel_stub::{TimensOffsets, Timespec, VdsoArch};

fn check<A: VdsoArch + PartialEq>() {
    let offsets = TimensOffsets {
        monotonic: Timespec::from_nanos(-1_500_000_000),
        boottime: Timespec::new(86_400, 42),
    };
    let page: [VdsoData<A>; CS_BASES] = timens_page(&offsets);
    let mono = TimensOffset { sec: -2, nsec: 500_000_000 };
    let boot = TimensOffset { sec: 86_400, nsec: 42 };
    for vd in &page {
        assert_eq!(vd.seq, 1, "odd forever");
        assert_eq!(vd.clock_mode, clock_mode::TIMENS);
        // SAFETY (union): plain integers.
        let off = unsafe { vd.bases.offset };
        for (id, o) in off.iter().enumerate() {
            let want = match id as i32 {
                clock::MONOTONIC | clock::MONOTONIC_RAW | clock::MONOTONIC_COARSE => mono,
                clock::BOOTTIME | clock::BOOTTIME_ALARM => boot,
                _ => TimensOffset::default(),
            };
            assert_eq!(*o, want, "offset[{id}]");
        }
        assert_eq!((vd.cycle_last, vd.mask, vd.mult, vd.shift), (0, 0, 0, 0));
        assert_eq!((vd.tz_minuteswest, vd.tz_dsttime, vd.hrtimer_res, vd.unused), (0, 0, 0, 0));
        assert!(vd.arch_data == A::default());
    }
}

#[test]
fn namespace_page_has_seq_1_timens_and_linux_offsets_x86_64() {
    check::<vdso_abi::x86_64::ArchData>();
}

#[test]
fn namespace_page_has_seq_1_timens_and_linux_offsets_riscv64() {
    check::<vdso_abi::riscv64::ArchData>();
}
