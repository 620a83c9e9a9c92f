//! Auxiliary clocks (ids 16..23) of the modern profile: served from `aux_clock_data` under each
//! clock's own `seq`, the syscall for a disabled one, no namespace offset.

use vdso_abi::clock_mode;
use vdso_abi::modern::{CLOCK_AUX, MAX_AUX_CLOCKS, VDSO_BASE_AUX};

use super::page::{counter_mode, set_base, TestPages};
use crate::arch::{self, Syscall};
use crate::clock::{self as c, Timespec};
use crate::data::TIMENS_PAGE;

fn gettime(clock: i32) -> (i32, Timespec) {
    let mut ts = Timespec { tv_sec: -1, tv_nsec: -1 };
    // SAFETY: a local.
    (unsafe { c::clock_gettime(clock, &mut ts) }, ts)
}

fn getres(clock: i32) -> (i32, Timespec) {
    let mut ts = Timespec { tv_sec: -1, tv_nsec: -1 };
    // SAFETY: a local.
    (unsafe { c::clock_getres(clock, &mut ts) }, ts)
}

/// Pages whose aux clock `idx` runs at 1 ns per cycle from `sec` seconds; every other aux clock
/// disabled, and the main clocks without a counter (so nothing of theirs can be what is read).
fn pages_with_aux(page: usize, idx: usize, sec: u64) -> TestPages {
    let mut p = TestPages::new();
    p.page0()[0].clock_mode = clock_mode::NONE;
    let aux = p.aux(page, idx);
    counter_mode(aux);
    set_base(aux, VDSO_BASE_AUX as i32, sec, 0);
    p
}

#[test]
fn an_enabled_aux_clock_is_served_from_its_own_struct_without_a_syscall() {
    for idx in 0..MAX_AUX_CLOCKS {
        let _p = pages_with_aux(0, idx, 500 + idx as u64);
        arch::set_counter(1_250_000_000);
        let id = CLOCK_AUX + idx as i32;
        assert_eq!(
            gettime(id),
            (0, Timespec { tv_sec: 501 + idx as i64, tv_nsec: 250_000_000 }),
            "aux {idx}"
        );
        assert_eq!(arch::take_syscall(), None);
        assert_eq!(getres(id), (0, Timespec { tv_sec: 0, tv_nsec: 1 }));
        assert_eq!(arch::take_syscall(), None);
    }
}

#[test]
fn a_disabled_aux_clock_goes_to_the_syscall_with_its_answer_unchanged() {
    let _p = pages_with_aux(0, 3, 7);
    arch::set_syscall_result(-19); // -ENODEV, as Linux answers for a disabled aux clock
    for id in [CLOCK_AUX, CLOCK_AUX + 7] {
        assert_eq!(gettime(id).0, -19);
        assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_gettime", arg0: id as i64 }));
        assert_eq!(getres(id).0, -19);
        assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_getres", arg0: id as i64 }));
    }
    assert_eq!(arch::take_counter_reads(), 0);
}

#[test]
fn ids_next_to_the_aux_range_go_to_the_syscall() {
    let _p = pages_with_aux(0, 0, 7);
    for id in [CLOCK_AUX - 1, CLOCK_AUX + MAX_AUX_CLOCKS as i32] {
        gettime(id);
        assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_gettime", arg0: id as i64 }));
        getres(id);
        assert_eq!(arch::take_syscall(), Some(Syscall { name: "clock_getres", arg0: id as i64 }));
    }
}

#[test]
fn an_aux_clock_follows_its_own_seq_not_the_main_clocks() {
    let mut p = pages_with_aux(0, 2, 10);
    // The main clocks' writer is mid-update; the aux clock's is not.
    p.page0()[0].seq = 3;
    arch::set_counter(5);
    assert_eq!(gettime(CLOCK_AUX + 2), (0, Timespec { tv_sec: 10, tv_nsec: 5 }));
    // Its own seq changing during the read makes it read again (the hook plays the writer once).
    p.aux(0, 2).seq = 0;
    let aux = &raw mut p.aux(0, 2).seq;
    let mut fired = false;
    arch::set_counter_hook(Some(Box::new(move || {
        if !fired {
            fired = true;
            // SAFETY: the test's own page; the reader re-reads `seq` after the counter.
            unsafe { *aux = 2 };
        }
    })));
    assert_eq!(gettime(CLOCK_AUX + 2).0, 0);
    assert_eq!(arch::take_counter_reads(), 2 + 1, "read once more after seq changed");
    arch::set_counter_hook(None);
}

#[test]
fn in_a_time_namespace_aux_clocks_are_the_real_pages_without_offset() {
    let mut p = pages_with_aux(TIMENS_PAGE, 1, 40);
    for vd in p.page0() {
        vd.seq = 1;
        vd.clock_mode = clock_mode::TIMENS;
    }
    let ns_aux = p.aux(0, 1);
    ns_aux.seq = 1;
    ns_aux.clock_mode = clock_mode::TIMENS;
    arch::set_counter(3);
    assert_eq!(gettime(CLOCK_AUX + 1), (0, Timespec { tv_sec: 40, tv_nsec: 3 }));
    assert_eq!(getres(CLOCK_AUX + 1), (0, Timespec { tv_sec: 0, tv_nsec: 1 }));
    assert_eq!(arch::take_syscall(), None);
}
