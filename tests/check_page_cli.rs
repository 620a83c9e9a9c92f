//! `vdso check-page` as a kernel author meets it: a dump of good pages passes, a broken one is
//! rejected naming each finding with exit status 3, unreadable input is one line and status 1,
//! and live pages pass: a process under `vdso run`, and a plain process's (the host kernel's
//! own, in the modern layout on Linux 6.17+).

mod common;

use std::fs;
use std::process::{Output, Stdio};
use std::ptr::NonNull;
use std::time::Duration;

use linux_vdso::abi::{clock, offsets};
use linux_vdso::Image;
use vdso_kernel_stub::update::{ClockConfig, Times};
use vdso_kernel_stub::{
    clocks_calc_mult_shift, layout, ArchLayout, NativeArchData, SeqlockWriter, Timekeeper, Timespec,
};

const LIMIT: Duration = Duration::from_secs(60);

fn vdso(args: &[&str]) -> Output {
    common::output_within(common::bin_command(env!("CARGO_BIN_EXE_vdso")).args(args), LIMIT)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The native default image's data pages, published `publishes` times by the Timekeeper at
/// counter `cycles` (each publish advances `seq` by 2).
fn dump(cycles: u64, publishes: usize) -> Vec<u8> {
    let layout = ArchLayout::native();
    let mut words = vec![0u64; layout.data_pages * layout.page_size / 8];
    let (mult, shift) = clocks_calc_mult_shift(100_000_000, 1_000_000_000, 600);
    let times = Times {
        monotonic: Timespec::new(500, 1),
        realtime: Timespec::new(1_700_000_000, 2),
        tai_offset: Timespec::new(37, 0),
        raw: Timespec::new(499, 0),
        ..Times::default()
    };
    let mut tk = Timekeeper::new(ClockConfig { mult, shift, mask: u64::MAX }, 1000, &times).unwrap();
    tk.advance(cycles);
    let page = words.as_mut_ptr().cast::<u8>().wrapping_add(layout.vvar_page * layout.page_size);
    let pair = NonNull::new(layout::vdso_data_ptr::<NativeArchData>(page)).unwrap();
    // SAFETY: the pair lies inside `words`, 8-aligned, written by this writer only.
    let mut w = unsafe { SeqlockWriter::new(pair) };
    for _ in 0..publishes {
        tk.publish(&mut w);
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[test]
fn a_good_dump_passes_and_a_broken_one_names_each_finding() {
    let dir = common::scratch_dir("check-page");
    let good = dir.join("good");
    fs::write(&good, dump(2000, 1)).unwrap();
    let later = dir.join("later");
    fs::write(&later, dump(500_000, 2)).unwrap();
    let o = vdso(&[
        "check-page",
        good.to_str().unwrap(),
        "--later",
        later.to_str().unwrap(),
        "--counter",
        "2001",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("no findings against"), "{}", stdout(&o));
    assert!(stdout(&o).contains("two looks, counter read"), "{}", stdout(&o));

    // The same page with TAI never written, judged against the image file's own row.
    let mut broken = dump(2000, 1);
    let l = ArchLayout::native();
    let tai = l.vvar_page * l.page_size + l.vdso_data_offset + offsets::BASETIME + 16 * clock::TAI as usize;
    broken[tai..tai + 16].fill(0);
    let hres = l.vvar_page * l.page_size + l.vdso_data_offset + offsets::HRTIMER_RES;
    broken[hres..hres + 4].fill(0);
    let bad = dir.join("bad");
    fs::write(&bad, &broken).unwrap();
    let image = dir.join("image.so");
    fs::write(&image, Image::native().unwrap().bytes()).unwrap();
    let o = vdso(&["check-page", bad.to_str().unwrap(), "--image", image.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("2 finding(s)"), "{err}");
    assert!(err.contains("basetime[TAI] (11) = 0 s 0 ns: never written"), "{err}");
    assert!(err.contains("hrtimer_res = 0"), "{err}");
}

#[test]
fn unreadable_or_misfit_input_is_one_line_and_status_one() {
    let dir = common::scratch_dir("check-page-bad");
    let short = dir.join("short");
    fs::write(&short, [0u8; 100]).unwrap();
    let o = vdso(&["check-page", short.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("100 bytes of data pages given"), "{}", stderr(&o));
    let o = vdso(&["check-page", dir.join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // A page size no row has.
    let o = vdso(&["check-page", short.to_str().unwrap(), "--page-size", "8192"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("8192-byte pages; this project builds"), "{}", stderr(&o));
    let o = vdso(&["check-page"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Under qemu-user, `/proc/PID/maps` of another process is the host's view of the qemu process,
/// not the guest's: live-process tests run only where the test binary is the machine's own.
fn native_machine() -> bool {
    let arch = fs::read_to_string("/proc/sys/kernel/arch").unwrap_or_default();
    arch.trim() == std::env::consts::ARCH
}

fn spawn(args: &[&str]) -> std::process::Child {
    common::bin_command(args[0]).args(&args[1..]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

/// Waits until `pid`'s maps contain `needle` (the launcher has mapped its pages).
fn wait_for_maps(pid: u32, needle: &str) {
    for _ in 0..400 {
        if fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default().contains(needle) {
            return;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("process {pid} never mapped {needle}");
}

#[test]
fn a_process_under_vdso_run_passes() {
    if !native_machine() {
        eprintln!("skipped: under qemu-user other processes' /proc maps are the host's");
        return;
    }
    // Default HZ, and a writer ticking at 10 Hz (the second look must wait for its tick).
    for hz in ["250", "10"] {
        let mut child = spawn(&[env!("CARGO_BIN_EXE_vdso"), "run", "--hz", hz, "--", "sleep", "20"]);
        wait_for_maps(child.id(), "/memfd:vdso-data");
        // The launcher maps the image right after its data pages; wait for the program to load.
        std::thread::sleep(Duration::from_millis(300));
        // Many looks: one taken mid-write must retry as a reader does, never report "seq odd",
        // and the ticker's BOOTTIME must never be a nanosecond before MONOTONIC.
        let looks = if hz == "250" { 20 } else { 3 };
        let pid = child.id().to_string();
        let outputs: Vec<Output> = (0..looks).map(|_| vdso(&["check-page", "--pid", &pid])).collect();
        // What the user says to expect must be the process's row (this machine's default, classic,
        // 4 KiB): the same options pass, others are refused naming the row the pages are.
        let arch = linux_vdso::Arch::native().expect("a row of the table").name();
        let same = vdso(&["check-page", "--pid", &pid, "--profile", "classic", "--arch", arch]);
        let other = vdso(&["check-page", "--pid", &pid, "--profile", "modern", "--page-size", "16384"]);
        let _ = child.kill();
        let _ = child.wait();
        for o in outputs {
            assert_eq!(o.status.code(), Some(0), "--hz {hz}: {}{}", stdout(&o), stderr(&o));
            let out = stdout(&o);
            assert!(out.contains("no findings against") && out.contains("two looks, counter read"), "{out}");
        }
        assert_eq!(same.status.code(), Some(0), "{}{}", stdout(&same), stderr(&same));
        assert_eq!(other.status.code(), Some(1), "{}{}", stdout(&other), stderr(&other));
        assert!(
            stderr(&other).contains(&format!(
                "its pages are {arch} (classic profile, 4096-byte pages), not what --profile modern --page-size \
                 16384 asks for"
            )),
            "{}",
            stderr(&other)
        );
        assert!(stdout(&other).is_empty(), "no verdict: {}", stdout(&other));
    }
}

#[test]
fn a_plain_process_has_the_host_kernels_live_pages_judged() {
    if !native_machine() {
        eprintln!("skipped: under qemu-user other processes' /proc maps are the host's");
        return;
    }
    let mut child = spawn(&["sleep", "20"]);
    std::thread::sleep(Duration::from_millis(100));
    let o = vdso(&["check-page", "--pid", &child.id().to_string()]);
    let _ = child.kill();
    let _ = child.wait();
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut v = release.trim().split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (v.next().unwrap_or(0), v.next().unwrap_or(0));
    if version >= linux_vdso::abi::modern::MIN_KERNEL {
        // The host kernel's own live pages, in the modern layout, pass.
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("no findings against") && out.contains("-modern (modern profile"), "{out}");
        assert!(out.contains("the host kernel's pages"), "{out}");
    } else if version >= (6, 15) {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("only 6.17+"), "{}", stderr(&o));
    } else {
        // A classic host: judged like any page.
        assert!(matches!(o.status.code(), Some(0 | 3)), "{}{}", stdout(&o), stderr(&o));
    }
    // A kernel thread (PID 2, kthreadd, where this PID namespace has it) has no pages at all.
    if fs::read_to_string("/proc/2/maps").is_ok_and(|m| m.is_empty()) {
        let o = vdso(&["check-page", "--pid", "2"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("process 2 has no address space"), "{}", stderr(&o));
    }
    let o = vdso(&["check-page", "--pid", "999999999"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot read /proc/999999999/maps"), "{}", stderr(&o));
}

#[test]
fn help_lists_exactly_the_exit_statuses_check_page_returns() {
    let o = vdso(&["check-page", "--help"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<i32> = common::exit_status_rows(&stdout(&o)).into_iter().map(|(c, _)| c).collect();
    // 0, 1, 2 and 3 are each returned by a case of the tests above.
    assert_eq!(rows, [0, 1, 2, 3]);
}
