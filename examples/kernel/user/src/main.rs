//! The example kernel's user program, one for every arch: finds the vDSO through
//! `AT_SYSINFO_EHDR`, resolves its functions through the image's own dynamic tables as a libc
//! does, and checks every clock, the fallbacks, signal return and time namespaces here, and what
//! only one arch has in `arch/<arch>.rs` (riscv64: hwprobe, `getcpu` and `flush_icache` through
//! the kernel; x86_64: `time`, `getcpu` on every CPU; aarch64: the trampoline's words and the
//! symbols arm64 does not have). It reports through `write` and a final
//! [`proto::Report`] the kernel prints.

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

#[path = "../../shared/proto.rs"]
#[allow(dead_code)]
mod proto;

#[cfg_attr(target_arch = "riscv64", path = "arch/riscv64.rs")]
#[cfg_attr(target_arch = "x86_64", path = "arch/x86_64.rs")]
#[cfg_attr(target_arch = "aarch64", path = "arch/aarch64.rs")]
#[cfg_attr(target_arch = "loongarch64", path = "arch/loongarch64.rs")]
mod arch;

use arch::syscall;

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};

use proto::Report;
use vdso_kernel_stub::symbols::{DynImage, HashStyle, SymbolError};

const AT_NULL: usize = 0;
const AT_PAGESZ: usize = 6;
const AT_SYSINFO_EHDR: usize = 33;
pub const NSEC: i128 = 1_000_000_000;
/// Rounds of reads of every served clock.
const ROUNDS: usize = 2000;

/// Served clocks (docs/abi.md §3).
const SERVED: [(i32, &str); 7] = [
    (0, "REALTIME"),
    (1, "MONOTONIC"),
    (4, "MONOTONIC_RAW"),
    (5, "REALTIME_COARSE"),
    (6, "MONOTONIC_COARSE"),
    (7, "BOOTTIME"),
    (11, "TAI"),
];

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    pub fn ns(self) -> i128 {
        self.sec as i128 * NSEC + self.nsec as i128
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Timezone {
    minuteswest: i32,
    dsttime: i32,
}

pub type ClockFn = unsafe extern "C" fn(i32, *mut Timespec) -> i32;
type GettimeofdayFn = unsafe extern "C" fn(*mut Timeval, *mut Timezone) -> i32;

/// The program's stdout.
pub struct Out;

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        syscall(proto::SYS_WRITE, 1, s.as_ptr() as usize, s.len());
        Ok(())
    }
}

macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = writeln!($crate::Out, $($arg)*);
    }};
}
pub(crate) use println;

pub fn exit(code: i32) -> ! {
    syscall(proto::SYS_EXIT_GROUP, code as usize, 0, 0);
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("user: panic: {info}");
    exit(101)
}

/// Where the handlers must return to (riscv64: the resolved `__vdso_rt_sigreturn`; aarch64: the
/// resolved `__kernel_rt_sigreturn`; x86_64: the program's own restorer), for them to compare their return address with.
static EXPECTED_RET: AtomicUsize = AtomicUsize::new(0);
static CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);
static HANDLED: AtomicU32 = AtomicU32::new(0);
static HANDLED_ALRM: AtomicU32 = AtomicU32::new(0);
static RA_OK: AtomicU32 = AtomicU32::new(0);
static HANDLER_FAILURES: AtomicU32 = AtomicU32::new(0);

/// The signal handler proper, entered from `arch::handler_entry` with the handler's return
/// address as a fourth argument.
extern "C" fn handler(sig: i32, info: *const i32, uc: *mut u8, ret: usize) {
    HANDLED.fetch_add(1, SeqCst);
    if ret == EXPECTED_RET.load(SeqCst) {
        RA_OK.fetch_add(1, SeqCst);
    }
    // SAFETY: the kernel passes the siginfo it built on our stack.
    if unsafe { *info } != sig {
        HANDLER_FAILURES.fetch_add(1, SeqCst);
    }
    // A clock read from inside a handler works like anywhere else.
    let mut ts = Timespec::default();
    let cg = CLOCK_GETTIME.load(SeqCst);
    if cg != 0 {
        // SAFETY: the address came from resolving `__vdso_clock_gettime`.
        let f: ClockFn = unsafe { core::mem::transmute::<usize, ClockFn>(cg) };
        // SAFETY: valid timespec pointer.
        if unsafe { f(1, &mut ts) } != 0 || ts.ns() <= 0 {
            HANDLER_FAILURES.fetch_add(1, SeqCst);
        }
    }
    match sig as usize {
        proto::SIGUSR1 => {
            // Edit the saved context: `kill` will "return" the magic value, which it can only do
            // if rt_sigreturn restores the registers from this frame.
            // SAFETY: `uc` points at the ucontext the kernel built.
            unsafe { arch::set_saved_result(uc, proto::SIGRETURN_MAGIC as u64) };
        }
        proto::SIGALRM => {
            HANDLED_ALRM.fetch_add(1, SeqCst);
        }
        _ => {
            HANDLER_FAILURES.fetch_add(1, SeqCst);
        }
    }
}

/// The vDSO functions every arch has (`arch::Extra` holds the others).
pub struct Vdso {
    clock_gettime: ClockFn,
    clock_getres: ClockFn,
    gettimeofday: GettimeofdayFn,
}

pub struct Checker {
    report: Report,
}

impl Checker {
    pub fn check(&mut self, ok: bool, what: fmt::Arguments) {
        if !ok {
            self.report.failures += 1;
            println!("user: FAIL: {what}");
        }
    }
}

fn auxv_entry(sp: *const usize, key: usize) -> Option<usize> {
    // SAFETY: the kernel built argc, argv[], NULL, envp[], NULL, auxv pairs at `sp`.
    unsafe {
        let argc = *sp;
        let mut p = sp.add(1 + argc + 1);
        while *p != 0 {
            p = p.add(1);
        }
        p = p.add(1);
        loop {
            let (k, v) = (*p, *p.add(1));
            if k == AT_NULL {
                return None;
            }
            if k == key {
                return Some(v);
            }
            p = p.add(2);
        }
    }
}

/// The mapped size of the image: its first `PT_LOAD`, rounded to the kernel's page size
/// (`page`, from `AT_PAGESZ`), what a loader reads from the ELF header before touching anything
/// else.
fn mapped_len(base: usize, page: usize) -> usize {
    // SAFETY: `base` is the vDSO's ELF header (`AT_SYSINFO_EHDR`), mapped readable.
    unsafe {
        let phoff = *((base + 32) as *const u64) as usize;
        let phentsize = *((base + 54) as *const u16) as usize;
        let phnum = *((base + 56) as *const u16) as usize;
        for i in 0..phnum {
            let ph = base + phoff + i * phentsize;
            if *(ph as *const u32) == 1 {
                let memsz = *((ph + 40) as *const u64) as usize;
                return memsz.next_multiple_of(page);
            }
        }
    }
    page
}

/// Resolves `name` through DT_HASH and checks a second way agrees: DT_GNU_HASH where the image
/// has one (the architecture's row says which tables it carries: aarch64's has DT_HASH only, as
/// Linux's arm64), else a scan of DT_HASH's `nchain` entries.
pub fn resolve(c: &mut Checker, img: &DynImage, name: &str) -> usize {
    let version = arch::VERSION;
    let row_has_gnu = vdso_kernel_stub::Arch::native().is_some_and(|a| a.hash_style().has_gnu());
    let (other, other_name) = if row_has_gnu {
        (HashStyle::Gnu, "DT_GNU_HASH")
    } else {
        (HashStyle::Linear, "DT_HASH's nchain entries")
    };
    let tables = img.hash_tables();
    c.check(tables == (true, row_has_gnu), format_args!("hash tables (DT_HASH, DT_GNU_HASH) {tables:?}"));
    let sysv = img.lookup_with(HashStyle::Sysv, name, version);
    let second = img.lookup_with(other, name, version);
    match (sysv, second) {
        (Ok(a), Ok(b)) if a.offset == b.offset && img.is_code(&a) => {
            c.report.symbols_resolved += 1;
            let wrong = img.lookup_with(HashStyle::Sysv, name, arch::WRONG_VERSION);
            let bad = arch::WRONG_VERSION;
            c.check(wrong == Err(SymbolError::VersionNotFound), format_args!("{name}@{bad} resolved"));
            println!("user:   {name}@{version} at image+{:#x} (DT_HASH and {other_name} agree)", a.offset);
            img.address(&a)
        }
        (a, b) => {
            c.check(false, format_args!("{name}@{version}: DT_HASH {a:?}, {other_name} {b:?}"));
            0
        }
    }
}

fn ktime(id: i32) -> i128 {
    syscall(proto::SYS_KTIME, id as usize, 0, 0) as i128
}

pub fn read(f: ClockFn, id: i32) -> (i32, Timespec) {
    let mut ts = Timespec::default();
    // SAFETY: a resolved vDSO function and a valid pointer.
    let r = unsafe { f(id, &mut ts) };
    (r, ts)
}

/// Every served clock, many times: all succeed, stay in range, never go back, and keep their
/// relations (COARSE trails its HRES clock by at most a few ticks, BOOTTIME = MONOTONIC here,
/// TAI = REALTIME + 37 s, gettimeofday agrees with REALTIME).
pub fn clock_rounds(c: &mut Checker, v: &Vdso, rounds: usize, label: &str) {
    let mut prev = [i128::MIN; 12];
    let mut prev_tv = i128::MIN;
    let mut bad = 0u32;
    for round in 0..rounds {
        let mut now = [0i128; 12];
        for (id, name) in SERVED {
            let (r, ts) = read(v.clock_gettime, id);
            c.report.served_calls += 1;
            let ok = r == 0 && (0..NSEC as i64).contains(&ts.nsec) && ts.ns() >= prev[id as usize];
            if !ok && bad < 5 {
                bad += 1;
                c.check(
                    false,
                    format_args!(
                        "{label} round {round}: {name} r={r} {}.{:09} after {}",
                        ts.sec, ts.nsec, prev[id as usize]
                    ),
                );
            }
            prev[id as usize] = ts.ns();
            now[id as usize] = ts.ns();
        }
        let (mut tv, mut tz) = (Timeval::default(), Timezone::default());
        // SAFETY: resolved function, valid pointers.
        let r = unsafe { (v.gettimeofday)(&mut tv, &mut tz) };
        c.report.served_calls += 1;
        let tv_ns = tv.sec as i128 * NSEC + tv.usec as i128 * 1000;
        let (_, real_after) = read(v.clock_gettime, 0);
        c.report.served_calls += 1;
        let ok = r == 0
            && (0..1_000_000).contains(&tv.usec)
            && tv_ns >= prev_tv
            && tv_ns + 1000 > now[0]
            && tv_ns <= real_after.ns()
            && tz.minuteswest == 0;
        if !ok && bad < 5 {
            bad += 1;
            c.check(
                false,
                format_args!("{label} round {round}: gettimeofday r={r} {}.{:06}", tv.sec, tv.usec),
            );
        }
        prev_tv = tv_ns;
        // Read in order REALTIME, MONOTONIC, RAW, REALTIME_COARSE, MONOTONIC_COARSE, BOOTTIME,
        // TAI: each later reading is taken after each earlier one.
        // A COARSE clock is its HRES clock at the last tick, so it never exceeds a later reading
        // of it: BOOTTIME (= MONOTONIC here) and TAI - 37 s were read after the COARSE clocks.
        let mono_lag = now[7] - now[6];
        c.report.coarse_lag_max_ns = c.report.coarse_lag_max_ns.max(mono_lag.max(0) as u64);
        let tai_gap = now[11] - now[0] - 37 * NSEC;
        let ok = (0..200_000_000).contains(&(now[7] - now[1]))
            && (0..200_000_000).contains(&tai_gap)
            && (now[4] - now[1]).abs() < 200_000_000
            && now[6] <= now[7]
            && now[5] <= now[11] - 37 * NSEC;
        if !ok && bad < 5 {
            bad += 1;
            c.check(false, format_args!("{label} round {round}: clock relations off: {now:?}"));
        }
    }
}

/// The kernel's own MONOTONIC (and friends) must fall between two vDSO readings around it:
/// both compute from the same timekeeper, so the bracket is exact.
fn kernel_bracket(c: &mut Checker, v: &Vdso, label: &str) {
    for id in [1, 0, 4, 7, 11] {
        for _ in 0..200 {
            let (_, a) = read(v.clock_gettime, id);
            let k = ktime(id);
            let (_, b) = read(v.clock_gettime, id);
            c.report.served_calls += 2;
            let err = if k < a.ns() {
                a.ns() - k
            } else if k > b.ns() {
                k - b.ns()
            } else {
                0
            };
            c.report.kernel_bracket_err_ns = c.report.kernel_bracket_err_ns.max(err as u64);
        }
    }
    let err = c.report.kernel_bracket_err_ns;
    c.check(err == 0, format_args!("{label}: kernel time outside the vDSO bracket by {err} ns"));
}

extern "C" fn main(sp: *const usize) -> ! {
    let mut c = Checker { report: Report::default() };
    let Some(base) = auxv_entry(sp, AT_SYSINFO_EHDR).filter(|&b| b != 0) else {
        println!("user: no AT_SYSINFO_EHDR");
        exit(1)
    };
    let page = auxv_entry(sp, AT_PAGESZ).filter(|p| p.is_power_of_two()).unwrap_or(4096);
    let len = mapped_len(base, page);
    println!("user: AT_SYSINFO_EHDR = {base:#x}, image {len} bytes mapped");
    // SAFETY: the kernel maps the image's page-rounded segment at `base`, read + execute.
    let mem = unsafe { core::slice::from_raw_parts(base as *const u8, len) };
    let img = match DynImage::parse(mem) {
        Ok(img) => img,
        Err(e) => {
            println!("user: the image does not parse: {e:?}");
            exit(1)
        }
    };
    println!("user: resolving through the image's hash tables, DT_VERSYM and DT_VERDEF:");
    let mut addrs = [0usize; 3];
    for (i, name) in arch::CLOCK_NAMES.iter().enumerate() {
        addrs[i] = resolve(&mut c, &img, name);
    }
    let extra = arch::resolve_extra(&mut c, &img);
    let Some(extra) = extra.filter(|_| !addrs.contains(&0)) else {
        println!("user: unresolved symbols, giving up");
        exit(1)
    };
    // SAFETY: each address is the resolved function of that name, whose C signature is the
    // type it is converted to (docs/abi.md §5, Linux's prototypes).
    let v = unsafe {
        Vdso {
            clock_gettime: core::mem::transmute::<usize, ClockFn>(addrs[0]),
            gettimeofday: core::mem::transmute::<usize, GettimeofdayFn>(addrs[1]),
            clock_getres: core::mem::transmute::<usize, ClockFn>(addrs[2]),
        }
    };
    CLOCK_GETTIME.store(addrs[0], SeqCst);
    let (_, start) = read(v.clock_gettime, 1);

    // 1. Every served clock, many times.
    clock_rounds(&mut c, &v, ROUNDS, "clocks");
    println!("user: {ROUNDS} rounds of 7 clocks + gettimeofday: monotonic, in range, consistent");

    // 2. The kernel's notion of time agrees.
    kernel_bracket(&mut c, &v, "bracket");
    println!(
        "user: kernel clocks (syscall) lie between vDSO readings: max error {} ns",
        c.report.kernel_bracket_err_ns
    );

    // 3. The page is kept fresh: MONOTONIC_COARSE advances tick by tick.
    let (_, c0) = read(v.clock_gettime, 6);
    let mut steps = 0;
    let mut last = c0.ns();
    while steps < 5 {
        let (_, t) = read(v.clock_gettime, 6);
        let (_, m) = read(v.clock_gettime, 1);
        c.report.served_calls += 2;
        if t.ns() != last {
            steps += 1;
            last = t.ns();
        }
        if m.ns() - c0.ns() > NSEC {
            break;
        }
    }
    c.check(steps == 5, format_args!("MONOTONIC_COARSE advanced only {steps} times in 1 s"));
    println!("user: MONOTONIC_COARSE advanced {steps} ticks: the kernel's timer keeps the page fresh");

    // 4. clock_getres from the page.
    let (r1, res_h) = read(v.clock_getres, 1);
    let (r2, res_c) = read(v.clock_getres, 6);
    // SAFETY: a NULL `res` is allowed.
    let r3 = unsafe { (v.clock_getres)(4, core::ptr::null_mut()) };
    c.report.served_calls += 3;
    c.check(r1 == 0 && r2 == 0 && r3 == 0, format_args!("clock_getres returned {r1} {r2} {r3}"));
    c.report.res_hres_ns = res_h.ns() as u64;
    c.report.res_coarse_ns = res_c.ns() as u64;
    println!("user: clock_getres: HRES {} ns, COARSE {} ns", res_h.ns(), res_c.ns());

    // 5. Unserved ids fall back to the syscall, whose -EINVAL comes back unchanged.
    let mut ts = Timespec::default();
    for (i, id) in [2, 10, -1].into_iter().enumerate() {
        // SAFETY: resolved function, valid pointer.
        c.report.fallback_results[i] = unsafe { (v.clock_gettime)(id, &mut ts) } as i64;
    }
    // SAFETY: as above.
    c.report.fallback_results[3] = unsafe { (v.clock_getres)(-1, &mut ts) } as i64;
    let fb = c.report.fallback_results;
    c.check(fb == [-proto::EINVAL as i64; 4], format_args!("fallbacks returned {fb:?}"));
    println!("user: clock_gettime(2, 10, -1) and clock_getres(-1): {:?}", c.report.fallback_results);

    // 6. What only this arch has.
    arch::checks(&mut c, &v, &extra);

    // 7. Signals: a synchronous one (kill) and an asynchronous one (an ITIMER_REAL alarm that
    // interrupts a clock loop). Both handlers return through the image's trampoline (riscv64, aarch64) or
    // the program's own SA_RESTORER (x86_64, which has no vDSO trampoline).
    let act = arch::sigaction(arch::handler_entry as *const () as usize);
    for sig in [proto::SIGUSR1, proto::SIGALRM] {
        let r = syscall(proto::SYS_RT_SIGACTION, sig, act.as_ptr() as usize, 0);
        c.check(r == 0, format_args!("rt_sigaction({sig}) = {r}"));
    }
    let pid = syscall(proto::SYS_GETPID, 0, 0, 0) as usize;
    let r = syscall(proto::SYS_KILL, pid, proto::SIGUSR1, 0);
    c.report.sigreturn_restored_frame = (r as usize == proto::SIGRETURN_MAGIC) as u32;
    c.check(
        r as usize == proto::SIGRETURN_MAGIC,
        format_args!("kill returned {r:#x}, not the magic the handler stored"),
    );
    let itimer = [0u64, 0, 0, 20_000]; // interval 0, value 20 ms
    syscall(proto::SYS_SETITIMER, 0, itimer.as_ptr() as usize, 0);
    let (_, t0) = read(v.clock_gettime, 1);
    let mut loops = 0;
    while HANDLED_ALRM.load(SeqCst) == 0 {
        clock_rounds(&mut c, &v, 1, "alarm wait");
        loops += 1;
        let (_, t) = read(v.clock_gettime, 1);
        if t.ns() - t0.ns() > 2 * NSEC {
            break;
        }
    }
    c.check(HANDLED_ALRM.load(SeqCst) == 1, format_args!("SIGALRM not handled within 2 s"));
    c.report.signals_handled = HANDLED.load(SeqCst);
    c.report.handler_ra_is_vdso_sigreturn = RA_OK.load(SeqCst);
    let hf = HANDLER_FAILURES.load(SeqCst);
    c.check(hf == 0, format_args!("{hf} failures inside handlers"));
    println!(
        "user: signals handled {} (SIGALRM after {loops} clock rounds), {} in {}, kill returned {r:#x}",
        c.report.signals_handled,
        arch::RET_NAME,
        c.report.handler_ra_is_vdso_sigreturn
    );

    // 8. A time namespace: MONOTONIC and BOOTTIME jump ahead, REALTIME does not.
    let (_, m0) = read(v.clock_gettime, 1);
    let (_, r0) = read(v.clock_gettime, 0);
    let (_, b0) = read(v.clock_gettime, 7);
    let (_, w0) = read(v.clock_gettime, 4);
    let r = syscall(proto::SYS_ENTER_TIMENS, proto::TIMENS_OFFSET_SEC as usize, 0, 0);
    let (_, m1) = read(v.clock_gettime, 1);
    let (_, r1) = read(v.clock_gettime, 0);
    let (_, b1) = read(v.clock_gettime, 7);
    let (_, w1) = read(v.clock_gettime, 4);
    c.report.served_calls += 8;
    let off = proto::TIMENS_OFFSET_SEC as i128 * NSEC;
    let near = |d: i128, want: i128| d >= want && d < want + NSEC / 2;
    let ok = r == 0
        && near(m1.ns() - m0.ns(), off)
        && near(b1.ns() - b0.ns(), off)
        && near(w1.ns() - w0.ns(), off)
        && near(r1.ns() - r0.ns(), 0);
    c.check(ok, format_args!("time namespace: mono +{} real +{}", m1.ns() - m0.ns(), r1.ns() - r0.ns()));
    clock_rounds(&mut c, &v, ROUNDS / 4, "timens");
    kernel_bracket(&mut c, &v, "timens bracket");
    c.report.timens_ok = (ok && c.report.failures == 0) as u32;
    println!(
        "user: time namespace +{} s: MONOTONIC moved {} ns, REALTIME {} ns; clocks still consistent",
        proto::TIMENS_OFFSET_SEC,
        m1.ns() - m0.ns(),
        r1.ns() - r0.ns()
    );

    // 9. Every CPU in turn (x86_64).
    arch::per_cpu(&mut c, &v, &extra);

    let (_, end) = read(v.clock_gettime, 1);
    c.report.run_ns = (end.ns() - start.ns() - off) as u64;
    println!(
        "user: {} vDSO calls in {} ms; {} failures",
        c.report.served_calls,
        c.report.run_ns / 1_000_000,
        c.report.failures
    );
    syscall(proto::SYS_REPORT, &c.report as *const Report as usize, 0, 0);
    exit(if c.report.failures == 0 { 0 } else { 1 })
}
