//! Instructions per call of every function of our images, counted exactly (so they can gate
//! regressions, unlike timings): x86_64 against the host kernel's vDSO with callgrind, and every
//! architecture that runs under qemu-user here by single-stepping through qemu's gdb stub
//! (riscv64, aarch64), or, where gdb-multiarch does not know the architecture (loongarch64 with
//! Debian 12's gdb 13), from qemu's own execution log with one instruction per translation
//! block (`-singlestep -d exec,nochain`: `gdb::count_traced`).
//!
//! x86_64: `cargo run --release --example icount` runs this program again under
//! `valgrind --tool=callgrind` once per (image, function, call count) and takes the per-call
//! count from the difference of two totals (N and 2N calls), minus the same for an empty
//! function called the same way (the loop and the indirect call), plus that function's one
//! `ret`. Valgrind hides the host vDSO from the program it runs but leaves the `[vvar]` pages
//! mapped, so the host image is dumped first (natively) and mapped back under valgrind at its
//! original distance from `[vvar]`. Valgrind cannot execute `rdpid` or `lsl`, so `getcpu` is
//! counted with a ptrace single-step counter instead.
//!
//! Under qemu (no PMU, no valgrind for guests): the same example is built for the guest target
//! and run as `qemu-<arch> -g PORT icount --gdb-child`. That driver maps our image, and before
//! each call stops itself with a breakpoint instruction holding the entry point in the first
//! argument register; `gdb-multiarch` (driven by a short Python script) then puts a breakpoint
//! on the entry, and from it `stepi`s until the pc equals the return address the call left in
//! the link register: the count is every instruction of the call, its `ret` included. The
//! driver fills the page just before each call so the fast path is taken (see
//! [`fill_gdb_page`]) and checks afterwards that it was; every call is counted twice and the two
//! counts must agree. `--check` compares the counts with `examples/icount-expected.txt` and
//! fails if any grew; `--update` rewrites that file.
//!
//! Results: tables on stdout and `target/icount/icount.json` (x86_64),
//! `target/icount/<arch>.txt` (the others).

#[path = "../benches/common/mod.rs"]
mod common;

use std::fs;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::{exit, Command};

use common::*;
use linux_vdso::abi::Arch;

/// What is measured: (name, how to call it).
const FUNCTIONS: &[&str] = &[
    "clock_gettime(MONOTONIC)",
    "clock_gettime(REALTIME)",
    "clock_gettime(MONOTONIC_RAW)",
    "clock_gettime(BOOTTIME)",
    "clock_gettime(REALTIME_COARSE)",
    "clock_gettime(MONOTONIC_COARSE)",
    "gettimeofday",
    "time",
    "clock_getres(MONOTONIC)",
    "getrandom(16)",
    "getrandom(32)",
    "getrandom(256)",
    "getrandom(4096)",
];

/// The length a `getrandom(N)` row reads.
fn getrandom_len(f: &str) -> Option<usize> {
    f.strip_prefix("getrandom(")?.strip_suffix(')')?.parse().ok()
}

fn clock_of(f: &str) -> i32 {
    match f {
        "clock_gettime(MONOTONIC)" | "clock_getres(MONOTONIC)" => libc::CLOCK_MONOTONIC,
        "clock_gettime(REALTIME)" => libc::CLOCK_REALTIME,
        "clock_gettime(MONOTONIC_RAW)" => libc::CLOCK_MONOTONIC_RAW,
        "clock_gettime(BOOTTIME)" => libc::CLOCK_BOOTTIME,
        "clock_gettime(REALTIME_COARSE)" => libc::CLOCK_REALTIME_COARSE,
        "clock_gettime(MONOTONIC_COARSE)" => libc::CLOCK_MONOTONIC_COARSE,
        _ => 0,
    }
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/icount");
    fs::create_dir_all(&dir).expect("create target/icount");
    dir
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--inner") => return inner(&args[2], &args[3], args[4].parse().expect("count"), args.get(5)),
        Some("--step-child") => return step_child(&args[2], args.get(3)),
        Some("--gdb-child") => return gdb_child(),
        _ => {}
    }
    let (mut check, mut update, mut only) = (false, false, Vec::new());
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--check" => check = true,
            "--update" => update = true,
            "--arch" => match rest.next().and_then(|n| Arch::from_name(n)) {
                Some(arch) => only.push(arch),
                None => {
                    eprintln!("icount: --arch needs one of {}", Arch::ALL.map(|a| a.name()).join(", "));
                    exit(2);
                }
            },
            "--help" | "-h" => {
                println!(
                    "usage: cargo run --release --example icount [-- [--check] [--update] [--arch ARCH]]\n\n\
                     Counts instructions per call of our images: x86_64 against the host kernel's vDSO\n\
                     (callgrind), the architectures qemu-user runs here by single-stepping one call\n\
                     through qemu's gdb stub (gdb-multiarch).\n\
                     --check   exit with status 1 if a function of ours takes more instructions than the\n\
                     \x20         kernel's (x86_64) or than examples/icount-expected.txt records (the others)\n\
                     --update  rewrite examples/icount-expected.txt with the counts of this run\n\
                     --arch    count this architecture (repeatable; default: all)"
                );
                return;
            }
            other => {
                eprintln!("icount: unknown argument {other:?} (try --help)");
                exit(2);
            }
        }
    }
    let host_arch = Arch::native();
    let mut ok = true;
    let wanted = |a: Arch| only.is_empty() || only.contains(&a);
    let mut x86 = Vec::new();
    if host_arch == Some(Arch::X86_64) && wanted(Arch::X86_64) {
        let (good, rows) = outer(check);
        ok &= good;
        x86 = rows;
    }
    let emulated: Vec<Arch> = Arch::ALL.into_iter().filter(|&a| Some(a) != host_arch && wanted(a)).collect();
    if !emulated.is_empty() {
        ok &= gdb::outer(&emulated, &x86, check, update);
    }
    if !ok {
        exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// The driver.

/// The x86_64 counts (function, ours, the host kernel's; callgrind), and false if `gate` and
/// ours exceeds the kernel's anywhere.
fn outer(gate: bool) -> (bool, Vec<(String, f64, f64)>) {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("icount: valgrind not found (scripts/setup.sh installs it)");
        exit(1);
    }
    let dir = out_dir();
    let host_dump = dir.join("host-vdso.so");
    let distance = dump_host_vdso(&host_dump);
    let exe = std::env::current_exe().expect("own path");
    let run = |image: &str, func: &str, n: u64| -> u64 {
        let out = dir.join(format!("callgrind.{}.out", std::process::id()));
        let status = Command::new("valgrind")
            .args(["--tool=callgrind", "--quiet"])
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .args(["--inner", image, func, &n.to_string()])
            .arg(format!("{}:{distance}", host_dump.display()))
            .status()
            .expect("run valgrind");
        assert!(status.success(), "valgrind run of {image} {func} failed");
        let text = fs::read_to_string(&out).expect("callgrind output");
        let _ = fs::remove_file(&out);
        text.lines()
            .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
            .and_then(|v| v.trim().parse().ok())
            .expect("callgrind summary line")
    };
    const N: u64 = 2000;
    let per_call = |image: &str, func: &str| -> f64 {
        (run(image, func, 2 * N) as f64 - run(image, func, N) as f64) / N as f64
    };
    let shape = |func: &str| match func {
        "gettimeofday" | "time" => func.to_string(),
        f if getrandom_len(f).is_some() => f.to_string(),
        _ => "clock_gettime(MONOTONIC)".to_string(),
    };
    let mut baselines = std::collections::HashMap::new();
    let mut rows = Vec::new();
    println!("instructions per call (x86_64; callgrind; the cost of an empty function called the same way removed)\n");
    println!("{:<34} {:>6} {:>8}  ours <= kernel", "function", "ours", "kernel");
    for func in FUNCTIONS {
        let base = *baselines.entry(shape(func)).or_insert_with(|| per_call("nop", &shape(func)));
        // The empty function's own `xor eax,eax; ret` is part of the measured function's cost.
        let ours = per_call("ours", func) - base + 2.0;
        let mut kernel = per_call("kernel", func) - base + 2.0;
        if ours > kernel {
            // Ours reads a page this program filled, so its count is fixed; the host image reads
            // the live host data page, whose state can send a call down a longer or shorter path
            // (one run here counted the kernel's gettimeofday at 48 instead of its usual 53).
            // Before calling a regression, take the median of three counts of the kernel's.
            let mut runs =
                [kernel, per_call("kernel", func) - base + 2.0, per_call("kernel", func) - base + 2.0];
            runs.sort_by(f64::total_cmp);
            eprintln!("icount: the host's {func} counted {runs:.0?} in three runs; using the median");
            kernel = runs[1];
        }
        println!("{func:<34} {ours:>6.0} {kernel:>8.0}  {}", if ours <= kernel { "yes" } else { "NO" });
        rows.push((func.to_string(), ours, kernel));
    }
    let (ours, kernel) = (step_count("ours-rdpid"), step_count("kernel"));
    let nop = step_count("nop");
    let (ours, kernel) = (ours - nop + 2, kernel - nop + 2);
    println!(
        "{:<34} {ours:>6} {kernel:>8}  {}",
        "getcpu (RDPID mode; single-step)",
        if ours <= kernel { "yes" } else { "NO" }
    );
    rows.push(("getcpu (RDPID mode)".into(), ours as f64, kernel as f64));
    let json: Vec<String> = rows
        .iter()
        .map(|(f, o, k)| format!("  {{\"function\": {f:?}, \"ours\": {o:.0}, \"kernel\": {k:.0}}}"))
        .collect();
    let path = dir.join("icount.json");
    fs::write(&path, format!("[\n{}\n]\n", json.join(",\n"))).expect("write json");
    println!("\nwritten to {}", path.display());
    let worse: Vec<_> = rows.iter().filter(|(_, o, k)| o > k).map(|(f, _, _)| f.as_str()).collect();
    if gate && !worse.is_empty() {
        eprintln!("icount: more instructions than the kernel's image for: {}", worse.join(", "));
        return (false, rows);
    }
    (true, rows)
}

/// Writes the host vDSO's bytes to `path`; returns its distance in bytes from the first
/// `[vvar]` page.
fn dump_host_vdso(path: &PathBuf) -> usize {
    let (lo, hi) = maps_range("[vdso]").expect("the host has a vDSO");
    let (vvar, _) = maps_range("[vvar]").expect("the host has [vvar]");
    // SAFETY: the vDSO mapping is readable for the life of the process.
    let bytes = unsafe { std::slice::from_raw_parts(lo as *const u8, hi - lo) };
    fs::write(path, bytes).expect("write host vDSO dump");
    lo - vvar
}

// ---------------------------------------------------------------------------------------------
// Under valgrind: call one function of one image N times.

#[inline(never)]
extern "C" fn nop_clock(_: i32, _: *mut Ts) -> i32 {
    0
}

fn map_host_dump(arg: &str) -> Entry {
    let (path, distance) = arg.rsplit_once(':').expect("path:distance");
    let bytes = fs::read(path).expect("host dump");
    let (vvar, _) = maps_range("[vvar]").expect("[vvar] is still mapped under valgrind");
    let at = vvar + distance.parse::<usize>().expect("distance");
    // SAFETY: a fixed mapping at a free address (valgrind removed the vDSO from there), checked
    // by MAP_FIXED_NOREPLACE; filled, then made read+execute.
    unsafe {
        let p = libc::mmap(
            at as *mut libc::c_void,
            bytes.len(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        );
        assert_eq!(p as usize, at, "map the host image back at its place");
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.cast(), bytes.len());
        assert_eq!(libc::mprotect(p, bytes.len(), libc::PROT_READ | libc::PROT_EXEC), 0);
        resolve(std::slice::from_raw_parts(p.cast(), bytes.len()), "LINUX_2.6", "__vdso_")
            .expect("resolve host")
    }
}

fn fill_our_page(mapped: &vdso_kernel_stub::MappedVdso) {
    fill_page(mapped, 6_710_886, 24);
}

#[inline(never)]
extern "C" fn nop_getrandom(_: *mut u8, _: usize, _: u32, _: *mut u8, _: usize) -> isize {
    0
}

/// Fills the data page as a live one: the counter a moment ago, `mult`/`shift` as given, every
/// base at 1,700,000,000 s and a half.
fn fill_page(mapped: &vdso_kernel_stub::MappedVdso, mult: u32, shift: u32) {
    use linux_vdso::abi::{clock_mode, VdsoTimestamp};
    let mut w = mapped.writer::<vdso_kernel_stub::NativeArchData>().expect("writer");
    w.update(|pair| {
        for vd in pair.iter_mut() {
            vd.clock_mode = clock_mode::ARCH;
            // As a live page: the counter a moment ago, and a base half-way through a second,
            // so the calls take the path they take between two ticks.
            vd.cycle_last = vdso_kernel_stub::counter::read_counter();
            vd.mask = u64::MAX;
            vd.mult = mult;
            vd.shift = shift;
            vd.hrtimer_res = 1;
            // HRES bases hold shifted nanoseconds, COARSE ones plain.
            vd.bases.basetime = [VdsoTimestamp { sec: 1_700_000_000, nsec: 500_000_000 << shift }; 12];
            for coarse in [libc::CLOCK_REALTIME_COARSE, libc::CLOCK_MONOTONIC_COARSE] {
                // SAFETY: `basetime` is the active member of a data page.
                unsafe { vd.bases.basetime[coarse as usize].nsec = 500_000_000 };
            }
        }
    });
    // The kernel's RNG is ready (getrandom serves from the image after one key refresh).
    w.rng().expect("getrandom").publish_ready();
}

fn inner(image: &str, func: &str, n: u64, host_dump: Option<&String>) {
    let (_mapped, entry) = match image {
        "ours" => {
            let (m, e) = map_ours();
            fill_our_page(&m);
            (Some(m), e)
        }
        "kernel" => (None, map_host_dump(host_dump.expect("host dump"))),
        // Kept mapped: the nop getrandom rows allocate their state as our image's query says.
        "nop" => {
            let (m, e) = map_ours();
            (Some(m), e)
        }
        _ => panic!("image"),
    };
    let clock = clock_of(func);
    let mut ts = Ts { tv_sec: 0, tv_nsec: 0 };
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    // Every variant is called the same way: a pointer fixed before the loop, arguments that the
    // compiler cannot see through. The empty functions have the same shapes.
    match func {
        f if getrandom_len(f).is_some() => {
            let len = getrandom_len(f).expect("length");
            let f: GetrandomFn =
                black_box(if image == "nop" { nop_getrandom } else { entry.getrandom.expect("getrandom") });
            // Every variant with a state allocated as the image's query says (ours for nop).
            let (state, state_len) = getrandom_state(entry.getrandom.expect("getrandom"));
            let mut buf = vec![0u8; len];
            for _ in 0..n {
                // SAFETY: `buf` holds `len` bytes; the state is this thread's.
                black_box(unsafe { f(black_box(buf.as_mut_ptr()), black_box(len), 0, state, state_len) });
            }
        }
        "gettimeofday" => {
            let f: TodFn = black_box(if image == "nop" { nop_tod } else { entry.gettimeofday });
            for _ in 0..n {
                // SAFETY: valid pointers; the image is mapped.
                black_box(unsafe { f(black_box(&mut tv), black_box(std::ptr::null_mut())) });
            }
        }
        "time" => {
            let f: TimeFn = black_box(if image == "nop" { nop_time } else { entry.time.expect("time") });
            for _ in 0..n {
                // SAFETY: NULL is allowed; the image is mapped.
                black_box(unsafe { f(black_box(std::ptr::null_mut())) });
            }
        }
        _ => {
            let f: ClockFn = black_box(match (image, func) {
                ("nop", _) => nop_clock,
                (_, f) if f.starts_with("clock_getres") => entry.clock_getres,
                _ => entry.clock_gettime,
            });
            for _ in 0..n {
                // SAFETY: valid pointers; the image is mapped.
                black_box(unsafe { f(black_box(clock), black_box(&mut ts)) });
            }
        }
    }
}

#[inline(never)]
extern "C" fn nop_tod(_: *mut libc::timeval, _: *mut libc::c_void) -> i32 {
    0
}

#[inline(never)]
extern "C" fn nop_time(_: *mut i64) -> i64 {
    0
}

// ---------------------------------------------------------------------------------------------
// getcpu: single-stepped under ptrace (valgrind cannot run rdpid or lsl).

#[inline(never)]
extern "C" fn nop_getcpu(_: *mut u32, _: *mut u32, _: *mut libc::c_void) -> i32 {
    0
}

fn step_child(which: &str, _: Option<&String>) {
    let (_mapped, f): (Option<vdso_kernel_stub::MappedVdso>, CpuFn) = match which {
        "ours-rdpid" => {
            let (m, e) = map_ours();
            fill_our_page(&m);
            m.set_getcpu_mode(linux_vdso::abi::x86_64::GETCPU_MODE_RDPID).expect("mode");
            (Some(m), e.getcpu)
        }
        "kernel" => (None, host().expect("host vDSO").getcpu),
        _ => (None, nop_getcpu),
    };
    let f = black_box(f);
    let (mut cpu, mut node) = (0u32, 0u32);
    // SAFETY: ptrace and raise on ourselves; valid pointers for getcpu.
    unsafe {
        libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
        libc::raise(libc::SIGSTOP);
        black_box(f(&mut cpu, &mut node, std::ptr::null_mut()));
        libc::raise(libc::SIGSTOP);
    }
    exit(0);
}

/// Instructions the child executes between its two SIGSTOPs.
fn step_count(which: &str) -> u64 {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe).args(["--step-child", which]).spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: waiting for and stepping our own traced child.
    unsafe {
        libc::waitpid(pid, &mut status, 0);
        assert!(libc::WIFSTOPPED(status), "child stopped at its first SIGSTOP");
        let mut steps = 0u64;
        loop {
            libc::ptrace(libc::PTRACE_SINGLESTEP, pid, 0, 0);
            libc::waitpid(pid, &mut status, 0);
            if !libc::WIFSTOPPED(status) {
                panic!("child ended while stepping");
            }
            if libc::WSTOPSIG(status) == libc::SIGSTOP {
                break;
            }
            steps += 1;
        }
        libc::ptrace(libc::PTRACE_CONT, pid, 0, 0);
        let _ = child.wait();
        steps
    }
}

// ---------------------------------------------------------------------------------------------
// Under qemu: the driver the gdb script single-steps, and the host side that runs both.

/// One way of calling an export.
#[derive(Clone, Copy)]
enum Call {
    ClockGettime(i32),
    Gettimeofday,
    ClockGetres(i32),
    Time,
    Getcpu,
    FlushIcache,
    Hwprobe,
    /// `getrandom` of this many bytes from a state restored before each call to one keyed and
    /// 16 bytes into its batch (so both counts of a call take the same path, without a syscall).
    Getrandom(usize),
}

/// Every clock id the images serve from the page (`HRES_MASK`, `RAW_MASK`, `COARSE_MASK`).
const SERVED_CLOCKS: [(&str, i32); 7] = [
    ("REALTIME", libc::CLOCK_REALTIME),
    ("MONOTONIC", libc::CLOCK_MONOTONIC),
    ("MONOTONIC_RAW", libc::CLOCK_MONOTONIC_RAW),
    ("BOOTTIME", libc::CLOCK_BOOTTIME),
    ("TAI", libc::CLOCK_TAI),
    ("REALTIME_COARSE", libc::CLOCK_REALTIME_COARSE),
    ("MONOTONIC_COARSE", libc::CLOCK_MONOTONIC_COARSE),
];

/// The base every clock of [`fill_gdb_page`] starts from.
const BASE_SEC: i64 = 1_700_000_000;

/// The page the single-stepped calls read: as [`fill_page`], at 1/256 ns per counter tick, so
/// that the tens of milliseconds gdb takes between the fill and the counter read (even a
/// 3 GHz counter, as qemu-riscv64's `rdtime` is the host's TSC, for 40 s) stay far from the
/// half second that would carry into the seconds. The counted path is then the fast path of a
/// live page between two updates: counter mode ARCH, sequence even and unchanged, no namespace,
/// no carry (checked after each call), 64-bit arithmetic exact.
fn fill_gdb_page(mapped: &vdso_kernel_stub::MappedVdso) {
    fill_page(mapped, 1, 8);
}

/// Stops this process with the architecture's breakpoint instruction, `entry` in the first
/// argument register and `index` in the second, for the gdb script to read.
#[inline(never)]
fn trap(entry: usize, index: usize) {
    // SAFETY: a breakpoint trap; under gdb the script moves the pc past it and continues.
    // Nothing else is touched.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("brk #0", in("x0") entry, in("x1") index, options(nostack))
    };
    // SAFETY: as above (`ebreak`, spelt as its 4-byte word so it is never the 2-byte c.ebreak).
    #[cfg(target_arch = "riscv64")]
    unsafe {
        std::arch::asm!(".4byte 0x00100073", in("a0") entry, in("a1") index, options(nostack))
    };
    // loongarch64 is counted from qemu's execution log instead (gdb-multiarch does not know
    // it; see `gdb::count_traced`): nothing to stop at. `gdb_child` refuses other
    // architectures before any trap.
    #[cfg(not(any(target_arch = "aarch64", target_arch = "riscv64")))]
    let _ = (entry, index);
}

/// The guest side: maps our image, lists the calls its exports allow (printing
/// `icount-func INDEX NAME`), then makes each call twice, each after a [`trap`] and a fresh
/// fill of the page, and checks that the fast path answered.
fn gdb_child() {
    use vdso_kernel_stub::symbols::DynImage;
    if !cfg!(any(target_arch = "aarch64", target_arch = "riscv64", target_arch = "loongarch64")) {
        eprintln!(
            "icount: --gdb-child runs under qemu-user (aarch64, riscv64, loongarch64), not on this architecture"
        );
        exit(2);
    }
    let image = linux_vdso::Image::native().expect("an architecture of the table");
    let (mapped, _) = map_ours();
    let info = image.arch().info();
    let dynimg = DynImage::parse(mapped.image()).expect("parse our image");
    let mut calls: Vec<(String, usize, Call)> = Vec::new();
    for export in info.exports.iter().filter(|e| !e.weak) {
        let sym = dynimg.lookup(export.name, info.version_node).expect("every export resolves");
        let addr = dynimg.address(&sym);
        let base = export.name.strip_prefix(info.symbol_prefix).unwrap_or(export.name);
        match base {
            "clock_gettime" => {
                for (name, id) in SERVED_CLOCKS {
                    calls.push((format!("clock_gettime({name})"), addr, Call::ClockGettime(id)));
                }
            }
            "gettimeofday" => calls.push((base.into(), addr, Call::Gettimeofday)),
            "clock_getres" => {
                calls.push(("clock_getres(MONOTONIC)".into(), addr, Call::ClockGetres(libc::CLOCK_MONOTONIC)))
            }
            "time" => calls.push((base.into(), addr, Call::Time)),
            "getcpu" => calls.push((base.into(), addr, Call::Getcpu)),
            "flush_icache" => calls.push((base.into(), addr, Call::FlushIcache)),
            "riscv_hwprobe" => calls.push((base.into(), addr, Call::Hwprobe)),
            "getrandom" => {
                // Key the state now, before any trap: a call between a trap and the counted call
                // would be counted instead.
                fill_gdb_page(&mapped);
                // SAFETY: `addr` is the image's getrandom, whose prototype `GetrandomFn` is.
                gdb_getrandom_state(unsafe { std::mem::transmute::<usize, GetrandomFn>(addr) });
                // 16 bytes from the batch. A refill (two ChaCha20 blocks, some 3,400 riscv64
                // instructions) is beyond gdb's stepping here (about 100 steps a second): the
                // block function's counts are x86_64's, by callgrind.
                calls.push(("getrandom(16)".into(), addr, Call::Getrandom(16)));
            }
            "rt_sigreturn" => {} // not a function: the kernel returns signal handlers through it
            other => {
                eprintln!("icount: no way to call the export {other} yet; add it to gdb_child");
                exit(1);
            }
        }
    }
    for (i, (name, _, _)) in calls.iter().enumerate() {
        println!("icount-func {i} {name}");
    }
    // The image's loaded bytes, for a count from qemu's execution log (every instruction there
    // is a call's).
    let start = mapped.image_base() as usize;
    println!("icount-image {start:#x} {:#x}", start + mapped.image_len());
    for (i, (name, addr, call)) in calls.iter().enumerate() {
        for _ in 0..2 {
            trap(*addr, i);
            fill_gdb_page(&mapped);
            // SAFETY: `addr` is the export's entry in the mapped image; each is called with its
            // C prototype and valid pointers.
            let ok = unsafe { make_call(*addr, *call) };
            if !ok {
                eprintln!("icount: {name} did not answer from the page's fast path");
                exit(1);
            }
        }
    }
}

/// Calls the export at `addr` once as `call` says; whether the answer is the fast path's.
///
/// # Safety
/// `addr` must be the mapped entry point of the export `call` describes.
unsafe fn make_call(addr: usize, call: Call) -> bool {
    let mut ts = Ts { tv_sec: 0, tv_nsec: 0 };
    // SAFETY (all transmutes and calls): per the caller, `addr` is that export, with that
    // prototype; every pointer passed is valid for the call.
    unsafe {
        match call {
            Call::ClockGettime(id) => {
                let f = std::mem::transmute::<usize, ClockFn>(addr);
                let r = f(id, &mut ts);
                let coarse = id == libc::CLOCK_REALTIME_COARSE || id == libc::CLOCK_MONOTONIC_COARSE;
                // Counter clocks lie half a second on, short of the carry; COARSE ones exactly on.
                r == 0
                    && ts.tv_sec == BASE_SEC
                    && if coarse {
                        ts.tv_nsec == 500_000_000
                    } else {
                        (500_000_000..1_000_000_000).contains(&ts.tv_nsec)
                    }
            }
            Call::Gettimeofday => {
                let f = std::mem::transmute::<usize, TodFn>(addr);
                let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
                f(&mut tv, std::ptr::null_mut()) == 0 && tv.tv_sec == BASE_SEC && tv.tv_usec >= 500_000
            }
            Call::ClockGetres(id) => {
                let f = std::mem::transmute::<usize, ClockFn>(addr);
                f(id, &mut ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 1
            }
            Call::Time => std::mem::transmute::<usize, TimeFn>(addr)(std::ptr::null_mut()) == BASE_SEC,
            // getcpu and flush_icache are the syscall on riscv64: what is counted is the image's
            // side of it (one `ecall` counts one).
            Call::Getcpu => {
                let (mut cpu, mut node) = (u32::MAX, u32::MAX);
                std::mem::transmute::<usize, CpuFn>(addr)(&mut cpu, &mut node, std::ptr::null_mut()) == 0
                    && cpu != u32::MAX
            }
            Call::FlushIcache => {
                type FlushFn = unsafe extern "C" fn(usize, usize, usize) -> i32;
                std::mem::transmute::<usize, FlushFn>(addr)(0, 0, 0) == 0
            }
            Call::Getrandom(len) => {
                let f = std::mem::transmute::<usize, GetrandomFn>(addr);
                let (state, state_len, snapshot) = gdb_getrandom_state(f);
                std::ptr::copy_nonoverlapping(snapshot.as_ptr(), state, state_len);
                let mut buf = vec![0u8; len];
                f(buf.as_mut_ptr(), len, 0, state, state_len) == len as isize
            }
            Call::Hwprobe => {
                // One pair, key 0 (MVENDORID), all CPUs, no flags: answered from the page.
                type HwprobeFn = unsafe extern "C" fn(*mut [i64; 2], usize, usize, *mut u8, u32) -> i32;
                let mut pair = [0i64, -7];
                std::mem::transmute::<usize, HwprobeFn>(addr)(&mut pair, 1, 0, std::ptr::null_mut(), 0) == 0
                    && pair == [0, 0]
            }
        }
    }
}

/// The state the driver's `getrandom` calls restore: allocated, keyed by one 16-byte call, and
/// the bytes it had then.
fn gdb_getrandom_state(f: GetrandomFn) -> (*mut u8, usize, &'static [u8]) {
    static STATE: std::sync::OnceLock<(usize, usize, Vec<u8>)> = std::sync::OnceLock::new();
    let (state, len, snapshot) = STATE.get_or_init(|| {
        let (state, len) = getrandom_state(f);
        let mut buf = [0u8; 16];
        // SAFETY: `buf` holds 16 bytes; the state is this thread's.
        assert_eq!(unsafe { f(buf.as_mut_ptr(), 16, 0, state, len) }, 16, "the warm-up call");
        // SAFETY: the state is `len` bytes of our own mapping.
        (state as usize, len, unsafe { std::slice::from_raw_parts(state, len) }.to_vec())
    });
    (*state as *mut u8, *len, snapshot)
}

mod gdb {
    //! The host side of the qemu counts: builds the driver for each architecture, runs it under
    //! `qemu-<arch> -g PORT` and `gdb-multiarch` with [`SCRIPT`], and compares with the
    //! committed expectations.

    use std::collections::BTreeMap;
    use std::fs;
    use std::io::Read;
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use linux_vdso::abi::Arch;

    /// The gdb side: connect, then at each of the driver's traps read the entry point and the
    /// call's index, step over the trap, run to the entry and `stepi` until the pc is the link
    /// register's return address. Prints `icount-count INDEX N`.
    const SCRIPT: &str = r#"
import gdb, time
gdb.execute("set pagination off")
gdb.execute("set confirm off")
deadline = time.time() + 20
while True:
    try:
        gdb.execute("target remote 127.0.0.1:%d" % PORT, to_string=True)
        break
    except gdb.error:
        if time.time() > deadline:
            raise
        time.sleep(0.05)
arch = gdb.selected_frame().architecture().name()
if arch.startswith("aarch64"):
    arg0, arg1, link, trap = "$x0", "$x1", "$x30", 0xd4200000
elif arch.startswith("riscv"):
    arg0, arg1, link, trap = "$a0", "$a1", "$ra", 0x00100073
else:
    raise gdb.GdbError("icount: no rules for " + arch)
def reg(r):
    return int(gdb.parse_and_eval(r)) & 0xffffffffffffffff
def word(addr):
    return int.from_bytes(gdb.selected_inferior().read_memory(addr, 4).tobytes(), "little")
while True:
    gdb.execute("continue", to_string=True)
    if not gdb.selected_inferior().threads():
        break
    pc = reg("$pc")
    if word(pc) != trap:
        raise gdb.GdbError("icount: stopped at %#x, not at the driver's trap" % pc)
    entry, index = reg(arg0), reg(arg1)
    gdb.execute("set $pc = %d" % (pc + 4))
    gdb.execute("tbreak *%d" % entry, to_string=True)
    gdb.execute("continue", to_string=True)
    if reg("$pc") != entry:
        raise gdb.GdbError("icount: did not reach the entry %#x" % entry)
    ret, n = reg(link), 0
    while True:
        gdb.execute("stepi", to_string=True)
        n += 1
        if reg("$pc") == ret:
            break
        if n > 100000:
            raise gdb.GdbError("icount: no return after 100000 steps")
    print("icount-count %d %d" % (index, n))
"#;

    /// Compares one arch's `counts` with the `expected` rows: (failures: a count above its
    /// expectation or without one; notes: a count below it).
    pub fn compare(
        expected: &[(String, String, u64)],
        arch: &str,
        counts: &[(String, u64)],
    ) -> (Vec<String>, Vec<String>) {
        let (mut failures, mut notes) = (Vec::new(), Vec::new());
        for (f, n) in counts {
            match expected.iter().find(|(a, g, _)| a == arch && g == f) {
                None => failures.push(format!(
                    "{arch} {f}: no expected count in examples/icount-expected.txt (run with --update)"
                )),
                Some((_, _, e)) if n > e => {
                    failures.push(format!("{arch} {f}: {n} instructions, more than the expected {e}"))
                }
                Some((_, _, e)) if n < e => notes.push(format!(
                    "{arch} {f}: {n} instructions, fewer than the expected {e} (--update records it)"
                )),
                Some(_) => {}
            }
        }
        (failures, notes)
    }

    /// Where the committed expected counts live.
    fn expected_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/icount-expected.txt")
    }

    /// `arch function count` lines, `#` comments.
    fn read_expected() -> Vec<(String, String, u64)> {
        parse_expected(&fs::read_to_string(expected_path()).unwrap_or_default())
    }

    /// The rows of an expected-counts text.
    pub fn parse_expected(text: &str) -> Vec<(String, String, u64)> {
        text.lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?.to_string(), w.next()?.to_string(), w.next()?.parse().ok()?))
            })
            .collect()
    }

    fn target_dir() -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
    }

    /// Waits for `child` at most `limit`; kills it after that.
    fn wait_for(child: &mut Child, limit: Duration, what: &str) -> Result<std::process::ExitStatus, String> {
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{what} did not finish within {} s", limit.as_secs()));
                }
            }
        }
    }

    /// Whether gdb-multiarch can debug `arch` (its `set architecture` list names it; Debian 12's
    /// gdb 13 has no LoongArch).
    fn gdb_knows(arch: Arch) -> bool {
        let family = arch.name().trim_end_matches(|c: char| c.is_ascii_digit());
        Command::new("gdb-multiarch").args(["-nx", "-batch", "-ex", "set architecture"]).output().is_ok_and(
            |o| {
                let text =
                    String::from_utf8_lossy(&o.stdout).to_lowercase() + &String::from_utf8_lossy(&o.stderr);
                text.split([' ', ',', '\n']).any(|w| w.starts_with(family))
            },
        )
    }

    /// Builds the driver for `arch` (its std from rust-src where the row says rustup has none)
    /// and returns its path.
    fn build_driver(arch: Arch) -> Result<PathBuf, String> {
        let info = arch.info();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // The driver's own code is not counted, so the quicker debug build serves.
        let mut cmd = Command::new(&cargo);
        cmd.args(["build", "--quiet", "--example", "icount", "--target", info.linux_target])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if info.build_std {
            cmd.env("RUSTC_BOOTSTRAP", "1").arg("-Zbuild-std=std,panic_abort");
        }
        let status = cmd.status().map_err(|e| format!("running {cargo}: {e}"))?;
        if !status.success() {
            return Err(format!("building the {} driver failed", info.name));
        }
        Ok(target_dir().join(info.linux_target).join("debug/examples/icount"))
    }

    /// Counts every call of one architecture's image: (function, instructions) in the driver's
    /// order; through gdb where gdb-multiarch knows the architecture, else from qemu's log.
    fn count(arch: Arch) -> Result<Vec<(String, u64)>, String> {
        if !gdb_knows(arch) {
            return count_traced(arch);
        }
        let info = arch.info();
        let exe = build_driver(arch)?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let script = super::out_dir().join(format!("gdb-step-{}.py", info.name));
        fs::write(&script, format!("PORT = {port}\n{SCRIPT}"))
            .map_err(|e| format!("writing {script:?}: {e}"))?;
        let mut qemu = vdso_launcher::foreign::qemu_command(arch, info.emulation.qemu)
            .args(["-L", info.emulation.ld_prefix, "-g", &port.to_string()])
            .arg(&exe)
            .arg("--gdb-child")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running {} (scripts/setup.sh installs it): {e}", info.emulation.qemu))?;
        let gdb = Command::new("gdb-multiarch")
            .args(["-nx", "-batch", "-x"])
            .arg(&script)
            .stdout(Stdio::piped())
            .spawn();
        let mut gdb = match gdb {
            Ok(g) => g,
            Err(e) => {
                let _ = qemu.kill();
                let _ = qemu.wait();
                return Err(format!("running gdb-multiarch (scripts/setup.sh installs it): {e}"));
            }
        };
        let limit = Duration::from_secs(60);
        let gdb_status = wait_for(&mut gdb, limit, "gdb-multiarch");
        let qemu_status = wait_for(&mut qemu, Duration::from_secs(5), info.emulation.qemu);
        let (mut gdb_out, mut qemu_out) = (String::new(), String::new());
        gdb.stdout.take().map(|mut o| o.read_to_string(&mut gdb_out));
        qemu.stdout.take().map(|mut o| o.read_to_string(&mut qemu_out));
        if !gdb_status?.success() || !qemu_status?.success() {
            return Err(format!("the {} count failed (gdb said: {})", info.name, gdb_out.trim()));
        }
        let names = tagged(&qemu_out, "icount-func ");
        let mut counted = Vec::new();
        for (i, n) in tagged(&gdb_out, "icount-count ") {
            counted.push((i, n.parse::<u64>().map_err(|_| "a count that is not a number")?));
        }
        pair_counts(info.name, names, counted)
    }

    /// Counts one architecture's calls from qemu's own execution log: the driver runs under
    /// `qemu-<arch> -singlestep -d exec,nochain`, which makes every instruction its own
    /// translation block and logs each block as it runs (`Trace N: HOST [CS_BASE/PC/...]`), so
    /// the log lists every executed guest pc. The driver prints the image's range; each maximal
    /// run of consecutive pcs inside it is one call (between two calls the driver refills the
    /// page in its own code), its length the instructions of the call, `ret` included.
    fn count_traced(arch: Arch) -> Result<Vec<(String, u64)>, String> {
        let info = arch.info();
        let exe = build_driver(arch)?;
        let log = super::out_dir().join(format!("exec-{}.log", info.name));
        let _ = fs::remove_file(&log);
        let mut qemu = vdso_launcher::foreign::qemu_command(arch, info.emulation.qemu)
            .args(["-singlestep", "-d", "exec,nochain", "-D"])
            .arg(&log)
            .arg(&exe)
            .arg("--gdb-child")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running {} (scripts/setup.sh installs it): {e}", info.emulation.qemu))?;
        let mut out = String::new();
        qemu.stdout.take().map(|mut o| o.read_to_string(&mut out));
        if !wait_for(&mut qemu, Duration::from_secs(120), info.emulation.qemu)?.success() {
            return Err(format!("the {} driver failed under {}", info.name, info.emulation.qemu));
        }
        let names = tagged(&out, "icount-func ");
        let (start, end) = tagged(&out, "icount-image ")
            .first()
            .and_then(|(_, v)| v.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .and_then(|(a, b)| Some((hex(&a)?, hex(&b)?)))
            .ok_or("the driver printed no image range")?;
        let text = fs::read_to_string(&log).map_err(|e| format!("reading {}: {e}", log.display()))?;
        let mut runs: Vec<u64> = Vec::new();
        let mut inside = false;
        for line in text.lines().filter(|l| l.starts_with("Trace ")) {
            let pc = line
                .split_once('[')
                .and_then(|(_, r)| r.split('/').nth(1))
                .and_then(|p| u64::from_str_radix(p, 16).ok());
            let Some(pc) = pc else { continue };
            let now = (start..end).contains(&pc);
            match (inside, now) {
                (false, true) => runs.push(1),
                (true, true) => *runs.last_mut().expect("a run") += 1,
                _ => {}
            }
            inside = now;
        }
        let _ = fs::remove_file(&log);
        // getrandom's state is keyed by calls into the image before the counted ones (its query
        // and one read, `gdb_getrandom_state`): those runs come first in the log; drop them.
        let setup = if names.iter().any(|(_, n)| crate::getrandom_len(n).is_some()) { 2 } else { 0 };
        if runs.len() == 2 * names.len() + setup {
            runs.drain(..setup);
        }
        if runs.len() != 2 * names.len() {
            return Err(format!(
                "{}: {} calls in the log, the driver made {}",
                info.name,
                runs.len(),
                2 * names.len()
            ));
        }
        pair_counts(
            info.name,
            names,
            runs.chunks(2).enumerate().flat_map(|(i, c)| c.iter().map(move |&n| (i, n))),
        )
    }

    /// `(index, rest)` of every `tag INDEX rest` line of `text`.
    fn tagged(text: &str, tag: &str) -> Vec<(usize, String)> {
        text.lines()
            .filter_map(|l| {
                let rest = l.strip_prefix(tag)?.trim();
                if tag == "icount-image " {
                    return Some((0, rest.to_string()));
                }
                let (i, v) = rest.split_once(' ')?;
                Some((i.parse().ok()?, v.to_string()))
            })
            .collect()
    }

    fn hex(s: &str) -> Option<u64> {
        u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
    }

    /// The driver's calls (`names`) with their two counts each: one row per call, both counts
    /// equal.
    fn pair_counts(
        arch: &str,
        names: Vec<(usize, String)>,
        counted: impl IntoIterator<Item = (usize, u64)>,
    ) -> Result<Vec<(String, u64)>, String> {
        let mut counts: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
        for (i, n) in counted {
            counts.entry(i).or_default().push(n);
        }
        let mut out = Vec::new();
        for (i, name) in names {
            match counts.get(&i).map(Vec::as_slice) {
                Some([a, b]) if a == b => out.push((name, *a)),
                Some([a, b]) => {
                    return Err(format!("{arch} {name}: two calls counted {a} and {b}: not deterministic"))
                }
                other => return Err(format!("{arch} {name}: expected two counts, got {other:?}")),
            }
        }
        if out.is_empty() {
            return Err(format!("{arch}: the driver listed no calls"));
        }
        Ok(out)
    }

    /// Counts every architecture of `arches`, prints one table of every arch's counts (`x86`'s
    /// callgrind rows beside them when given), and checks (`check`) or rewrites (`update`) the
    /// expected counts. False if a count failed or grew.
    pub fn outer(arches: &[Arch], x86: &[(String, f64, f64)], check: bool, update: bool) -> bool {
        let mut results = Vec::new();
        let mut ok = true;
        for &arch in arches {
            let start = Instant::now();
            match count(arch) {
                Ok(r) => {
                    eprintln!("icount: {} counted in {:.1} s", arch.name(), start.elapsed().as_secs_f64());
                    let text: String = r.iter().map(|(f, n)| format!("{f} {n}\n")).collect();
                    let _ = fs::write(super::out_dir().join(format!("{}.txt", arch.name())), text);
                    results.push((arch, r));
                }
                Err(e) => {
                    eprintln!("icount: {e}");
                    ok = false;
                }
            }
        }
        if results.is_empty() {
            return false;
        }
        // x86_64's getcpu row is its RDPID mode; the rows are matched by function.
        let x86_of = |f: &str| x86.iter().find(|(g, _, _)| g.strip_suffix(" (RDPID mode)").unwrap_or(g) == f);
        let mut functions: Vec<&str> =
            x86.iter().map(|(f, _, _)| f.strip_suffix(" (RDPID mode)").unwrap_or(f)).collect();
        for (_, r) in &results {
            for (f, _) in r {
                if !functions.contains(&f.as_str()) {
                    functions.push(f);
                }
            }
        }
        println!(
            "\ninstructions per call, every arch (x86_64: callgrind; the others from entry to return: stepi \
             through qemu's gdb stub, loongarch64 from qemu's -singlestep execution log)\n"
        );
        print!("{:<34}", "function");
        if !x86.is_empty() {
            print!(" {:>8} {:>8}", "x86_64", "(kernel)");
        }
        for (arch, _) in &results {
            print!(" {:>8}", arch.name());
        }
        println!();
        for f in &functions {
            print!("{f:<34}");
            if !x86.is_empty() {
                match x86_of(f) {
                    Some((_, o, k)) => print!(" {o:>8.0} {k:>8.0}"),
                    None => print!(" {:>8} {:>8}", "-", "-"),
                }
            }
            for (_, r) in &results {
                match r.iter().find(|(g, _)| g == f) {
                    Some((_, n)) => print!(" {n:>8}"),
                    None => print!(" {:>8}", "-"),
                }
            }
            println!();
        }
        println!(
            "\n(x86_64 getcpu: RDPID mode; riscv64 getcpu and flush_icache are the syscall, its ecall \
             counted as one; loongarch64 getcpu reads CSR.TID and the per-CPU page; -: not exported or not \
             counted)"
        );
        let expected = read_expected();
        if check {
            for (arch, r) in &results {
                let (failures, notes) = compare(&expected, arch.name(), r);
                for line in notes.iter().chain(&failures) {
                    eprintln!("icount: {line}");
                }
                ok &= failures.is_empty();
            }
        }
        if update {
            let counted: Vec<&str> = results.iter().map(|(a, _)| a.name()).collect();
            let mut text = String::from(
                "# Instructions per call of our images under qemu-user, counted by single-stepping through\n\
                 # qemu's gdb stub (cargo run --release --example icount). `--check` fails if a count grows;\n\
                 # `--update` rewrites this file. arch function instructions\n",
            );
            for (a, f, n) in expected.iter().filter(|(a, _, _)| !counted.contains(&a.as_str())) {
                text += &format!("{a} {f} {n}\n");
            }
            for (arch, r) in &results {
                for (f, n) in r {
                    text += &format!("{} {f} {n}\n", arch.name());
                }
            }
            match fs::write(expected_path(), text) {
                Ok(()) => eprintln!("icount: wrote {}", expected_path().display()),
                Err(e) => {
                    eprintln!("icount: writing {}: {e}", expected_path().display());
                    ok = false;
                }
            }
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::gdb::{compare, parse_expected};

    fn counts(rows: &[(&str, u64)]) -> Vec<(String, u64)> {
        rows.iter().map(|(f, n)| (f.to_string(), *n)).collect()
    }

    #[test]
    fn a_grown_or_unrecorded_count_fails_the_gate_and_a_smaller_one_does_not() {
        let expected =
            parse_expected("# comment\naarch64 gettimeofday 45\naarch64 clock_getres(MONOTONIC) 23\n");
        let same =
            compare(&expected, "aarch64", &counts(&[("gettimeofday", 45), ("clock_getres(MONOTONIC)", 23)]));
        assert_eq!(same, (vec![], vec![]));
        let (failures, notes) =
            compare(&expected, "aarch64", &counts(&[("gettimeofday", 46), ("clock_getres(MONOTONIC)", 22)]));
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("gettimeofday: 46 instructions, more than the expected 45"));
        assert_eq!(notes.len(), 1, "{notes:?}");
        let (failures, _) = compare(&expected, "riscv64", &counts(&[("gettimeofday", 1)]));
        assert!(failures[0].contains("no expected count"), "{failures:?}");
    }

    #[test]
    fn the_committed_expectations_cover_every_callable_export_of_every_emulated_arch() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/icount-expected.txt"))
                .expect("examples/icount-expected.txt");
        let expected = parse_expected(&text);
        for arch in [
            linux_vdso::abi::Arch::Riscv64,
            linux_vdso::abi::Arch::Aarch64,
            linux_vdso::abi::Arch::Loongarch64,
        ] {
            let info = arch.info();
            for export in info.exports {
                let base = export.name.strip_prefix(info.symbol_prefix).unwrap_or(export.name);
                if base == "rt_sigreturn" {
                    continue;
                }
                assert!(
                    expected.iter().any(|(a, f, _)| a == info.name && f.starts_with(base)),
                    "{} {base} has no expected count",
                    info.name
                );
            }
        }
    }
}
