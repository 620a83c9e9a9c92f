//! Shows the native image answering: maps it with a live data page (the kernel stub's ticker,
//! 100 years ahead on the wall clock so its answers cannot be the host's), resolves its symbols
//! the way a libc does, and prints what each function returns next to the host kernel's answer.
//! `scripts/build.sh` runs it natively (x86_64), under qemu-riscv64 (riscv64) and under
//! qemu-aarch64 (aarch64).

#[path = "../benches/common/mod.rs"]
mod common;

use common::*;
use vdso_kernel_stub::{Ticker, TickerConfig};

/// 100 Julian years.
const CENTURY_NS: i64 = 36_525 * 86_400 * 1_000_000_000;

fn main() {
    let image = linux_vdso::Image::native().expect("an architecture of the table");
    let (mapped, ours) = map_ours();
    let ticker =
        match Ticker::start(&mapped, TickerConfig { realtime_offset_ns: CENTURY_NS, ..Default::default() }) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("demo: cannot start the data-page ticker: {e}");
                std::process::exit(1);
            }
        };
    println!(
        "{} image mapped at {:#x} ({} data pages before it), symbols resolved at {}; wall clock +100 years",
        image.arch().name(),
        mapped.image_base() as usize,
        image.data_pages(),
        image.arch().version_node()
    );
    let clocks = [
        ("REALTIME", libc::CLOCK_REALTIME),
        ("MONOTONIC", libc::CLOCK_MONOTONIC),
        ("MONOTONIC_RAW", libc::CLOCK_MONOTONIC_RAW),
        ("REALTIME_COARSE", libc::CLOCK_REALTIME_COARSE),
        ("MONOTONIC_COARSE", libc::CLOCK_MONOTONIC_COARSE),
        ("BOOTTIME", libc::CLOCK_BOOTTIME),
        ("TAI", libc::CLOCK_TAI),
        ("PROCESS_CPUTIME_ID (kernel)", libc::CLOCK_PROCESS_CPUTIME_ID),
        ("id 10 (kernel: -EINVAL)", 10),
    ];
    println!("  {:<30} {:>24} {:>24}", "clock_gettime", "ours", "host syscall");
    for (name, id) in clocks {
        let mut a = Ts { tv_sec: 0, tv_nsec: 0 };
        let mut b = Ts { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: valid timespecs; the image stays mapped while `mapped` lives.
        let (ra, rb) = unsafe { ((ours.clock_gettime)(id, &mut a), sys_clock_gettime(id, &mut b)) };
        let show = |r: i32, t: &Ts| {
            if r == 0 {
                format!("{}.{:09}", t.tv_sec, t.tv_nsec)
            } else {
                format!("error {r}")
            }
        };
        println!("  {name:<30} {:>24} {:>24}", show(ra, &a), show(rb, &b));
    }
    let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
    let mut res = Ts { tv_sec: 0, tv_nsec: 0 };
    let (mut cpu, mut node) = (0u32, 0u32);
    // SAFETY: valid pointers.
    unsafe {
        (ours.gettimeofday)(&mut tv, std::ptr::null_mut());
        (ours.clock_getres)(libc::CLOCK_MONOTONIC, &mut res);
        (ours.getcpu)(&mut cpu, &mut node, std::ptr::null_mut());
    }
    println!(
        "  gettimeofday {}.{:06}, clock_getres(MONOTONIC) {} ns, getcpu cpu {cpu} node {node}",
        tv.tv_sec, tv.tv_usec, res.tv_nsec
    );
    let stats = ticker.stop();
    println!(
        "  data page updated {} times at {} Hz; counter {:.0} Hz",
        stats.ticks, stats.hz, stats.calibration.freq_hz
    );
}
