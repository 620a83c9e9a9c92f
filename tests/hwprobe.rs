//! `__vdso_riscv_hwprobe` (riscv64 only: the call and the syscall exist only there, so on every
//! other arch this file compiles to an empty test binary).
//!
//! The kernel stub's ticker publishes hwprobe values on the page; the image must answer from
//! the page exactly where Linux's vDSO does (ABI.md section 5) and make the syscall
//! everywhere else. Every test runs on each native variant: the classic image (Linux 6.8's 7
//! keys, at the end of `vdso_data`) and the modern one (Linux 6.18's 15 keys and its bit-set
//! keys, on the arch page the ticker writes). qemu-user 7.2 does not implement `riscv_hwprobe` (258) and answers `-ENOSYS`,
//! which makes every "from the page" answer (0 with the published values) distinguishable from a
//! syscall. Each syscall case asserts both the 7.2 answer (-38) and equality with a raw `ecall`
//! of the same arguments on copies of the same buffers, so it stays right on a qemu or kernel
//! that implements the syscall (where only the equality is asserted).
#![cfg(target_arch = "riscv64")]

mod common;

use common::harness::{variants, Vdso};
use vdso_abi::modern::riscv64::hwprobe::key_is_bitmask_6_18;
use vdso_abi::riscv64::hwprobe::key_is_bitmask;
use vdso_kernel_stub::{Profile, Ticker, TickerConfig, Variant};

/// `struct riscv_hwprobe`, declared here independently of the abi crate.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pair {
    key: i64,
    value: u64,
}

/// `int __vdso_riscv_hwprobe(struct riscv_hwprobe *, size_t, size_t, cpu_set_t *, unsigned)`.
type Hwprobe = unsafe extern "C" fn(*mut Pair, usize, usize, *mut u8, u32) -> i32;

const WHICH_CPUS: u32 = 1;
const EINVAL: i32 = 22;
const ENOSYS: i32 = 38;

/// Values published for keys 0..=14, all different and non-zero: Linux 6.8's keys (MVENDORID,
/// MARCHID, MIMPID, BASE_BEHAVIOR, IMA_EXT_0, CPUPERF_0, ZICBOZ_BLOCK_SIZE), then 6.18's
/// (HIGHEST_VIRT_ADDRESS, TIME_CSR_FREQ, MISALIGNED_SCALAR_PERF, MISALIGNED_VECTOR_PERF,
/// VENDOR_EXT_THEAD_0, ZICBOM_BLOCK_SIZE, VENDOR_EXT_SIFIVE_0, VENDOR_EXT_MIPS_0). A variant's
/// page holds as many as its image reads (classic 7, modern 15).
const ALL_VALUES: [u64; 15] = [
    0x489,
    0x8000_0000_0000_0007,
    0x2023_0616,
    1,
    0b1011_0111,
    0b11,
    64,
    0x3f_ffff_ffff,
    10_000_000,
    3,
    2,
    0b101,
    128,
    0b110,
    0b1001,
];

/// A mapped image whose page the ticker keeps filled with the variant's share of `ALL_VALUES`.
struct Setup {
    /// Keeps the mapping (and so `hwprobe`) alive.
    _vdso: Vdso,
    ticker: Ticker,
    hwprobe: Hwprobe,
    /// The values on the page (`values[key]`): as many as the image knows keys.
    values: Vec<u64>,
    /// Which keys the image matches as bit sets in WHICH_CPUS queries (its Linux version's).
    bitmask: fn(i64) -> bool,
}

fn setup(variant: &'static Variant, homogeneous: bool) -> Setup {
    let vdso = Vdso::map_variant(variant);
    let values = ALL_VALUES[..variant.hwprobe_keys()].to_vec();
    let bitmask: fn(i64) -> bool = match variant.profile {
        Profile::Classic => key_is_bitmask,
        Profile::Modern => key_is_bitmask_6_18,
    };
    let config = TickerConfig { hwprobe: Some((values.clone(), homogeneous)), ..Default::default() };
    let ticker = Ticker::start(&vdso.mapped, config).expect("ticker");
    ticker.sync();
    // SAFETY: the prototype matches ABI.md section 5; used only while `vdso` lives.
    let hwprobe = unsafe { vdso.mapped.resolve("__vdso_riscv_hwprobe", "LINUX_4.15") }.expect("hwprobe");
    Setup { _vdso: vdso, ticker, hwprobe, values, bitmask }
}

/// Runs `test` on a setup of every native variant (classic and modern profiles).
fn each(homogeneous: bool, test: impl Fn(&Setup)) {
    for v in variants() {
        println!("variant {}", v.name());
        test(&setup(v, homogeneous));
    }
}

impl Setup {
    /// The image's answer on `pairs` and `cpus` (NULL when `None`, with `cpusetsize` as given).
    fn call(&self, pairs: &mut [Pair], cpusetsize: usize, cpus: Option<&mut [u8]>, flags: u32) -> i32 {
        let cpus_ptr = cpus.map_or(std::ptr::null_mut(), |c| {
            assert!(c.len() >= cpusetsize, "the set buffer holds cpusetsize bytes");
            c.as_mut_ptr()
        });
        // SAFETY: `pairs` holds `pairs.len()` writable pairs and a non-NULL set `cpusetsize`
        // writable bytes; the image is mapped while `self` lives.
        unsafe { (self.hwprobe)(pairs.as_mut_ptr(), pairs.len(), cpusetsize, cpus_ptr, flags) }
    }

    /// Number of keys the image knows (0..keys).
    fn keys(&self) -> i64 {
        self.values.len() as i64
    }

    /// Every known key, with a value the image must overwrite.
    fn all_keys(&self) -> Vec<Pair> {
        (0..self.keys()).map(|key| Pair { key, value: 0xdead }).collect()
    }

    /// What the image answers for `key`: its value, or key -1 value 0 for an unknown key.
    fn expected(&self, key: i64) -> Pair {
        match self.values.get(key as usize) {
            Some(&value) if key >= 0 => Pair { key, value },
            _ => Pair { key: -1, value: 0 },
        }
    }

    /// Every known key answered.
    fn all_answers(&self) -> Vec<Pair> {
        (0..self.keys()).map(|key| self.expected(key)).collect()
    }

    /// Pairs every CPU with these values matches: equal values, and for bit-set keys a subset.
    fn matching_pairs(&self) -> Vec<Pair> {
        (0..self.keys())
            .map(|key| {
                let v = self.values[key as usize];
                let value = if (self.bitmask)(key) { v & !(v & v.wrapping_neg()) } else { v };
                Pair { key, value }
            })
            .collect()
    }
}

/// `riscv_hwprobe` as a raw `ecall`.
fn raw_hwprobe(pairs: &mut [Pair], cpusetsize: usize, cpus: Option<&mut [u8]>, flags: u32) -> i32 {
    let cpus_ptr = cpus.map_or(std::ptr::null_mut(), |c| c.as_mut_ptr());
    let ret: isize;
    // SAFETY: the syscall writes at most `pairs.len()` pairs and `cpusetsize` bytes of the set,
    // both valid; `ecall` returns in a0 and clobbers nothing else.
    unsafe {
        std::arch::asm!("ecall", in("a7") 258usize, inlateout("a0") pairs.as_mut_ptr() as isize => ret,
            in("a1") pairs.len(), in("a2") cpusetsize, in("a3") cpus_ptr, in("a4") flags as usize,
            options(nostack));
    }
    ret as i32
}

/// Asserts that the image made the syscall: its answer and its effect on the buffers equal a
/// raw `ecall` on copies of the same buffers, and under qemu-user 7.2 the answer is -ENOSYS.
fn assert_syscall(s: &Setup, pairs: &[Pair], cpusetsize: usize, cpus: Option<&[u8]>, flags: u32, what: &str) {
    let (mut p1, mut p2) = (pairs.to_vec(), pairs.to_vec());
    let (mut c1, mut c2) = (cpus.map(<[u8]>::to_vec), cpus.map(<[u8]>::to_vec));
    let ours = s.call(&mut p1, cpusetsize, c1.as_deref_mut(), flags);
    let raw = raw_hwprobe(&mut p2, cpusetsize, c2.as_deref_mut(), flags);
    assert_eq!(ours, raw, "{what}: the image's answer differs from a raw ecall");
    assert_eq!(p1, p2, "{what}: pairs differ from a raw ecall's");
    assert_eq!(c1, c2, "{what}: CPU set differs from a raw ecall's");
    if raw == -ENOSYS {
        // qemu-user 7.2: the syscall does not exist, so buffers are untouched.
        assert_eq!(p1, pairs, "{what}");
    } else {
        println!("{what}: this qemu/kernel implements riscv_hwprobe (answered {raw}); equality checked");
    }
}

/// Whether the host answers `riscv_hwprobe` (qemu-user 7.2 does not).
fn syscall_is_enosys() -> bool {
    raw_hwprobe(&mut [Pair { key: 0, value: 0 }], 0, None, 0) == -ENOSYS
}

#[test]
fn every_known_key_is_answered_from_the_page() {
    each(true, |s| {
        let mut pairs = s.all_keys();
        assert_eq!(s.call(&mut pairs, 0, None, 0), 0);
        assert_eq!(pairs, s.all_answers());
        // Any order, repeated keys.
        let keys = [6, 0, 4, 4, 2, 5, 1, 3, 6, s.keys() - 1, s.keys() - 1];
        let mut pairs: Vec<Pair> = keys.iter().map(|&key| Pair { key, value: 7 }).collect();
        assert_eq!(s.call(&mut pairs, 0, None, 0), 0);
        for p in &pairs {
            assert_eq!(*p, s.expected(p.key));
        }
    });
    if syscall_is_enosys() {
        println!("the host has no riscv_hwprobe syscall (-ENOSYS): every 0 above came from the page");
    }
}

#[test]
fn values_published_later_are_answered() {
    each(true, |s| {
        let newer: Vec<u64> = s.values.iter().map(|v| v ^ 0x5a5a).collect();
        s.ticker.set_hwprobe(&newer, true);
        s.ticker.sync();
        let mut pairs = s.all_keys();
        assert_eq!(s.call(&mut pairs, 0, None, 0), 0);
        let values: Vec<u64> = pairs.iter().map(|p| p.value).collect();
        assert_eq!(values, newer);
    });
}

#[test]
fn unknown_keys_become_key_minus_1_value_0_and_known_keys_are_still_answered() {
    each(true, |s| {
        let first_unknown = s.keys();
        let keys = [first_unknown, 0, first_unknown + 1, 100, -1, 4, -2, i64::MIN, i64::MAX, 6];
        let mut pairs: Vec<Pair> = keys.iter().map(|&key| Pair { key, value: 0x1234 }).collect();
        assert_eq!(s.call(&mut pairs, 0, None, 0), 0);
        for (p, &key) in pairs.iter().zip(&keys) {
            assert_eq!(*p, s.expected(key), "key {key}");
        }
    });
}

#[test]
fn zero_pairs_return_0() {
    each(true, |s| {
        // SAFETY: no pair is read or written when the count is 0; the image is mapped.
        assert_eq!(unsafe { (s.hwprobe)(std::ptr::null_mut(), 0, 0, std::ptr::null_mut(), 0) }, 0);
    });
}

#[test]
fn a_named_cpu_set_with_homogeneous_cpus_is_answered_from_the_page() {
    each(true, |s| {
        for (cpusetsize, set) in
            [(8, Some(vec![1u8; 8])), (128, Some(vec![0xff; 128])), (8, None), (0, Some(vec![3]))]
        {
            let mut set = set;
            let before = set.clone();
            let mut pairs = s.all_keys();
            let r = s.call(&mut pairs, cpusetsize, set.as_deref_mut(), 0);
            assert_eq!(r, 0, "cpusetsize {cpusetsize}, set {before:?}");
            assert_eq!(pairs, s.all_answers());
            assert_eq!(set, before, "the set is left as it was");
        }
    });
}

#[test]
fn mixed_cpus_with_a_cpu_set_make_the_syscall() {
    let enosys = syscall_is_enosys();
    each(true, |s| {
        s.ticker.set_hwprobe(&s.values, false);
        s.ticker.sync();
        for (cpusetsize, set) in [(8, Some(vec![1u8; 8])), (8, None), (0, Some(vec![1u8]))] {
            let what = format!("mixed CPUs, cpusetsize {cpusetsize}, set {set:?}");
            assert_syscall(s, &s.all_keys(), cpusetsize, set.as_deref(), 0, &what);
            if enosys {
                let mut set = set;
                assert_eq!(s.call(&mut s.all_keys(), cpusetsize, set.as_deref_mut(), 0), -ENOSYS, "{what}");
            }
        }
        // Without a CPU set the page still answers (the values of all CPUs are on it).
        let mut pairs = s.all_keys();
        assert_eq!(s.call(&mut pairs, 0, None, 0), 0);
        assert_eq!(pairs, s.all_answers());
    });
}

#[test]
fn which_cpus_with_matching_pairs_keeps_the_set() {
    each(true, |s| {
        let v4 = s.values[4];
        for pairs in
            [s.matching_pairs(), vec![], vec![Pair { key: 4, value: 0 }], vec![Pair { key: 4, value: v4 }]]
        {
            for set in [vec![0b1010u8, 0, 0, 0x80], vec![1], vec![0, 0, 0, 0, 0, 0, 0, 1]] {
                let mut pairs = pairs.clone();
                let before_pairs = pairs.clone();
                let mut cpus = set.clone();
                let r = s.call(&mut pairs, cpus.len(), Some(&mut cpus), WHICH_CPUS);
                assert_eq!(r, 0, "pairs {before_pairs:?}");
                assert_eq!(cpus, set, "matching pairs {before_pairs:?} keep the set");
                assert_eq!(pairs, before_pairs, "matching pairs are not rewritten");
            }
        }
    });
}

#[test]
fn which_cpus_with_a_pair_that_does_not_match_clears_the_whole_set() {
    each(true, |s| {
        let v = &s.values;
        let mut mismatches = vec![
            Pair { key: 0, value: v[0] + 1 },       // exact key, other value
            Pair { key: 6, value: 32 },             // exact key, other value
            Pair { key: 4, value: v[4] | 1 << 40 }, // a bit the CPUs lack
            Pair { key: 3, value: 2 },              // a bit the CPUs lack
            Pair { key: 5, value: 0b111 },          // CPUPERF_0 is a bit set since 6.8
            Pair { key: 1, value: v[1] & !1 },      // exact key: a subset is no match
        ];
        if s.keys() > 14 {
            // 6.18's vendor-extension bit sets and an exact key among its new ones.
            mismatches.push(Pair { key: 11, value: 0b10 });
            mismatches.push(Pair { key: 14, value: v[14] | 1 << 60 });
            mismatches.push(Pair { key: 12, value: v[12] & !(v[12] & v[12].wrapping_neg()) });
        }
        for bad in mismatches {
            let mut pairs = s.matching_pairs();
            pairs.push(bad);
            let before_pairs = pairs.clone();
            let mut cpus = vec![0xffu8; 16];
            assert_eq!(s.call(&mut pairs, cpus.len(), Some(&mut cpus), WHICH_CPUS), 0, "{bad:?}");
            assert_eq!(cpus, vec![0; 16], "{bad:?} clears every byte of the set");
            assert_eq!(pairs, before_pairs, "known keys are not rewritten");
        }
    });
}

#[test]
fn which_cpus_with_an_unknown_key_rewrites_it_and_clears_the_set() {
    each(true, |s| {
        let v0 = s.values[0];
        for key in [s.keys(), -1, i64::MIN, 1000] {
            let mut pairs = vec![Pair { key: 0, value: v0 }, Pair { key, value: 9 }];
            let mut cpus = vec![1u8, 2, 3];
            assert_eq!(s.call(&mut pairs, cpus.len(), Some(&mut cpus), WHICH_CPUS), 0, "key {key}");
            assert_eq!(pairs, [Pair { key: 0, value: v0 }, Pair { key: -1, value: 0 }]);
            assert_eq!(cpus, [0, 0, 0], "key {key}");
        }
    });
}

#[test]
fn which_cpus_with_an_empty_set_makes_the_syscall() {
    let enosys = syscall_is_enosys();
    each(true, |s| {
        assert_syscall(s, &s.matching_pairs(), 8, Some(&[0; 8]), WHICH_CPUS, "WHICH_CPUS, empty set");
        if enosys {
            let mut cpus = [0u8; 8];
            assert_eq!(s.call(&mut s.matching_pairs(), 8, Some(&mut cpus), WHICH_CPUS), -ENOSYS);
        }
    });
}

#[test]
fn which_cpus_without_a_set_is_einval() {
    each(true, |s| {
        let mut pairs = s.matching_pairs();
        assert_eq!(s.call(&mut pairs, 8, None, WHICH_CPUS), -EINVAL, "NULL set");
        let mut cpus = [0xffu8; 8];
        assert_eq!(s.call(&mut pairs, 0, Some(&mut cpus), WHICH_CPUS), -EINVAL, "cpusetsize 0");
        assert_eq!(cpus, [0xff; 8], "left untouched");
        assert_eq!(s.call(&mut pairs, 0, None, WHICH_CPUS), -EINVAL, "both");
        assert_eq!(pairs, s.matching_pairs(), "pairs untouched");
        // Any flags with the WHICH_CPUS bit take the same check first, as in Linux 6.8.
        assert_eq!(s.call(&mut pairs, 0, None, WHICH_CPUS | 2), -EINVAL);
    });
}

#[test]
fn which_cpus_with_mixed_cpus_makes_the_syscall() {
    let enosys = syscall_is_enosys();
    each(true, |s| {
        s.ticker.set_hwprobe(&s.values, false);
        s.ticker.sync();
        assert_syscall(s, &s.matching_pairs(), 4, Some(&[1, 0, 0, 0]), WHICH_CPUS, "WHICH_CPUS, mixed CPUs");
        if enosys {
            let mut cpus = [1u8, 0, 0, 0];
            assert_eq!(s.call(&mut s.matching_pairs(), 4, Some(&mut cpus), WHICH_CPUS), -ENOSYS);
        }
    });
}

#[test]
fn other_flags_make_the_syscall() {
    let enosys = syscall_is_enosys();
    each(true, |s| {
        for flags in [2u32, 4, 0x8000_0000, !WHICH_CPUS, WHICH_CPUS | 2, u32::MAX] {
            for (cpusetsize, set) in [(0usize, None), (8, Some(vec![0xffu8; 8]))] {
                if flags & WHICH_CPUS != 0 && set.is_none() {
                    continue; // -EINVAL, checked above
                }
                let what = format!("flags {flags:#x}, cpusetsize {cpusetsize}");
                assert_syscall(s, &s.all_keys(), cpusetsize, set.as_deref(), flags, &what);
                if enosys {
                    let mut set = set;
                    assert_eq!(
                        s.call(&mut s.all_keys(), cpusetsize, set.as_deref_mut(), flags),
                        -ENOSYS,
                        "{what}"
                    );
                }
            }
        }
    });
}
