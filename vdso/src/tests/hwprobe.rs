//! `__vdso_riscv_hwprobe`: every branch of Linux 6.8's rules (and 6.18's, in the modern
//! profile: more keys, on the arch page), against a hand-filled page, with the syscall recorded
//! instead of made.

use vdso_abi::clock_mode;
use vdso_abi::riscv64::hwprobe::*;

use super::page::TestPages;
use crate::arch::hwprobe::riscv_hwprobe;
use crate::arch::{self, Syscall};
use crate::data::{HWPROBE_MAX_KEY, TIMENS_PAGE};

/// Values for keys 0..=14 (Linux 6.18's); the classic profile's page holds the first 7.
const ALL_VALUES: [u64; 15] = [
    0x489,
    0x8000_0000_0000_0007,
    0x2024,
    1,
    0b1011_0111,
    3,
    64,
    1 << 47,
    10_000_000,
    3,
    2,
    0b101,
    64,
    0b11,
    1,
];
/// The values the profile's page holds.
const VALUES: &[u64] = ALL_VALUES.split_at(HWPROBE_MAX_KEY as usize + 1).0;

/// Fills the hwprobe answers the image reads when `real_page` is the real data page.
fn fill(p: &mut TestPages, real_page: usize, homogeneous: bool) {
    let d = p.hwprobe(real_page);
    d.all_cpu_hwprobe_values.copy_from_slice(VALUES);
    d.homogeneous_cpus = homogeneous as u8;
}

fn pages(homogeneous: bool) -> TestPages {
    let mut p = TestPages::new();
    fill(&mut p, 0, homogeneous);
    p
}

fn probe(pairs: &mut [Pair], cpus: Option<&mut [u8]>, flags: u32) -> i32 {
    let (size, ptr) = match cpus {
        Some(c) => (c.len(), c.as_mut_ptr()),
        None => (0, core::ptr::null_mut()),
    };
    // SAFETY: `pairs` and `cpus` are valid for their lengths.
    unsafe { riscv_hwprobe(pairs.as_mut_ptr(), pairs.len(), size, ptr, flags) }
}

fn pair(key: i64, value: u64) -> Pair {
    Pair { key, value }
}

#[test]
fn all_cpus_queries_are_answered_from_the_page() {
    for homogeneous in [true, false] {
        let _p = pages(homogeneous);
        let mut pairs: Vec<Pair> = (0..=HWPROBE_MAX_KEY).map(|k| pair(k, 0xdead)).collect();
        assert_eq!(pairs.len(), VALUES.len());
        assert_eq!(probe(&mut pairs, None, 0), 0);
        for (k, p) in pairs.iter().enumerate() {
            assert_eq!(*p, pair(k as i64, VALUES[k]));
        }
        assert_eq!(arch::take_syscall(), None, "homogeneous {homogeneous}");
    }
}

#[test]
fn unknown_keys_become_minus_one_with_value_zero() {
    let _p = pages(true);
    let mut pairs = [pair(HWPROBE_MAX_KEY + 1, 5), pair(-1, 5), pair(i64::MAX, 5), pair(KEY_IMA_EXT_0, 0)];
    assert_eq!(probe(&mut pairs, None, 0), 0);
    assert_eq!(pairs, [pair(-1, 0), pair(-1, 0), pair(-1, 0), pair(KEY_IMA_EXT_0, VALUES[4])]);
}

#[test]
fn a_cpu_set_is_answered_from_the_page_only_when_cpus_are_homogeneous() {
    let _p = pages(true);
    let mut cpus = [0b11u8, 0];
    let mut pairs = [pair(KEY_MVENDORID, 0)];
    assert_eq!(probe(&mut pairs, Some(&mut cpus), 0), 0);
    assert_eq!(pairs[0].value, VALUES[0]);
    assert_eq!(arch::take_syscall(), None);

    let _p = pages(false);
    arch::set_syscall_result(-38);
    assert_eq!(probe(&mut pairs, Some(&mut cpus), 0), -38, "mixed CPUs: the kernel decides");
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "riscv_hwprobe", arg0: 1 }));
    // Only a size, or only a pointer, also names a set.
    // SAFETY: a NULL set with a size: the recorded syscall reads nothing.
    let r = unsafe { riscv_hwprobe(pairs.as_mut_ptr(), 1, 8, core::ptr::null_mut(), 0) };
    assert_eq!(r, -38);
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "riscv_hwprobe", arg0: 1 }));
}

#[test]
fn unknown_flags_go_to_the_syscall() {
    let _p = pages(true);
    arch::set_syscall_result(-22);
    let mut pairs = [pair(KEY_MVENDORID, 0)];
    assert_eq!(probe(&mut pairs, None, 2), -22);
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "riscv_hwprobe", arg0: 1 }));
}

#[test]
fn which_cpus_needs_a_set() {
    let _p = pages(true);
    let mut pairs = [pair(KEY_MVENDORID, VALUES[0])];
    assert_eq!(probe(&mut pairs, None, WHICH_CPUS), -22);
    let mut empty: [u8; 0] = [];
    assert_eq!(probe(&mut pairs, Some(&mut empty), WHICH_CPUS), -22);
    // SAFETY: a NULL set with a size: rejected before anything is read.
    let r = unsafe { riscv_hwprobe(pairs.as_mut_ptr(), 1, 8, core::ptr::null_mut(), WHICH_CPUS) };
    assert_eq!(r, -22);
    assert_eq!(arch::take_syscall(), None);
}

#[test]
fn which_cpus_keeps_the_set_when_every_pair_matches() {
    let _p = pages(true);
    let mut cpus = [0b0101u8, 0x80];
    // Value keys match by equality; bitmask keys when the CPUs have every bit asked for.
    let mut pairs = [
        pair(KEY_MVENDORID, VALUES[0]),
        pair(KEY_IMA_EXT_0, 0b0000_0011),
        pair(KEY_BASE_BEHAVIOR, 1),
        pair(KEY_CPUPERF_0, 1),
        pair(KEY_ZICBOZ_BLOCK_SIZE, 64),
    ];
    assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS), 0);
    assert_eq!(cpus, [0b0101, 0x80]);
    assert_eq!(arch::take_syscall(), None);
}

#[test]
fn which_cpus_clears_the_whole_set_when_a_pair_does_not_match() {
    for bad in [pair(KEY_MVENDORID, 0x48a), pair(KEY_IMA_EXT_0, 0b0100_1000), pair(KEY_ZICBOZ_BLOCK_SIZE, 32)]
    {
        let _p = pages(true);
        let mut cpus = [0xffu8; 16];
        let mut pairs = [pair(KEY_MARCHID, VALUES[1]), bad];
        assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS), 0);
        assert_eq!(cpus, [0; 16], "{bad:?}");
        assert_eq!(pairs[1], bad, "a known key's pair is left as asked");
    }
}

#[test]
fn which_cpus_with_an_unknown_key_clears_the_set_and_marks_the_key() {
    let _p = pages(true);
    let mut cpus = [1u8];
    let mut pairs = [pair(KEY_MVENDORID, VALUES[0]), pair(99, 1)];
    assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS), 0);
    assert_eq!(cpus, [0]);
    assert_eq!(pairs[1], pair(-1, 0));
}

#[test]
fn which_cpus_with_an_empty_set_or_mixed_cpus_goes_to_the_syscall() {
    let _p = pages(true);
    arch::set_syscall_result(-38);
    let mut pairs = [pair(KEY_MVENDORID, VALUES[0])];
    let mut empty = [0u8; 8];
    assert_eq!(probe(&mut pairs, Some(&mut empty), WHICH_CPUS), -38);
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "riscv_hwprobe", arg0: 1 }));
    let _p = pages(false);
    arch::set_syscall_result(-38);
    let mut cpus = [1u8];
    assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS), -38);
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "riscv_hwprobe", arg0: 1 }));
    assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS | 2), -38, "extra flags");
    assert_eq!(arch::take_syscall(), Some(Syscall { name: "riscv_hwprobe", arg0: 1 }));
}

/// Makes page 0 a time-namespace page.
fn enter_timens(p: &mut TestPages) {
    let ns = &mut p.page0()[0];
    ns.seq = 1;
    ns.clock_mode = clock_mode::TIMENS;
}

/// The answer for `KEY_MIMPID`.
fn mimpid() -> u64 {
    let mut pairs = [pair(KEY_MIMPID, 0)];
    assert_eq!(probe(&mut pairs, None, 0), 0);
    pairs[0].value
}

#[test]
fn in_a_time_namespace_the_values_come_from_the_real_page() {
    let mut p = TestPages::new();
    fill(&mut p, TIMENS_PAGE, true);
    enter_timens(&mut p);
    assert_eq!(mimpid(), VALUES[2]);
}

/// Linux 6.8 knows keys 0..=6; Linux 6.18 (the modern profile) knows 0..=14.
#[test]
fn the_profile_knows_its_linux_releases_keys() {
    let want = if cfg!(feature = "modern") { 14 } else { 6 };
    assert_eq!(HWPROBE_MAX_KEY, want);
    let _p = pages(true);
    let mut pairs = [pair(want, 0), pair(want + 1, 0)];
    assert_eq!(probe(&mut pairs, None, 0), 0);
    assert_eq!(pairs, [pair(want, VALUES[want as usize]), pair(-1, 0)]);
}

/// Linux 6.18's vendor-extension keys (11, 13, 14) are bitmasks: a CPU matches when it has every
/// bit asked for, so a subset keeps the set where equality would clear it.
#[cfg(feature = "modern")]
#[test]
fn which_cpus_matches_6_18_vendor_keys_by_inclusion() {
    use vdso_abi::modern::riscv64::hwprobe::{
        KEY_VENDOR_EXT_MIPS_0, KEY_VENDOR_EXT_SIFIVE_0, KEY_VENDOR_EXT_THEAD_0,
    };
    for (key, subset, other) in [
        (KEY_VENDOR_EXT_THEAD_0, 0b100, 0b010),
        (KEY_VENDOR_EXT_SIFIVE_0, 0b10, 0b100),
        (KEY_VENDOR_EXT_MIPS_0, 1, 2),
    ] {
        let _p = pages(true);
        let mut cpus = [0b11u8];
        let mut pairs = [pair(key, subset)];
        assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS), 0);
        assert_eq!(cpus, [0b11], "key {key}: a subset of the CPUs' bits matches");
        let mut pairs = [pair(key, other)];
        assert_eq!(probe(&mut pairs, Some(&mut cpus), WHICH_CPUS), 0);
        assert_eq!(cpus, [0], "key {key}: a bit the CPUs lack does not");
        assert_eq!(arch::take_syscall(), None);
    }
}

/// In the modern profile the answers are on the arch page, which a time namespace does not move:
/// values written anywhere else are not read.
#[cfg(feature = "modern")]
#[test]
fn modern_values_come_from_the_arch_page_in_or_out_of_a_namespace() {
    let mut p = pages(true);
    assert_eq!(crate::data::hwprobe_offset(0), vdso_abi::modern::riscv64::ARCH_PAGE * 4096);
    assert_eq!(mimpid(), VALUES[2]);
    enter_timens(&mut p);
    assert_eq!(mimpid(), VALUES[2]);
}
