//! The modern-profile x86_64 image on the host kernel's own live data pages.
//!
//! A forked child moves its `[vvar]` and `[vvar_vclock]` (Linux 6.17+ x86_64: 4 + 2 pages)
//! directly before our modern image and compares every clock the image answers with the host
//! kernel: raw syscalls in the child itself, and the host's own vDSO through the parent, whose
//! mappings stay where the kernel put them (the child's own kernel vDSO is broken once its pages
//! moved; the test harness's clocks must keep working, hence the fork). No writer of ours runs:
//! the kernel keeps those pages fresh.
//!
//! x86_64 only: qemu-user gives riscv64 and aarch64 guests no `[vvar]` to move, and only the
//! x86_64 host layout is checked (see `vdso_launcher::host_data`). On a host whose layout the
//! image does not speak (an older kernel, sealed mappings) the test says so and checks the
//! refusal instead.
#![cfg(target_arch = "x86_64")]

mod common;

use std::io::{Read, Write};
use std::os::fd::FromRawFd;

use common::harness::{
    ns, sys_getres, sys_gettime, ts_zero, ClockGettime, Getcpu, Gettimeofday, Time, Timezone, Ts,
};
use linux_vdso::Arch;
use vdso_kernel_stub::symbols::DynImage;
use vdso_launcher::host_data::{self, HostFacts, HostLayout};

/// The modern-profile x86_64 image.
fn modern_image() -> linux_vdso::Image {
    linux_vdso::Image::find(Arch::X86_64, linux_vdso::Profile::Modern, 4096).expect("the modern x86_64 image")
}

/// A request to the parent: run the host's own vDSO (through glibc) for one clock.
#[repr(u8)]
#[derive(Clone, Copy)]
enum Op {
    Gettime = 0,
    Getres = 1,
    Done = 2,
}

/// The parent's side: answers requests with the host's vDSO until the child is done.
fn serve(mut req: std::fs::File, mut resp: std::fs::File) {
    let mut buf = [0u8; 5];
    while req.read_exact(&mut buf).is_ok() {
        let clock = i32::from_le_bytes(buf[1..5].try_into().unwrap());
        let mut ts = Ts { tv_sec: -7, tv_nsec: -7 };
        // SAFETY: a valid timespec; glibc calls the host kernel's vDSO (or the syscall).
        let r = unsafe {
            match buf[0] {
                0 => libc::clock_gettime(clock, &mut ts),
                1 => libc::clock_getres(clock, &mut ts),
                _ => return,
            }
        };
        let r = if r == -1 { -std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { r };
        let mut out = [0u8; 20];
        out[..4].copy_from_slice(&r.to_le_bytes());
        out[4..12].copy_from_slice(&ts.tv_sec.to_le_bytes());
        out[12..].copy_from_slice(&ts.tv_nsec.to_le_bytes());
        if resp.write_all(&out).is_err() {
            return;
        }
    }
}

/// The child's handle on the parent's host vDSO.
struct Host {
    req: std::fs::File,
    resp: std::fs::File,
}

impl Host {
    fn call(&mut self, op: Op, clock: i32) -> (i32, Ts) {
        let mut b = [op as u8, 0, 0, 0, 0];
        b[1..].copy_from_slice(&clock.to_le_bytes());
        self.req.write_all(&b).expect("request");
        let mut out = [0u8; 20];
        self.resp.read_exact(&mut out).expect("response");
        let r = i32::from_le_bytes(out[..4].try_into().unwrap());
        let ts = Ts {
            tv_sec: i64::from_le_bytes(out[4..12].try_into().unwrap()),
            tv_nsec: i64::from_le_bytes(out[12..].try_into().unwrap()),
        };
        (r, ts)
    }
}

/// Our image's entry points, resolved from its dynamic tables where it is mapped.
struct Ours {
    clock_gettime: ClockGettime,
    clock_getres: ClockGettime,
    gettimeofday: Gettimeofday,
    time: Time,
    getcpu: Getcpu,
}

impl Ours {
    fn gettime(&self, clock: i32) -> (i32, Ts) {
        let mut ts = ts_zero();
        // SAFETY: a valid timespec; the image and its (moved) data pages are mapped.
        (unsafe { (self.clock_gettime)(clock, &mut ts) }, ts)
    }

    fn getres(&self, clock: i32) -> (i32, Ts) {
        let mut ts = Ts { tv_sec: -7, tv_nsec: -7 };
        // SAFETY: as above.
        (unsafe { (self.clock_getres)(clock, &mut ts) }, ts)
    }
}

const HRES: [i32; 5] = [0, 1, 4, 7, 11];
const COARSE: [i32; 2] = [5, 6];
/// Ids the image does not serve: CPU time, alarms, 10, 12..=15, the auxiliary clocks (disabled
/// or unsupported on this host), one past them, and nonsense.
const UNSERVED: [i32; 20] =
    [2, 3, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, -1, i32::MIN];

/// Every comparison, run in the child after the move; `Err` names the first mismatch.
fn compare(ours: &Ours, mut host: Option<&mut Host>) -> Result<String, String> {
    let mut report = String::new();
    let within = |a: &Ts, o: &Ts, b: &Ts| ns(a) <= ns(o) && ns(o) <= ns(b);
    // HRES and RAW: bracketed by the syscall and by the host's vDSO.
    for &id in &HRES {
        for _ in 0..200 {
            let s1 = sys_gettime(id);
            let o = ours.gettime(id);
            let s2 = sys_gettime(id);
            if o.0 != 0 || !within(&s1.1, &o.1, &s2.1) {
                return Err(format!("clock {id}: ours {o:?} not within the syscall's {s1:?}..{s2:?}"));
            }
            if let Some(host) = host.as_deref_mut() {
                let h1 = host.call(Op::Gettime, id);
                let o = ours.gettime(id);
                let h2 = host.call(Op::Gettime, id);
                if !within(&h1.1, &o.1, &h2.1) {
                    return Err(format!("clock {id}: ours {o:?} not within the host vDSO's {h1:?}..{h2:?}"));
                }
            }
        }
    }
    // COARSE: identical to the host's whenever the host's did not change around ours.
    for &id in &COARSE {
        let (mut exact, mut exact_sys) = (0, 0);
        for _ in 0..200 {
            if let Some(host) = host.as_deref_mut() {
                let h1 = host.call(Op::Gettime, id);
                let o = ours.gettime(id);
                let h2 = host.call(Op::Gettime, id);
                if ns(&h1.1) == ns(&h2.1) {
                    if (o.0, ns(&o.1)) != (0, ns(&h1.1)) {
                        return Err(format!(
                            "clock {id}: ours {o:?}, the host vDSO's {h1:?} before and after"
                        ));
                    }
                    exact += 1;
                } else if !within(&h1.1, &o.1, &h2.1) {
                    return Err(format!("clock {id}: ours {o:?} not within the host vDSO's {h1:?}..{h2:?}"));
                }
            }
            let s1 = sys_gettime(id);
            let o = ours.gettime(id);
            let s2 = sys_gettime(id);
            if ns(&s1.1) == ns(&s2.1) {
                if (o.0, ns(&o.1)) != (0, ns(&s1.1)) {
                    return Err(format!("clock {id}: ours {o:?}, the syscall's {s1:?} before and after"));
                }
                exact_sys += 1;
            } else if !within(&s1.1, &o.1, &s2.1) {
                return Err(format!("clock {id}: ours {o:?} not within the syscall's {s1:?}..{s2:?}"));
            }
        }
        if exact_sys < 100 || (host.is_some() && exact < 100) {
            return Err(format!("clock {id}: only {exact}/{exact_sys} of 200 reads fell inside one tick"));
        }
        let to_host = if host.is_some() { format!("the host vDSO {exact}/200, ") } else { String::new() };
        report.push_str(&format!(
            "clock {id}: identical within a tick to {to_host}the syscall {exact_sys}/200\n"
        ));
    }
    // Unserved ids: the kernel's answer, unchanged.
    for &id in &UNSERVED {
        let s1 = sys_gettime(id);
        let o = ours.gettime(id);
        let s2 = sys_gettime(id);
        if o.0 != s1.0 || (o.0 == 0 && !within(&s1.1, &o.1, &s2.1)) {
            return Err(format!("clock {id}: ours {o:?}, the syscall's {s1:?}..{s2:?}"));
        }
    }
    // clock_getres: the syscall's answer for every id (served ids also the host vDSO's).
    for id in HRES.iter().chain(&COARSE).chain(&UNSERVED).copied() {
        let s = sys_getres(id);
        let o = ours.getres(id);
        let same = |a: &(i32, Ts), b: &(i32, Ts)| a.0 == b.0 && (a.0 != 0 || ns(&a.1) == ns(&b.1));
        if !same(&o, &s) {
            return Err(format!("clock_getres({id}): ours {o:?}, the syscall's {s:?}"));
        }
        if let Some(host) = host.as_deref_mut().filter(|_| HRES.contains(&id) || COARSE.contains(&id)) {
            let h = host.call(Op::Getres, id);
            if !same(&o, &h) {
                return Err(format!("clock_getres({id}): ours {o:?}, the host vDSO's {h:?}"));
            }
        }
    }
    // gettimeofday: tz equal, tv within REALTIME's syscalls.
    let (mut sys_tv, mut sys_tz) = (libc::timeval { tv_sec: 0, tv_usec: 0 }, Timezone::default());
    // SAFETY: valid pointers; the raw syscall, not the vDSO.
    unsafe { libc::syscall(libc::SYS_gettimeofday, &mut sys_tv, &mut sys_tz) };
    let s1 = sys_gettime(0);
    let (mut tv, mut tz) =
        (libc::timeval { tv_sec: 0, tv_usec: 0 }, Timezone { minuteswest: -99, dsttime: -99 });
    // SAFETY: valid pointers.
    let r = unsafe { (ours.gettimeofday)(&mut tv, &mut tz) };
    let s2 = sys_gettime(0);
    let us = |t: &Ts| (t.tv_sec as i128) * 1_000_000 + (t.tv_nsec / 1000) as i128;
    let tv_us = tv.tv_sec as i128 * 1_000_000 + tv.tv_usec as i128;
    if r != 0 || tz != sys_tz || !(us(&s1.1) <= tv_us && tv_us <= us(&s2.1)) {
        return Err(format!(
            "gettimeofday: ours {r} {tv:?} {tz:?}, the syscall's tz {sys_tz:?}, REALTIME {s1:?}..{s2:?}"
        ));
    }
    // time: within the syscall's.
    // SAFETY: NULL is allowed.
    let t1 = unsafe { libc::syscall(libc::SYS_time, 0usize) };
    // SAFETY: NULL is allowed.
    let t = unsafe { (ours.time)(core::ptr::null_mut()) };
    // SAFETY: NULL is allowed.
    let t2 = unsafe { libc::syscall(libc::SYS_time, 0usize) };
    if !(t1 <= t && t <= t2) {
        return Err(format!("time: ours {t}, the syscall's {t1}..{t2}"));
    }
    // getcpu: the syscall's whenever the task stayed on one CPU around ours.
    let mut matched = false;
    for _ in 0..100 {
        let sys = || {
            let (mut c, mut n) = (u32::MAX, u32::MAX);
            // SAFETY: valid pointers.
            unsafe { libc::syscall(libc::SYS_getcpu, &mut c, &mut n, 0usize) };
            (c, n)
        };
        let a = sys();
        let (mut c, mut n) = (u32::MAX, u32::MAX);
        // SAFETY: valid pointers.
        let r = unsafe { (ours.getcpu)(&mut c, &mut n, core::ptr::null_mut()) };
        let b = sys();
        if a == b {
            if r != 0 || (c, n) != a {
                return Err(format!("getcpu: ours {r} {:?}, the syscall's {a:?}", (c, n)));
            }
            matched = true;
            break;
        }
    }
    if !matched {
        return Err("getcpu: the task never stayed on one CPU around a call".into());
    }
    // Live: the COARSE clock (only ever the page's published value) moves with the host's ticks.
    let c1 = ours.gettime(6);
    let nap = Ts { tv_sec: 0, tv_nsec: 60_000_000 };
    // SAFETY: a valid timespec; the raw syscall.
    unsafe { libc::syscall(libc::SYS_nanosleep, &nap, 0usize) };
    let c2 = ours.gettime(6);
    let moved = ns(&c2.1) - ns(&c1.1);
    if moved < 50_000_000 {
        return Err(format!("MONOTONIC_COARSE moved {moved} ns over a 60 ms sleep: the page is not live"));
    }
    report.push_str(&format!("MONOTONIC_COARSE moved {moved} ns over a 60 ms sleep\n"));
    Ok(report)
}

fn pipe() -> (std::fs::File, std::fs::File) {
    let mut fds = [0; 2];
    // SAFETY: a valid array for two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fresh descriptors we own.
    unsafe { (std::fs::File::from_raw_fd(fds[0]), std::fs::File::from_raw_fd(fds[1])) }
}

/// The host's layout, or `None` (having said why) on a host whose pages the image does not speak:
/// there the refusal is the behaviour, and it is checked to be one.
fn host_layout() -> Option<HostLayout> {
    let layout = HostLayout::of(Arch::X86_64).expect("x86_64 host layout");
    let facts = HostFacts::read().expect("host facts");
    match host_data::check(&layout, &facts) {
        Ok(()) => Some(layout),
        Err(refusal) => {
            eprintln!("skipped: this host's pages are not the modern layout: {refusal}");
            assert!(refusal.to_string().starts_with("--host-data: "));
            None
        }
    }
}

/// Maps the modern image into a reservation for the host's pages and resolves its entry points.
fn map_ours(layout: &HostLayout) -> (host_data::Reservation, Ours) {
    let image = modern_image();
    let r = host_data::reserve(layout, &image.bytes()[..image.load_size()], image.pages()).expect("reserve");
    // SAFETY: `reserve` mapped the image's bytes readable at `r.image`, for good.
    let mem = unsafe { std::slice::from_raw_parts(r.image as *const u8, image.load_size()) };
    let dynimg = DynImage::parse(mem).expect("our image parses");
    // SAFETY: each type matches the C prototype (docs/abi.md section 5); the image stays mapped
    // for the life of the process.
    let ours = unsafe {
        Ours {
            clock_gettime: dynimg.resolve("__vdso_clock_gettime", "LINUX_2.6").unwrap(),
            clock_getres: dynimg.resolve("__vdso_clock_getres", "LINUX_2.6").unwrap(),
            gettimeofday: dynimg.resolve("__vdso_gettimeofday", "LINUX_2.6").unwrap(),
            time: dynimg.resolve("__vdso_time", "LINUX_2.6").unwrap(),
            getcpu: dynimg.resolve("__vdso_getcpu", "LINUX_2.6").unwrap(),
        }
    };
    (r, ours)
}

/// Runs `f` in a forked child and returns its exit status and its text. The child may move its
/// data pages and allocate (glibc's malloc is fork-safe); it ends with `_exit`. `serve` runs in
/// the parent meanwhile.
fn in_child(f: impl FnOnce() -> Result<String, String>, serve: impl FnOnce()) -> (i32, String) {
    let (res_r, mut res_w) = pipe();
    // SAFETY: see above.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        drop(res_r);
        let (code, text) = match f() {
            Ok(t) => (0, t),
            Err(t) => (1, t),
        };
        let _ = res_w.write_all(text.as_bytes());
        // SAFETY: ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    // The parent's copies of what the child took (its ends of the request pipes) close here,
    // so `serve` sees the end of input if the child dies.
    drop((res_w, f));
    serve();
    let mut text = String::new();
    let _ = res_r.take(1 << 20).read_to_string(&mut text);
    let mut status = 0;
    // SAFETY: our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "the child died: status {status:#x}; {text}");
    (libc::WEXITSTATUS(status), text)
}

#[test]
fn modern_image_reads_the_host_kernels_live_pages() {
    let Some(layout) = host_layout() else { return };
    let (r, ours) = map_ours(&layout);
    let (req_r, req_w) = pipe();
    let (resp_r, resp_w) = pipe();
    let (code, text) = in_child(
        || {
            let mut host = Host { req: req_w, resp: resp_r };
            // SAFETY: `r` was reserved for `layout` in this (forked, single-threaded) process,
            // which uses no libc clock function from here on.
            let outcome = match unsafe { host_data::place(&layout, &r) } {
                Ok(()) => compare(&ours, Some(&mut host)),
                Err(e) => Err(format!("moving the host's pages: {e}")),
            };
            let _ = host.req.write_all(&[Op::Done as u8, 0, 0, 0, 0]);
            outcome
        },
        || serve(req_r, resp_w),
    );
    assert_eq!(code, 0, "{text}");
    eprintln!("{text}");
}

/// Exit status of a child that may not create a time namespace (not root, or no CONFIG_TIME_NS).
const NO_TIMENS: i32 = 77;

#[test]
fn modern_image_reads_the_host_pages_inside_a_time_namespace() {
    let Some(layout) = host_layout() else { return };
    const MONOTONIC_OFFSET_S: i64 = 1000;
    const BOOTTIME_OFFSET_S: i64 = 2000;
    let (code, text) = in_child(
        || {
            let before = sys_gettime(1).1;
            // SAFETY: a plain syscall; the namespace applies to this process's later children.
            if unsafe { libc::unshare(libc::CLONE_NEWTIME) } != 0 {
                let e = std::io::Error::last_os_error();
                // SAFETY: ends the child.
                unsafe { libc::_exit(if e.raw_os_error() == Some(libc::EPERM) { NO_TIMENS } else { 1 }) };
            }
            let offsets = format!("1 {MONOTONIC_OFFSET_S} 0\n7 {BOOTTIME_OFFSET_S} 0\n");
            std::fs::write("/proc/self/timens_offsets", offsets)
                .map_err(|e| format!("timens_offsets: {e}"))?;
            // The grandchild is the first task in the namespace: its [vvar] page 0 is the
            // namespace page, page 1 the real time page.
            let (code, text) = in_child(
                || {
                    let (r, ours) = map_ours(&layout);
                    // SAFETY: reserved in this single-threaded process, which uses no libc clock
                    // function from here on.
                    unsafe { host_data::place(&layout, &r) }.map_err(|e| format!("moving: {e}"))?;
                    // SAFETY: page 0 of the moved pages is readable.
                    let mode = unsafe { core::ptr::read_volatile((r.base + 4) as *const i32) };
                    if mode != vdso_abi::clock_mode::TIMENS {
                        return Err(format!("page 0's clock_mode is {mode}, not TIMENS, in a namespace"));
                    }
                    let mut report = compare(&ours, None)?;
                    let mono = ns(&ours.gettime(1).1) - ns(&before);
                    // MONOTONIC first: BOOTTIME read after it is at least the offsets' difference on.
                    let mono_now = ns(&ours.gettime(1).1);
                    let boot = ns(&ours.gettime(7).1) - mono_now;
                    if mono < MONOTONIC_OFFSET_S as i128 * 1_000_000_000 {
                        return Err(format!("MONOTONIC moved only {mono} ns: no namespace offset"));
                    }
                    if boot < (BOOTTIME_OFFSET_S - MONOTONIC_OFFSET_S) as i128 * 1_000_000_000 {
                        return Err(format!(
                            "BOOTTIME - MONOTONIC is {boot} ns: not the offsets' difference"
                        ));
                    }
                    report.push_str(&format!("in a time namespace: MONOTONIC {mono} ns on\n"));
                    Ok(report)
                },
                || {},
            );
            if code == 0 {
                Ok(text)
            } else {
                Err(text)
            }
        },
        || {},
    );
    if code == NO_TIMENS {
        eprintln!("skipped: creating a time namespace is not permitted here (needs CAP_SYS_ADMIN)");
        return;
    }
    assert_eq!(code, 0, "{text}");
    eprintln!("{text}");
}
