//! The mapped image against a page filled by hand with known values (the kernel stub's writer,
//! no ticker), so results are exact. On x86_64 the counter itself is chosen (a trapped `rdtsc`,
//! see `common/tsc_trap.rs`), which also proves when no counter is read. qemu-user cannot trap
//! `rdtime`, so on riscv64 the real counter is read just before and after the call and the
//! result must lie exactly between the reference values for those two readings (the conversion
//! is monotonic in the counter).
//!
//! Every test runs on each native row of the variant table (`harness::variants()`: the classic
//! and the modern profile): the same hand-chosen values go into the classic pair or, through
//! [`PageWriter::update`], into the modern page's `vdso_clock`s, `tz` and `hrtimer_res`, and the
//! same exact answers are asserted. Modern rows also carry auxiliary clocks (ids 16..23), filled
//! by hand in their own structs and held to the same exactness; a classic row has none (those
//! ids are the kernel's).

mod common;

use common::harness::*;
use linux_vdso::abi::modern::{CLOCK_AUX, MAX_AUX_CLOCKS, VDSO_BASE_AUX};
use linux_vdso::abi::{clock, clock_mode, VdsoTimestamp};
use vdso_kernel_stub::counter::read_counter;
use vdso_kernel_stub::modern::MaxCycles;
use vdso_kernel_stub::{NativeArchData, TimensOffsets, Timespec as StubTs};

type VdsoData = linux_vdso::abi::VdsoData<NativeArchData>;
const NS: u64 = 1_000_000_000;

fn set_base(vd: &mut VdsoData, clk: i32, sec: u64, nsec: u64) {
    // SAFETY: `basetime` is the active member of a data page; plain integers.
    unsafe { vd.bases.basetime[clk as usize] = VdsoTimestamp { sec, nsec } };
}

/// Auxiliary clock `i`'s base: (seconds, unshifted nanoseconds), distinct for every clock.
fn aux_base(i: usize) -> (u64, u64) {
    (9_000 + 1_000 * i as u64, 600 + i as u64)
}

/// Fills the page: counter mode, the given conversion, bases for every clock; on a modern page
/// every auxiliary clock too, enabled with the same conversion and its own base
/// ([`aux_base`]). Returns the auxiliary clock ids the page serves (none on a classic page).
fn fill(vdso: &Vdso, last: u64, mult: u32, shift: u32) -> Vec<(i32, u64, u64)> {
    let mut w = vdso.page_writer();
    w.update(|pair| {
        for vd in pair.iter_mut() {
            vd.clock_mode = clock_mode::ARCH;
            vd.cycle_last = last;
            vd.mask = u64::MAX;
            vd.mult = mult;
            vd.shift = shift;
        }
        let [hres, raw] = pair;
        set_base(hres, clock::REALTIME, 1_700_000_000, 100 << shift);
        set_base(hres, clock::MONOTONIC, 5_000, 200 << shift);
        set_base(hres, clock::BOOTTIME, 6_000, 300 << shift);
        set_base(hres, clock::TAI, 1_700_000_037, 400 << shift);
        set_base(hres, clock::REALTIME_COARSE, 1_699_999_999, 999_999_999);
        set_base(hres, clock::MONOTONIC_COARSE, 4_999, 123);
        set_base(raw, clock::MONOTONIC_RAW, 7_000, 500 << shift);
        hres.hrtimer_res = 1;
    });
    let aux = w.update_aux(|aux| {
        for (i, c) in aux.iter_mut().enumerate() {
            c.clock_mode = clock_mode::ARCH;
            c.cycle_last = last;
            c.mask = u64::MAX;
            c.mult = mult;
            c.shift = shift;
            c.max_cycles = MaxCycles::for_conversion(mult, shift);
            let (sec, nsec) = aux_base(i);
            // SAFETY: `basetime` is the active member of a time page; plain integers.
            unsafe { c.bases.basetime[VDSO_BASE_AUX] = VdsoTimestamp { sec, nsec: nsec << shift } };
        }
    });
    let ids = (0..MAX_AUX_CLOCKS).map(|i| (CLOCK_AUX + i as i32, aux_base(i).0, aux_base(i).1 << shift));
    if aux.is_some() {
        ids.collect()
    } else {
        Vec::new()
    }
}

/// ABI.md section 4's conversion in 128 bits: (seconds, nanoseconds).
fn reference(base_sec: u64, base_snsec: u64, last: u64, mult: u32, shift: u32, counter: u64) -> (i64, i64) {
    let mut delta = counter.wrapping_sub(last);
    if delta > u64::MAX / 2 {
        delta = 0;
    }
    let ns = ((delta as u128 * mult as u128 + base_snsec as u128) >> shift) as u64;
    ((base_sec + ns / NS) as i64, (ns % NS) as i64)
}

fn key(ts: &Ts) -> (i64, i64) {
    (ts.tv_sec, ts.tv_nsec)
}

/// The row, for assertion messages.
fn row(vdso: &Vdso) -> &'static str {
    vdso.variant.dir
}

// x86_64 only: the counter is chosen by trapping `rdtsc` (PR_SET_TSC); qemu-user cannot trap
// `rdtime`, so riscv64 checks the same arithmetic with the real counter bracketing the result
// (`the_real_counter_brackets_the_result_exactly`) and with the injected counter of the image's
// unit tests.
#[cfg(target_arch = "x86_64")]
#[test]
fn a_chosen_counter_gives_bit_exact_times_on_every_counter_clock() {
    use common::tsc_trap::TscTrap;
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        // 2.5 GHz: mult = 0.4 ns per cycle << 24.
        let (mult, shift) = (6_710_886, 24);
        let last = 1 << 50;
        let aux = fill(&vdso, last, mult, shift);
        let trap = TscTrap::new();
        let base_clocks = [
            (clock::REALTIME, 1_700_000_000, 100 << shift),
            (clock::MONOTONIC, 5_000, 200 << shift),
            (clock::BOOTTIME, 6_000, 300 << shift),
            (clock::TAI, 1_700_000_037, 400 << shift),
            (clock::MONOTONIC_RAW, 7_000, 500 << shift),
        ];
        let clocks: Vec<(i32, u64, u64)> = base_clocks.into_iter().chain(aux.iter().copied()).collect();
        for delta in [0u64, 1, 2_500_000_000, 7_777_777_777, 1 << 44, (1 << 62) - 1] {
            trap.set(last + delta);
            for &(clk, sec, snsec) in &clocks {
                let (r, ts) = vdso.gettime(clk);
                assert_eq!(r, 0);
                assert_eq!(
                    key(&ts),
                    reference(sec, snsec, last, mult, shift, last + delta),
                    "{}: clock {clk} delta {delta}",
                    row(&vdso)
                );
            }
            // One counter read per call; past 2^31 cycles the 64-bit fast path hands over to the
            // wide one, which reads again. Auxiliary clocks are read by the wide loop alone
            // (off the fast path), once whatever the delta.
            let per_call = if delta < 1 << 31 { 1 } else { 2 };
            let reads = per_call * base_clocks.len() as u64 + aux.len() as u64;
            assert_eq!(trap.take_reads(), reads, "{}: counter reads for delta {delta}", row(&vdso));
        }
        if v.profile == vdso_kernel_stub::Profile::Modern {
            assert_eq!(aux.len(), MAX_AUX_CLOCKS, "a modern page serves every auxiliary clock");
        }
    }
}

// x86_64 only: the counter is chosen by trapping `rdtsc` (PR_SET_TSC); qemu-user cannot trap
// `rdtime`, so riscv64 checks the same arithmetic with the real counter bracketing the result
// (`the_real_counter_brackets_the_result_exactly`) and with the injected counter of the image's
// unit tests.
#[cfg(target_arch = "x86_64")]
#[test]
fn past_the_overflow_horizon_and_behind_cycle_last_with_a_chosen_counter() {
    use common::tsc_trap::TscTrap;
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        // 1 ns per cycle at shift 24: delta * mult overflows u64 after 2^40 cycles (18 minutes).
        let (mult, shift) = (1 << 24, 24);
        let last = 1 << 52;
        let aux = fill(&vdso, last, mult, shift);
        let trap = TscTrap::new();
        trap.set(last + (1 << 44)); // 2^44 ns = 17592 s + 186044416 ns
        let what = row(&vdso);
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000 + 17_592, 186_044_416 + 200), "{what}");
        for &(clk, sec, snsec) in &aux {
            let want = (sec as i64 + 17_592, 186_044_416 + (snsec >> shift) as i64);
            assert_eq!(key(&vdso.gettime(clk).1), want, "{what}: aux clock {clk}");
        }
        for behind in [1u64, 1 << 20, 1 << 40] {
            trap.set(last - behind);
            assert_eq!(
                key(&vdso.gettime(clock::MONOTONIC).1),
                (5_000, 200),
                "{what}: {behind} cycles behind"
            );
            for &(clk, sec, snsec) in &aux {
                let want = (sec as i64, (snsec >> shift) as i64);
                assert_eq!(key(&vdso.gettime(clk).1), want, "{what}: aux clock {clk} {behind} cycles behind");
            }
        }
    }
}

// x86_64 only: the counter is chosen by trapping `rdtsc` (PR_SET_TSC); qemu-user cannot trap
// `rdtime`, so riscv64 checks the same arithmetic with the real counter bracketing the result
// (`the_real_counter_brackets_the_result_exactly`) and with the injected counter of the image's
// unit tests.
#[cfg(target_arch = "x86_64")]
#[test]
fn coarse_time_tz_and_getres_read_no_counter() {
    use common::tsc_trap::TscTrap;
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        let aux = fill(&vdso, 0, 1 << 24, 24);
        let time = vdso.time();
        let trap = TscTrap::new();
        trap.set(12345);
        vdso.gettime(clock::REALTIME_COARSE);
        vdso.gettime(clock::MONOTONIC_COARSE);
        vdso.getres(clock::MONOTONIC);
        for &(clk, _, _) in &aux {
            assert_eq!(key(&vdso.getres(clk).1), (0, 1), "{}: an enabled aux clock's resolution", row(&vdso));
        }
        // SAFETY: NULL allowed.
        unsafe { time(std::ptr::null_mut()) };
        let mut tz = Timezone::default();
        // SAFETY: NULL tv allowed; `tz` a local.
        unsafe { (vdso.gettimeofday)(std::ptr::null_mut(), &mut tz) };
        assert_eq!(trap.take_reads(), 0, "{}", row(&vdso));
    }
}

#[test]
fn the_real_counter_brackets_the_result_exactly() {
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        let (mult, shift) = (6_710_886, 24);
        for ahead in [1_000u64, 3_000_000_000, 1 << 40] {
            // The counter may be younger than `ahead` on a freshly booted machine (the TSC passes
            // 2^40 only after minutes): `cycle_last` then wraps, which the image must handle the
            // same way, since it takes the delta modulo 2^64.
            let last = read_counter().wrapping_sub(ahead);
            let aux = fill(&vdso, last, mult, shift);
            let clocks = [(clock::MONOTONIC, 5_000, 200 << shift)].into_iter().chain(aux.first().copied());
            for (clk, sec, snsec) in clocks {
                let c0 = read_counter();
                let (r, ts) = vdso.gettime(clk);
                let c1 = read_counter();
                assert_eq!(r, 0);
                let lo = reference(sec, snsec, last, mult, shift, c0);
                let hi = reference(sec, snsec, last, mult, shift, c1);
                assert!(
                    lo <= key(&ts) && key(&ts) <= hi,
                    "{}: clock {clk} {ahead} ahead: {:?} not in [{lo:?}, {hi:?}]",
                    row(&vdso),
                    key(&ts)
                );
            }
        }
    }
}

#[test]
fn a_counter_behind_cycle_last_gives_exactly_the_base() {
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        let aux = fill(&vdso, read_counter() + (1 << 40), 6_710_886, 24);
        let what = row(&vdso);
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000, 200), "{what}");
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC_RAW).1), (7_000, 500), "{what}");
        for &(clk, sec, snsec) in &aux {
            assert_eq!(
                key(&vdso.gettime(clk).1),
                (sec as i64, (snsec >> 24) as i64),
                "{what}: aux clock {clk}"
            );
        }
    }
}

#[test]
fn coarse_clocks_return_exactly_the_published_base() {
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        fill(&vdso, 0, 1 << 24, 24);
        let what = row(&vdso);
        let (r, ts) = vdso.gettime(clock::REALTIME_COARSE);
        assert_eq!((r, key(&ts)), (0, (1_699_999_999, 999_999_999)), "{what}");
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (4_999, 123), "{what}");
        // Republished values are seen at once.
        let mut w = vdso.page_writer();
        w.update(|pair| set_base(&mut pair[0], clock::MONOTONIC_COARSE, 5_001, 7));
        drop(w);
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (5_001, 7), "{what}");
    }
}

#[test]
fn without_a_counter_hres_clocks_come_from_the_kernel_and_coarse_from_the_page() {
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        let what = row(&vdso);
        let aux = fill(&vdso, 0, 1 << 24, 24);
        let mut w = vdso.page_writer();
        w.update(|pair| pair.iter_mut().for_each(|vd| vd.clock_mode = clock_mode::NONE));
        w.update_aux(|aux| aux.iter_mut().for_each(|c| c.clock_mode = clock_mode::NONE));
        drop(w);
        #[cfg(target_arch = "x86_64")]
        let trap = common::tsc_trap::TscTrap::new();
        for clk in [clock::REALTIME, clock::MONOTONIC, clock::BOOTTIME, clock::MONOTONIC_RAW] {
            let (_, before) = sys_gettime(clk);
            let (r, ours) = vdso.gettime(clk);
            let (_, after) = sys_gettime(clk);
            assert_eq!(r, 0);
            assert!(
                ns(&before) <= ns(&ours) && ns(&ours) <= ns(&after),
                "{what}: clock {clk}: the kernel's time"
            );
        }
        // A disabled auxiliary clock is the kernel's: its verdict (this host's auxiliary clocks
        // are not enabled, so an error the syscall gives must come back too).
        for &(clk, _, _) in &aux {
            assert_eq!(vdso.gettime(clk).0, sys_gettime(clk).0, "{what}: disabled aux clock {clk}");
            assert_eq!(vdso.getres(clk).0, sys_getres(clk).0, "{what}: disabled aux clock {clk} getres");
        }
        assert_eq!(
            key(&vdso.gettime(clock::MONOTONIC_COARSE).1),
            (4_999, 123),
            "{what}: COARSE still from the page"
        );
        let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
        let (_, before) = sys_gettime(clock::REALTIME);
        // SAFETY: valid pointers.
        assert_eq!(unsafe { (vdso.gettimeofday)(&mut tv, std::ptr::null_mut()) }, 0);
        let (_, after) = sys_gettime(clock::REALTIME);
        let us = tv.tv_sec as i128 * 1_000_000 + tv.tv_usec as i128;
        assert!(ns(&before) / 1000 <= us && us <= ns(&after) / 1000, "{what}");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(trap.take_reads(), 0, "{what}: no counter read in mode NONE");
    }
}

#[test]
fn a_time_namespace_shifts_exactly_by_its_offsets_and_leaves_the_rest_on_the_real_page() {
    let offsets = TimensOffsets {
        monotonic: StubTs { sec: 1_000_000, nsec: 900_000_000 },
        boottime: StubTs { sec: -3_000, nsec: 0 },
    };
    for v in variants() {
        let vdso = Vdso::map_variant_timens(v, offsets);
        let what = row(&vdso);
        // mult 0: the counter does not matter, so the result is exact on both arches.
        let aux = fill(&vdso, 0, 0, 24);
        let mut w = vdso.page_writer();
        w.update(|pair| {
            pair[0].tz_minuteswest = -330;
            pair[0].hrtimer_res = 3;
        });
        drop(w);
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC).1), (5_000 + 1_000_000, 900_000_200), "{what}");
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC_COARSE).1), (4_999 + 1_000_000, 900_000_123), "{what}");
        assert_eq!(key(&vdso.gettime(clock::MONOTONIC_RAW).1), (7_000 + 1_000_000, 900_000_500), "{what}");
        assert_eq!(key(&vdso.gettime(clock::BOOTTIME).1), (6_000 - 3_000, 300), "{what}");
        assert_eq!(key(&vdso.gettime(clock::REALTIME).1), (1_700_000_000, 100), "{what}: REALTIME unshifted");
        assert_eq!(key(&vdso.gettime(clock::REALTIME_COARSE).1), (1_699_999_999, 999_999_999), "{what}");
        assert_eq!(key(&vdso.gettime(clock::TAI).1), (1_700_000_037, 400), "{what}");
        // Auxiliary clocks are not shifted by a namespace: read from the real page, unshifted.
        for &(clk, sec, snsec) in &aux {
            assert_eq!(
                key(&vdso.gettime(clk).1),
                (sec as i64, (snsec >> 24) as i64),
                "{what}: aux clock {clk}"
            );
        }
        assert_eq!(vdso.getres(clock::MONOTONIC).1.tv_nsec, 3, "{what}: getres from the real page");
        let mut tz = Timezone::default();
        // SAFETY: NULL tv allowed; `tz` a local.
        assert_eq!(unsafe { (vdso.gettimeofday)(std::ptr::null_mut(), &mut tz) }, 0);
        assert_eq!(tz.minuteswest, -330, "{what}: tz from the real page");
        // `time` exists on x86_64 only (riscv64 Linux exports none).
        #[cfg(target_arch = "x86_64")]
        {
            let time = vdso.time();
            // SAFETY: NULL allowed.
            assert_eq!(
                unsafe { time(std::ptr::null_mut()) },
                1_700_000_000,
                "{what}: time from the real page"
            );
        }
    }
}
