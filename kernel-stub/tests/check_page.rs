//! `check_pages` on pages written by the `Timekeeper` (they pass) and on a corpus of broken
//! pages, each reproducing one mistake kernels make (issue 15), each rejected with exactly its
//! own findings. The native layout is used, so the corpus runs for every arch's layout (x86_64
//! natively, the others under qemu-user).

use std::ptr::NonNull;

use vdso_abi::{clock, clock_mode, offsets, Profile, CS_RAW};
use vdso_kernel_stub::check::{check_pages, CheckError, CheckOptions, Finding};
use vdso_kernel_stub::timens::timens_page;
use vdso_kernel_stub::update::{ClockConfig, Times};
use vdso_kernel_stub::{
    clocks_calc_mult_shift, layout, ArchLayout, NativeArchData, SeqlockWriter, Timekeeper, TimensOffsets,
    Timespec,
};

/// A 100 MHz counter's conversion.
fn config() -> ClockConfig {
    let (mult, shift) = clocks_calc_mult_shift(100_000_000, 1_000_000_000, 600);
    ClockConfig { mult, shift, mask: u64::MAX }
}

/// A kernel up for 100 s, wall clock in 2023, 37 s TAI offset, 2 s suspended.
fn timekeeper() -> Timekeeper {
    let times = Times {
        monotonic: Timespec::new(100, 123_456_789),
        realtime: Timespec::new(1_700_000_000, 500_000_000),
        boot_offset: Timespec::new(2, 0),
        tai_offset: Timespec::new(37, 0),
        raw: Timespec::new(100, 120_000_000),
    };
    Timekeeper::new(config(), 1_000_000, &times).unwrap()
}

/// The data pages of the native layout, 8-aligned, zeroed.
struct Pages {
    layout: ArchLayout,
    words: Vec<u64>,
}

impl Pages {
    fn new() -> Pages {
        let layout = ArchLayout::native();
        Pages { layout, words: vec![0; layout.data_pages * layout.page_size / 8] }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: u64s viewed as their bytes, same length in bytes, shared borrow.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr().cast(), self.words.len() * 8) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as `bytes`, exclusively borrowed.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.words.len() * 8) }
    }

    fn page_ptr(&mut self, page: usize) -> *mut u8 {
        self.bytes_mut().as_mut_ptr().wrapping_add(page * self.layout.page_size)
    }

    /// Publishes `tk` on data page `page` through the seqlock writer, as a kernel does.
    fn publish(&mut self, page: usize, tk: &Timekeeper) {
        let pair = NonNull::new(layout::vdso_data_ptr::<NativeArchData>(self.page_ptr(page))).unwrap();
        // SAFETY: the pair lies inside `self.words` (the layout's offset and size fit a page),
        // 8-aligned, and nothing else writes it while the writer lives.
        let mut w = unsafe { SeqlockWriter::new(pair) };
        tk.publish(&mut w);
    }

    /// Byte offset of field `off` of `vdso_data[index]` on data page `page`.
    fn at(&self, page: usize, index: usize, off: usize) -> usize {
        page * self.layout.page_size + self.layout.vdso_data_offset + index * self.layout.vdso_data_size + off
    }

    fn put_u32(&mut self, at: usize, v: u32) {
        self.bytes_mut()[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn put_u64(&mut self, at: usize, v: u64) {
        self.bytes_mut()[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn get_u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.bytes()[at..at + 8].try_into().unwrap())
    }

    fn base_at(&self, index: usize, clock: i32) -> usize {
        self.at(self.layout.vvar_page, index, offsets::BASETIME + 16 * clock as usize)
    }

    fn check(&self, opts: &CheckOptions<'_>) -> Vec<Finding> {
        check_pages(&self.layout, self.bytes(), opts).expect("checkable").iter().copied().collect()
    }
}

/// Good pages: published twice, the counter read after the second publish.
fn good() -> (Pages, Pages, u64) {
    let mut tk = timekeeper();
    let mut first = Pages::new();
    first.publish(first.layout.vvar_page, &tk);
    tk.advance(1_000_000 + 400_000); // 4 ms later: one tick at 250 Hz
    let mut later = Pages::new();
    later.publish(later.layout.vvar_page, &tk);
    later.publish(later.layout.vvar_page, &tk);
    (first, later, 1_400_123)
}

fn assert_only(found: &[Finding], want: &[Finding]) {
    assert_eq!(found, want, "\nfound: {:#?}", found.iter().map(ToString::to_string).collect::<Vec<_>>());
}

#[test]
fn pages_written_by_the_timekeeper_pass() {
    let (first, later, counter) = good();
    let opts = CheckOptions { counter: Some(counter), later: Some(later.bytes()), timens: false };
    assert_only(&first.check(&opts), &[]);
    assert_only(&later.check(&CheckOptions::default()), &[]);
}

/// A boot offset estimated a nanosecond below 0 (as the ticker's, from host reads, can be) is
/// published as 0: BOOTTIME never before MONOTONIC.
#[test]
fn a_negative_boot_offset_never_puts_boottime_before_monotonic() {
    let mut tk = timekeeper();
    tk.set_boot_offset(-1);
    let mut p = Pages::new();
    p.publish(p.layout.vvar_page, &tk);
    assert_only(&p.check(&CheckOptions::default()), &[]);
    let times = Times {
        monotonic: Timespec::new(9, 0),
        boot_offset: Timespec::from_nanos(-1),
        realtime: Timespec::new(1_700_000_000, 0),
        raw: Timespec::new(9, 0),
        ..Times::default()
    };
    let tk = Timekeeper::new(config(), 0, &times).unwrap();
    let mut p = Pages::new();
    p.publish(p.layout.vvar_page, &tk);
    assert_only(&p.check(&CheckOptions::default()), &[]);
}

#[test]
fn a_namespace_page_from_timens_page_and_the_real_page_at_the_slot_pass() {
    let mut p = Pages::new();
    let l = p.layout;
    p.publish(l.timens_page, &timekeeper());
    let ns = timens_page::<NativeArchData>(&TimensOffsets {
        monotonic: Timespec::new(-50, 0),
        boottime: Timespec::new(3600, 0),
    });
    let pair = layout::vdso_data_ptr::<NativeArchData>(p.page_ptr(l.vvar_page));
    // SAFETY: the pair lies inside the buffer, aligned, no other reference to it.
    unsafe { pair.write(ns) };
    assert_only(&p.check(&CheckOptions { timens: true, ..CheckOptions::default() }), &[]);
}

/// A kernel whose `struct vdso_data` has 4 more bytes before `hrtimer_res` (issue 15): the image
/// reads 0 there, and `[1]` (240 bytes in) starts inside the kernel's `[0]`.
#[test]
fn a_struct_four_bytes_too_long_moves_hrtimer_res() {
    let (good, _, _) = good();
    let size = good.layout.vdso_data_size;
    let mut p = Pages::new();
    let start = p.at(p.layout.vvar_page, 0, 0);
    // The kernel's struct: ours with a u32 inserted before tz_minuteswest, padded to 8 bytes.
    let theirs_size = (size + 4).next_multiple_of(8);
    for i in 0..2 {
        let ours = &good.bytes()[start + i * size..start + (i + 1) * size];
        let mut theirs = ours[..offsets::TZ_MINUTESWEST].to_vec();
        theirs.extend_from_slice(&[0; 4]);
        theirs.extend_from_slice(&ours[offsets::TZ_MINUTESWEST..]);
        let at = start + i * theirs_size;
        p.bytes_mut()[at..at + theirs.len()].copy_from_slice(&theirs);
    }
    let found = p.check(&CheckOptions::default());
    // hrtimer_res reads the kernel's tz_dsttime; the real resolution (1 ns) is the next word.
    let res = found.iter().find(|f| matches!(f, Finding::HrtimerResZero { .. })).expect("hrtimer_res found");
    assert_eq!(*res, Finding::HrtimerResZero { next_word: 1 });
    assert!(res.to_string().contains("4 bytes longer"), "{res}");
    // [1] is read 8 bytes early: its clock_mode is the kernel's padding, so MONOTONIC_RAW is lost.
    assert_only(
        &found,
        &[
            Finding::ClockModesDiffer { hres: clock_mode::ARCH, raw: 0 },
            Finding::HrtimerResZero { next_word: 1 },
        ],
    );
}

#[test]
fn tai_and_coarse_bases_never_written_are_named() {
    let (mut p, _, _) = good();
    for id in [clock::TAI, clock::REALTIME_COARSE, clock::MONOTONIC_COARSE] {
        let at = p.base_at(0, id);
        p.put_u64(at, 0);
        p.put_u64(at + 8, 0);
    }
    let f = p.check(&CheckOptions::default());
    assert_only(
        &f,
        &[
            Finding::BaseUnwritten { index: 0, clock: clock::TAI },
            Finding::BaseUnwritten { index: 0, clock: clock::REALTIME_COARSE },
            Finding::BaseUnwritten { index: 0, clock: clock::MONOTONIC_COARSE },
        ],
    );
    assert!(f[0].to_string().contains("basetime[TAI] (11) = 0 s 0 ns"), "{}", f[0]);
}

#[test]
fn monotonic_raw_never_written_in_the_second_struct_is_named() {
    let (mut p, _, _) = good();
    let at = p.base_at(CS_RAW, clock::MONOTONIC_RAW);
    p.put_u64(at, 0);
    p.put_u64(at + 8, 0);
    assert_only(
        &p.check(&CheckOptions::default()),
        &[Finding::BaseUnwritten { index: 1, clock: clock::MONOTONIC_RAW }],
    );
}

/// A seqlock written 1 while updating and 0 after: odd while a look catches it, and never
/// advancing between two looks a tick apart.
#[test]
fn a_seqlock_written_one_then_zero_is_odd_or_never_advancing() {
    let (mut first, mut later, counter) = good();
    let seq0 = first.at(first.layout.vvar_page, 0, offsets::SEQ);
    let seq1 = first.at(first.layout.vvar_page, 1, offsets::SEQ);
    for p in [&mut first, &mut later] {
        p.put_u32(seq0, 0);
        p.put_u32(seq1, 0);
    }
    let opts = CheckOptions { counter: Some(counter), later: Some(later.bytes()), timens: false };
    assert_only(
        &first.check(&opts),
        &[Finding::SeqNotAdvancing { index: 0, seq: 0 }, Finding::SeqNotAdvancing { index: 1, seq: 0 }],
    );
    // Caught mid-update: seq 1 in both structs.
    first.put_u32(seq0, 1);
    first.put_u32(seq1, 1);
    let f = first.check(&CheckOptions::default());
    assert_only(&f, &[Finding::SeqOdd { index: 0, seq: 1 }, Finding::SeqOdd { index: 1, seq: 1 }]);
    assert!(f[0].to_string().contains("vdso_data[0].seq = 1: odd"), "{}", f[0]);
}

/// The data registered at the wrong page (as a KVM clock page once was): the page the image
/// reads is empty, the data is on another page.
#[test]
fn data_at_the_wrong_page_is_found_there() {
    let mut p = Pages::new();
    let l = p.layout;
    let wrong = (l.vvar_page + 1) % l.data_pages;
    p.publish(wrong, &timekeeper());
    let f = p.check(&CheckOptions::default());
    assert_only(&f, &[Finding::NothingWritten { page: l.vvar_page, found_on: Some(wrong) }]);
    assert!(f[0].to_string().contains("wrong page"), "{}", f[0]);
    // Nothing written anywhere.
    assert_only(
        &Pages::new().check(&CheckOptions::default()),
        &[Finding::NothingWritten { page: l.vvar_page, found_on: None }],
    );
}

/// A namespace page written through the seqlock (seq 2) or without TIMENS in `[1]`.
#[test]
fn a_wrong_namespace_page_is_rejected() {
    let mut p = Pages::new();
    let l = p.layout;
    p.publish(l.timens_page, &timekeeper());
    let ns = timens_page::<NativeArchData>(&TimensOffsets::default());
    let pair = layout::vdso_data_ptr::<NativeArchData>(p.page_ptr(l.vvar_page));
    // SAFETY: the pair lies inside the buffer, aligned, no other reference to it.
    unsafe { pair.write(ns) };
    p.put_u32(p.at(l.vvar_page, 0, offsets::SEQ), 2);
    p.put_u32(p.at(l.vvar_page, 1, offsets::CLOCK_MODE), 0);
    let f = p.check(&CheckOptions::default());
    assert_only(
        &f,
        &[
            Finding::BadNamespacePage { index: 0, seq: 2, mode: clock_mode::TIMENS },
            Finding::BadNamespacePage { index: 1, seq: 1, mode: 0 },
        ],
    );
    // A task said to be in a namespace whose page 0 is plain data.
    let (good, _, _) = good();
    let f = good.check(&CheckOptions { timens: true, ..CheckOptions::default() });
    assert!(matches!(f[0], Finding::BadNamespacePage { index: 0, mode: clock_mode::ARCH, .. }), "{f:#?}");
}

/// Each field mistake yields exactly its finding.
#[test]
fn field_mistakes_each_yield_their_own_finding() {
    let v = |p: &Pages| p.layout.vvar_page;
    type Mutate = fn(&mut Pages, usize);
    let cases: [(Mutate, Vec<Finding>); 7] = [
        (|p, pg| p.put_u32(p.at(pg, 0, offsets::MULT), 0), vec![Finding::MultZero { index: 0 }]),
        (
            |p, pg| p.put_u32(p.at(pg, 1, offsets::SHIFT), 33),
            vec![Finding::ShiftTooLarge { index: 1, shift: 33 }],
        ),
        (
            |p, pg| {
                p.put_u32(p.at(pg, 0, offsets::CLOCK_MODE), 7);
                p.put_u32(p.at(pg, 1, offsets::CLOCK_MODE), 7);
            },
            vec![
                Finding::UnknownClockMode { index: 0, mode: 7 },
                Finding::UnknownClockMode { index: 1, mode: 7 },
            ],
        ),
        (
            |p, pg| p.put_u32(p.at(pg, 0, offsets::HRTIMER_RES), 0),
            vec![Finding::HrtimerResZero { next_word: 0 }],
        ),
        (
            |p, _| {
                // BOOTTIME a second before MONOTONIC.
                let (m, b) = (p.base_at(0, clock::MONOTONIC), p.base_at(0, clock::BOOTTIME));
                let (sec, nsec) = (p.get_u64(m), p.get_u64(m + 8));
                p.put_u64(b, sec - 1);
                p.put_u64(b + 8, nsec);
            },
            vec![],
        ),
        (
            |p, _| {
                // TAI one nanosecond off a whole number of seconds from REALTIME.
                let t = p.base_at(0, clock::TAI);
                let shift = config().shift;
                p.put_u64(t + 8, p.get_u64(t + 8) + (1 << shift));
            },
            vec![],
        ),
        (
            |p, _| {
                let c = p.base_at(0, clock::REALTIME_COARSE);
                p.put_u64(c, p.get_u64(c) + 1);
            },
            vec![],
        ),
    ];
    for (i, (mutate, want)) in cases.into_iter().enumerate() {
        let (mut p, _, _) = good();
        let page = v(&p);
        mutate(&mut p, page);
        let found = p.check(&CheckOptions::default());
        match i {
            4 => assert!(matches!(found[..], [Finding::MonotonicAfterBoottime { .. }]), "{found:#?}"),
            5 => assert!(matches!(found[..], [Finding::TaiNotWholeSeconds { .. }]), "{found:#?}"),
            6 => assert!(
                matches!(found[..], [Finding::CoarseAhead { clock: clock::REALTIME_COARSE, .. }]),
                "{found:#?}"
            ),
            _ => assert_only(&found, &want),
        }
        assert!(!found[0].to_string().is_empty());
    }
}

/// Only `vdso_data[1]`'s seq stuck (MONOTONIC_RAW readers use it): named with its index.
#[test]
fn a_stuck_seq_in_the_second_struct_is_named() {
    let (first, mut later, _) = good();
    let seq1 = first.at(first.layout.vvar_page, 1, offsets::SEQ);
    let old = u32::from_le_bytes(first.bytes()[seq1..seq1 + 4].try_into().unwrap());
    later.put_u32(seq1, old);
    let opts = CheckOptions { later: Some(later.bytes()), ..CheckOptions::default() };
    assert_only(&first.check(&opts), &[Finding::SeqNotAdvancing { index: 1, seq: old }]);
}

/// A mask of 0 (or not 2^n - 1) loses the counter delta; a shift over 32 is named alone (the
/// COARSE comparison, which needs the shift, is skipped).
#[test]
fn a_bad_mask_or_shift_is_named_alone() {
    let (mut p, _, _) = good();
    let page = p.layout.vvar_page;
    p.put_u64(p.at(page, 0, offsets::MASK), 0);
    p.put_u64(p.at(page, 1, offsets::MASK), 0xff00);
    assert_only(
        &p.check(&CheckOptions::default()),
        &[Finding::BadMask { index: 0, mask: 0 }, Finding::BadMask { index: 1, mask: 0xff00 }],
    );
    let (mut p, _, _) = good();
    p.put_u32(p.at(page, 0, offsets::SHIFT), 33);
    assert_only(&p.check(&CheckOptions::default()), &[Finding::ShiftTooLarge { index: 0, shift: 33 }]);
}

/// PVCLOCK/HVCLOCK are modes only where the row has paravirtual clocks (x86_64).
#[test]
fn paravirtual_clock_modes_are_known_only_where_the_arch_has_them() {
    let (mut p, _, _) = good();
    let page = p.layout.vvar_page;
    for i in 0..2 {
        p.put_u32(p.at(page, i, offsets::CLOCK_MODE), clock_mode::PVCLOCK as u32);
    }
    let found = p.check(&CheckOptions::default());
    if p.layout.arch.info().paravirt_clocks {
        assert_only(&found, &[]);
    } else {
        let mode = clock_mode::PVCLOCK;
        assert_only(
            &found,
            &[Finding::UnknownClockMode { index: 0, mode }, Finding::UnknownClockMode { index: 1, mode }],
        );
    }
}

/// A layout no row can have is an error, never a panic or a wrong verdict.
#[test]
fn impossible_layouts_are_refused() {
    let l = ArchLayout::native();
    assert_eq!(l.with_page_size(usize::MAX / 2 + 1), None);
    for page_size in [0, 100, 4095, usize::MAX / 2 + 1, 1 << 20] {
        let bad = ArchLayout { page_size, ..l };
        assert_eq!(
            check_pages(&bad, &[0u8; 16], &CheckOptions::default()).unwrap_err(),
            CheckError::BadLayout { page_size }
        );
    }
    let huge = ArchLayout { data_pages: usize::MAX, ..l };
    assert!(check_pages(&huge, &[0u8; 16], &CheckOptions::default()).is_err());
    let wide = ArchLayout { vdso_data_size: usize::MAX, ..l };
    assert!(check_pages(&wide, &[0u8; 16], &CheckOptions::default()).is_err());
}

#[test]
fn cycle_last_ahead_of_the_counter_is_named() {
    let (p, _, _) = good();
    let last = p.get_u64(p.at(p.layout.vvar_page, 0, offsets::CYCLE_LAST));
    let f = p.check(&CheckOptions { counter: Some(last - 5), ..CheckOptions::default() });
    assert_only(
        &f,
        &[
            Finding::CycleLastAhead { index: 0, cycle_last: last, counter: last - 5 },
            Finding::CycleLastAhead { index: 1, cycle_last: last, counter: last - 5 },
        ],
    );
    // At or after cycle_last is fine.
    assert_only(&p.check(&CheckOptions { counter: Some(last), ..CheckOptions::default() }), &[]);
}

#[test]
fn wrong_lengths_and_unchecked_profiles_are_errors_not_panics() {
    let (p, _, _) = good();
    let l = p.layout;
    let e = check_pages(&l, &p.bytes()[1..], &CheckOptions::default()).unwrap_err();
    assert_eq!(e, CheckError::WrongLength { len: p.bytes().len() - 1, expected: p.bytes().len() });
    let e = check_pages(&l, p.bytes(), &CheckOptions { later: Some(&[0; 8]), ..CheckOptions::default() });
    assert!(matches!(e, Err(CheckError::WrongLength { len: 8, .. })));
    // Every architecture has both profiles now (`CheckError::Profile` is for a layout without a
    // description); a good classic page judged as a modern one is not passed: the modern
    // `hrtimer_res` (byte 2248 on loongarch64) is unwritten there.
    let other = ArchLayout { arch: vdso_abi::Arch::Loongarch64, profile: Profile::Modern, ..l };
    let findings = check_pages(&other, p.bytes(), &CheckOptions::default()).expect("judged");
    assert!(findings.iter().any(|f| matches!(f, Finding::HrtimerResZero { .. })), "{findings:?}");
}

proptest::proptest! {
    /// Whatever the bytes, the checker answers (findings or an error), never panics.
    #[test]
    fn any_bytes_are_judged_without_panicking(seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
                                              counter in proptest::prelude::any::<Option<u64>>(),
                                              timens in proptest::prelude::any::<bool>()) {
        let mut p = Pages::new();
        let n = p.bytes().len();
        for (i, b) in seed.iter().enumerate() {
            let at = (i * 7919 + *b as usize * 31) % n;
            p.bytes_mut()[at] = *b;
            // Scatter some bytes over the structs, where the checks look.
            let s = p.at(p.layout.vvar_page, 0, (i * 13) % (2 * p.layout.vdso_data_size));
            p.bytes_mut()[s.min(n - 1)] = b.wrapping_mul(37);
        }
        let later = p.bytes().to_vec();
        let r = check_pages(&p.layout, p.bytes(), &CheckOptions { counter, later: Some(&later), timens });
        let findings = r.expect("right length");
        for f in findings.iter() {
            proptest::prop_assert!(!f.to_string().is_empty());
        }
    }
}

#[test]
fn rng_data_ready_at_generation_zero_is_named_and_ready_after_a_generation_is_not() {
    let (mut first, _, _) = good();
    let offset = first.layout.rng_data_offset.expect("the native row has getrandom");
    let at = first.layout.vvar_page * first.layout.page_size + offset;
    // Not ready (a fresh page): no finding; every call takes the syscall.
    assert_only(&first.check(&CheckOptions::default()), &[]);
    // Ready at generation 0: a zeroed state would never draw a key.
    first.bytes_mut()[at + 8] = 1;
    assert_only(&first.check(&CheckOptions::default()), &[Finding::RngGenerationZero { is_ready: 1 }]);
    // As RngWriter publishes it: generation 1, then ready.
    first.put_u64(at, 1);
    assert_only(&first.check(&CheckOptions::default()), &[]);
}
