//! Side-by-side timing of our image, the host kernel's own vDSO and the raw syscall, in one
//! process, as NOTES.md prescribes: every variant is called through a function pointer, the
//! variants are interleaved A B … B A inside each repetition, and what is reported is the median
//! (with its spread) of the per-repetition ratios, which resolve a few percent where absolute
//! times drift more than that between runs.
//!
//! `cargo bench --bench vdso` prints a table and writes `target/bench/<arch>.json`, `.csv` and
//! `.svg`. `-- --svg PATH` also writes the chart to PATH (the README's is made that way),
//! `-- --quick` runs fewer repetitions, and `-- --only PREFIX` measures only the functions whose
//! names start with PREFIX (`--only getrandom`: the getrandom charts). getrandom's rows give each
//! variant a state of its own, allocated as its image's query says, and a buffer of the length. Under qemu-user (`--target riscv64gc-unknown-linux-gnu`,
//! `--target aarch64-unknown-linux-gnu`) there is no host vDSO: ours is compared with the
//! syscall and the counter floor (the ordered counter read alone, and with the least arithmetic).

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use common::*;
use vdso_kernel_stub::{Ticker, TickerConfig};

/// One way of calling one function: a name and a thunk that makes `k` calls writing to `out`.
struct Variant {
    name: &'static str,
    run: Box<dyn Fn(u32, *mut u8)>,
}

fn clock_variant(name: &'static str, f: ClockFn, clock: i32) -> Variant {
    Variant {
        name,
        run: Box::new(move |k, out| {
            let f = black_box(f);
            for _ in 0..k {
                // SAFETY: `out` is a valid, aligned timespec; `f` a mapped vDSO function or a
                // syscall wrapper.
                black_box(unsafe { f(black_box(clock), out.cast()) });
            }
        }),
    }
}

fn tod_variant(name: &'static str, f: TodFn) -> Variant {
    Variant {
        name,
        run: Box::new(move |k, out| {
            let f = black_box(f);
            for _ in 0..k {
                // SAFETY: `out` is a valid, aligned timeval (tz NULL).
                black_box(unsafe { f(out.cast(), std::ptr::null_mut()) });
            }
        }),
    }
}

/// Like [`clock_variant`], with `work` steps of a dependent multiply chain between calls: how
/// the call overlaps with the code around it (which the serialising counter read decides) shows
/// here and not in back-to-back calls.
fn spaced_clock_variant(name: &'static str, f: ClockFn, clock: i32, work: u32) -> Variant {
    Variant {
        name,
        run: Box::new(move |k, out| {
            let f = black_box(f);
            let mut x = black_box(1u64);
            for _ in 0..k {
                for _ in 0..work {
                    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
                }
                // SAFETY: as in `clock_variant`.
                black_box(unsafe { f(black_box(clock), out.cast()) });
            }
            black_box(x);
        }),
    }
}

/// `time` (x86_64 only: riscv64 has no vDSO `time`).
#[cfg(target_arch = "x86_64")]
fn time_variant(name: &'static str, f: TimeFn) -> Variant {
    Variant {
        name,
        run: Box::new(move |k, out| {
            let f = black_box(f);
            for _ in 0..k {
                // SAFETY: `out` is a valid, aligned time_t.
                black_box(unsafe { f(out.cast()) });
            }
        }),
    }
}

fn cpu_variant(name: &'static str, f: CpuFn) -> Variant {
    Variant {
        name,
        run: Box::new(move |k, out| {
            let f = black_box(f);
            for _ in 0..k {
                // SAFETY: `out` holds two u32.
                black_box(unsafe { f(out.cast(), out.wrapping_add(4).cast(), std::ptr::null_mut()) });
            }
        }),
    }
}

/// `getrandom` of `len` bytes into a buffer of its own, with a state of its own allocated as
/// `query`'s answer says (the syscall variant ignores its state).
fn getrandom_variant(name: &'static str, f: GetrandomFn, query: GetrandomFn, len: usize) -> Variant {
    let (state, state_len) = getrandom_state(query);
    let buf: &'static mut [u8] = Vec::leak(vec![0u8; len.max(1)]);
    let buf = buf.as_mut_ptr() as usize;
    Variant {
        name,
        run: Box::new(move |k, _| {
            let f = black_box(f);
            for _ in 0..k {
                // SAFETY: `buf` holds `len` bytes; the state was allocated as the query says and
                // is used by this thread only.
                black_box(unsafe { f(buf as *mut u8, black_box(len), 0, state, state_len) });
            }
        }),
    }
}

/// No call at all, shaped like `clock_gettime` (what the work between calls costs alone).
extern "C" fn no_call(_: i32, _: *mut Ts) -> i32 {
    0
}

/// The ordered counter read alone, shaped like `clock_gettime`.
extern "C" fn floor_counter(_: i32, ts: *mut Ts) -> i32 {
    let c = vdso_kernel_stub::counter::read_counter();
    // SAFETY: the benchmark passes a valid timespec.
    unsafe { (*ts).tv_nsec = c as i64 };
    0
}

/// `rdtscp` alone, shaped like `clock_gettime`: the ordered counter read Linux's x86_64 vDSO
/// uses on CPUs that have it, where ours uses `lfence; rdtsc` (`floor_counter`). Their relative
/// cost differs between CPUs, and with it the ratio of ours to the kernel's.
#[cfg(target_arch = "x86_64")]
extern "C" fn floor_rdtscp(_: i32, ts: *mut Ts) -> i32 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtscp` reads the TSC and TSC_AUX into registers; no memory effects.
    unsafe { std::arch::asm!("rdtscp", out("eax") lo, out("edx") hi, out("ecx") _, options(nostack, nomem)) };
    // SAFETY: the benchmark passes a valid timespec.
    unsafe { (*ts).tv_nsec = ((hi as u64) << 32 | lo as u64) as i64 };
    0
}

/// The counter plus the least arithmetic a time needs (scale, split into seconds).
extern "C" fn floor_math(_: i32, ts: *mut Ts) -> i32 {
    let c = vdso_kernel_stub::counter::read_counter();
    let ns = ((c as u128 * 6_710_886) >> 24) as u64;
    // SAFETY: the benchmark passes a valid timespec.
    unsafe {
        (*ts).tv_sec = (ns / 1_000_000_000) as i64;
        (*ts).tv_nsec = (ns % 1_000_000_000) as i64;
    }
    0
}

struct Row {
    function: &'static str,
    /// Per variant: name, median, min, max ns per call.
    stats: Vec<(&'static str, f64, f64, f64)>,
    /// Per pair (ours / other): other's name, median, p10, p90 of per-repetition ratios.
    ratios: Vec<(&'static str, f64, f64, f64)>,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// `-- --only PREFIX`: measure only the functions whose names start with it.
static ONLY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

fn measure(function: &'static str, variants: Vec<Variant>, reps: usize, calls: u32) -> Row {
    if ONLY.get().and_then(|o| o.as_deref()).is_some_and(|p| !function.starts_with(p)) {
        return Row { function, stats: Vec::new(), ratios: Vec::new() };
    }
    // Where the results are written moves through a page from one repetition to the next (the
    // same place for every variant within one): a store that happens to share its low 12 bits
    // with a data-page load stalls that load (4K aliasing), and a fixed buffer would make that
    // a systematic bias for one variant in one run.
    let mut buf = vec![0u64; 4096 / 8 + 8];
    for v in &variants {
        (v.run)(calls, buf.as_mut_ptr().cast()); // warm up: translate, fault in, fill caches
    }
    let n = variants.len();
    let mut samples = vec![Vec::with_capacity(reps); n];
    for rep in 0..reps {
        let out: *mut u8 = buf.as_mut_ptr().wrapping_add((rep * 17) % 512).cast();
        let mut one = vec![0.0; n];
        // A B ... B A: each variant runs once in each half, so drifts cancel within a pair.
        let order: Vec<usize> = (0..n).chain((0..n).rev()).collect();
        for &i in &order {
            let t = Instant::now();
            (variants[i].run)(calls, out);
            one[i] += t.elapsed().as_nanos() as f64 / calls as f64 / 2.0;
        }
        for i in 0..n {
            samples[i].push(one[i]);
        }
    }
    let stats = variants
        .iter()
        .zip(&samples)
        .map(|(v, s)| {
            let mut s = s.clone();
            (v.name, percentile(&mut s, 0.5), percentile(&mut s, 0.0), percentile(&mut s, 1.0))
        })
        .collect();
    let ratios = (1..n)
        .map(|j| {
            let mut r: Vec<f64> = samples[0].iter().zip(&samples[j]).map(|(a, b)| a / b).collect();
            (variants[j].name, percentile(&mut r, 0.5), percentile(&mut r, 0.1), percentile(&mut r, 0.9))
        })
        .collect();
    Row { function, stats, ratios }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let svg_out = args.iter().position(|a| a == "--svg").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    ONLY.set(only).expect("set once");
    // Every architecture but x86_64 runs under qemu-user here (riscv64, aarch64, loongarch64).
    let qemu = !cfg!(target_arch = "x86_64");
    let (reps, calls) = match (quick, qemu) {
        (true, _) => (15, 200),
        (false, false) => (101, 2000),
        (false, true) => (31, 500),
    };

    let (mapped, ours) = map_ours();
    let ticker = Ticker::start(&mapped, TickerConfig::default()).expect("ticker");
    #[cfg(target_arch = "x86_64")]
    if has_rdpid() {
        mapped.set_getcpu_mode(linux_vdso::abi::x86_64::GETCPU_MODE_RDPID).expect("getcpu mode");
    }
    let host = host();
    let arch = std::env::consts::ARCH;
    eprintln!(
        "{arch}: {reps} repetitions of {calls} calls per variant; host vDSO: {}",
        if host.is_some() { "yes" } else { "none (qemu-user)" }
    );

    let clocks: [(&'static str, i32); 6] = [
        ("clock_gettime(MONOTONIC)", libc::CLOCK_MONOTONIC),
        ("clock_gettime(REALTIME)", libc::CLOCK_REALTIME),
        ("clock_gettime(MONOTONIC_RAW)", libc::CLOCK_MONOTONIC_RAW),
        ("clock_gettime(BOOTTIME)", libc::CLOCK_BOOTTIME),
        ("clock_gettime(REALTIME_COARSE)", libc::CLOCK_REALTIME_COARSE),
        ("clock_gettime(MONOTONIC_COARSE)", libc::CLOCK_MONOTONIC_COARSE),
    ];
    let mut rows = Vec::new();
    for (name, clock) in clocks {
        let mut v = vec![clock_variant("ours", ours.clock_gettime, clock)];
        if let Some(h) = host {
            v.push(clock_variant("kernel", h.clock_gettime, clock));
        }
        v.push(clock_variant("syscall", sys_clock_gettime, clock));
        if !name.contains("COARSE") {
            v.push(clock_variant("counter", floor_counter, clock));
            #[cfg(target_arch = "x86_64")]
            v.push(clock_variant("rdtscp", floor_rdtscp, clock));
            v.push(clock_variant("counter+math", floor_math, clock));
        }
        rows.push(measure(name, v, reps, calls));
    }
    // The call pattern: the same call with independent-looking work between calls (a chain of
    // 30 dependent multiplies, about 90 cycles), which the counter read's ordering may or may
    // not let overlap with the call.
    let mut v = vec![spaced_clock_variant("ours", ours.clock_gettime, libc::CLOCK_MONOTONIC, 30)];
    if let Some(h) = host {
        v.push(spaced_clock_variant("kernel", h.clock_gettime, libc::CLOCK_MONOTONIC, 30));
    }
    v.push(spaced_clock_variant("work+empty call", no_call, libc::CLOCK_MONOTONIC, 30));
    rows.push(measure("clock_gettime(MONOTONIC), work between calls", v, reps, calls));
    let mut v = vec![tod_variant("ours", ours.gettimeofday)];
    if let Some(h) = host {
        v.push(tod_variant("kernel", h.gettimeofday));
    }
    v.push(tod_variant("syscall", sys_gettimeofday));
    rows.push(measure("gettimeofday", v, reps, calls));
    #[cfg(target_arch = "x86_64")]
    if let Some(t) = ours.time {
        let mut v = vec![time_variant("ours", t)];
        if let Some(h) = host.and_then(|h| h.time) {
            v.push(time_variant("kernel", h));
        }
        v.push(time_variant("syscall", sys_time));
        rows.push(measure("time", v, reps, calls));
    }
    let mut v = vec![clock_variant("ours", ours.clock_getres, libc::CLOCK_MONOTONIC)];
    if let Some(h) = host {
        v.push(clock_variant("kernel", h.clock_getres, libc::CLOCK_MONOTONIC));
    }
    v.push(clock_variant("syscall", sys_clock_getres, libc::CLOCK_MONOTONIC));
    rows.push(measure("clock_getres(MONOTONIC)", v, reps, calls));
    // aarch64's image has no getcpu (Entry falls back to the syscall): nothing to compare.
    if ours.has_getcpu {
        let mut v = vec![cpu_variant("ours", ours.getcpu)];
        if let Some(h) = host {
            v.push(cpu_variant("kernel", h.getcpu));
        }
        v.push(cpu_variant("syscall", sys_getcpu));
        // How each image answers: x86_64 RDPID (chosen above), riscv64 the syscall, loongarch64
        // CSR.TID (rdtime.d's counter ID) and the per-CPU page.
        let name = if cfg!(target_arch = "loongarch64") {
            "getcpu (CSR.TID + per-CPU page)".to_string()
        } else if qemu {
            format!("getcpu (syscall on {arch})")
        } else {
            "getcpu (RDPID mode)".into()
        };
        rows.push(measure(name.leak(), v, reps, calls));
    }
    if let Some(g) = ours.getrandom {
        for len in [16usize, 32, 256, 4096] {
            let mut v = vec![getrandom_variant("ours", g, g, len)];
            if let Some(h) = host.and_then(|h| h.getrandom) {
                v.push(getrandom_variant("kernel", h, h, len));
            }
            v.push(getrandom_variant("syscall", sys_getrandom, g, len));
            // 4096-byte calls are slow: fewer of them per sample.
            let k = if len > 1024 { (calls / 8).max(20) } else { calls };
            rows.push(measure(format!("getrandom({len})").leak(), v, reps, k));
        }
    }
    let stats = ticker.stop();
    rows.retain(|r| !r.stats.is_empty());

    print_table(arch, &rows);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    fs::create_dir_all(&dir).expect("create target/bench");
    fs::write(dir.join(format!("{arch}.json")), json(arch, &rows, reps, calls)).expect("write json");
    fs::write(dir.join(format!("{arch}.csv")), csv(&rows)).expect("write csv");
    let chart = svg(arch, &rows);
    fs::write(dir.join(format!("{arch}.svg")), &chart).expect("write svg");
    if let Some(p) = svg_out {
        fs::write(&p, &chart).expect("write --svg");
        eprintln!("chart written to {}", p.display());
    }
    eprintln!("results in {}/{arch}.{{json,csv,svg}}; ticker: {} updates", dir.display(), stats.ticks);
}

fn print_table(arch: &str, rows: &[Row]) {
    println!("\n{arch}: ns per call, median [min..max]; ratios are medians of paired per-repetition ratios [p10..p90]\n");
    for row in rows {
        println!("{}", row.function);
        for (name, med, min, max) in &row.stats {
            println!("    {name:<14} {med:>8.2} ns  [{min:.2}..{max:.2}]");
        }
        for (other, med, p10, p90) in &row.ratios {
            println!("    ours/{other:<9} {med:>8.3}     [{p10:.3}..{p90:.3}]");
        }
    }
}

fn json(arch: &str, rows: &[Row], reps: usize, calls: u32) -> String {
    let mut s = format!("{{\n  \"arch\": {arch:?},\n  \"repetitions\": {reps},\n  \"calls_per_sample\": {calls},\n  \"functions\": [\n");
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(s, "    {{\"function\": {:?}, \"ns_per_call\": {{", row.function);
        let parts: Vec<String> = row
            .stats
            .iter()
            .map(|(n, med, min, max)| {
                format!("{n:?}: {{\"median\": {med:.3}, \"min\": {min:.3}, \"max\": {max:.3}}}")
            })
            .collect();
        s += &parts.join(", ");
        s += "}, \"ratios\": {";
        let parts: Vec<String> = row
            .ratios
            .iter()
            .map(|(n, med, p10, p90)| {
                format!("\"ours/{n}\": {{\"median\": {med:.4}, \"p10\": {p10:.4}, \"p90\": {p90:.4}}}")
            })
            .collect();
        s += &parts.join(", ");
        s += if i + 1 < rows.len() { "}},\n" } else { "}}\n" };
    }
    s + "  ]\n}\n"
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from("function,variant,median_ns,min_ns,max_ns\n");
    for row in rows {
        for (n, med, min, max) in &row.stats {
            let _ = writeln!(s, "\"{}\",{n},{med:.3},{min:.3},{max:.3}", row.function);
        }
    }
    s
}

/// A horizontal bar chart of median ns per call, ours / kernel / syscall per function, on a log
/// scale (the syscall is ten times slower), with the machine it was measured on.
fn svg(arch: &str, rows: &[Row]) -> String {
    let colors = [("ours", "#2b7bb9"), ("kernel", "#999999"), ("syscall", "#d9822b")];
    let machine = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let (left, width, bar, gap) = (250.0, 520.0, 9.0, 12.0);
    let max = rows.iter().flat_map(|r| r.stats.iter().map(|s| s.1)).fold(1.0, f64::max);
    let scale = |ns: f64| (ns.max(0.5) / 0.5).log10() / (max / 0.5).log10() * width;
    let height = 70.0 + rows.len() as f64 * (3.0 * bar + gap) + 40.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">linux-vdso.so.1 ({arch}): median ns per call (log scale)</text>\n\
         <text x=\"10\" y=\"36\" fill=\"#555\">{} · host kernel {} · {}</text>\n",
        left + width + 90.0,
        xml(&machine),
        xml(kernel.trim()),
        if arch == "x86_64" { "one process, interleaved".into() } else { format!("under qemu-{arch} (no host vDSO)") }
    );
    for (i, (name, color)) in colors.iter().enumerate() {
        let x = 10.0 + i as f64 * 90.0;
        let _ = writeln!(s, "<rect x=\"{x}\" y=\"46\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"55\">{name}</text>", x + 14.0);
    }
    let mut y = 70.0;
    for row in rows {
        let _ = writeln!(s, "<text x=\"10\" y=\"{}\">{}</text>", y + 1.5 * bar + 4.0, xml(row.function));
        for (name, color) in colors {
            if let Some((_, med, _, _)) = row.stats.iter().find(|st| st.0 == name) {
                let w = scale(*med);
                let _ = writeln!(
                    s,
                    "<rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#333\">{med:.1} ns</text>",
                    left + w + 4.0,
                    y + bar - 1.0
                );
                y += bar;
            }
        }
        y +=
            gap + (3 - row.stats.iter().filter(|st| colors.iter().any(|c| c.0 == st.0)).count()) as f64 * bar;
    }
    s + "</svg>\n"
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
