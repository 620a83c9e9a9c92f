//! The proof on bare metal, aarch64: `examples/kernel`'s aarch64 part (EL1, 4 KiB-granule
//! translation tables, EL0 through `svc`/`eret`) maps the aarch64 image's `[data | timens slot |
//! image]` at a random address, keeps the data page fresh from the generic timer's virtual
//! timer interrupt (through the GIC), and runs the user program, which resolves the
//! `__kernel_*` symbols at `LINUX_2.6.39` as glibc and musl do. Booted four times under
//! `qemu-system-aarch64 -machine virt -cpu max`: with a GICv2 and a GICv3, each entered at EL1
//! and with `virtualization=on` at EL2 (which the kernel leaves for EL1); the kernel's report
//! must show that the served clocks never made an `svc`, that unserved ids reached the kernel
//! from inside the image and came back as -EINVAL, and that handlers without `SA_RESTORER`
//! returned through `__kernel_rt_sigreturn`, which the kernel took from the generated table.

use std::time::Duration;

use linux_vdso::{Arch, Image};

#[path = "../support/example_kernel.rs"]
mod example_kernel;

use example_kernel::{field, report_line};

const TARGET: &str = "aarch64-unknown-none";

fn boot(elf: &std::path::Path, machine: &str) -> (String, Duration) {
    let args = ["-machine", machine, "-cpu", "max", "-m", "128M", "-nographic", "-no-reboot"];
    example_kernel::boot("qemu-system-aarch64", &args, elf, "Debian: qemu-system-arm")
}

fn num(line: &str, key: &str) -> u64 {
    field(line, key).parse().unwrap_or_else(|_| panic!("{key} is not a number: {line}"))
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "boots a full-system emulator; the x86_64 run covers it")]
fn aarch64_kernel_serves_every_clock_without_an_svc_and_returns_from_signals_through_the_vdso() {
    let elf = example_kernel::build("aarch64-kernel", TARGET);
    let image = Image::get(Arch::Aarch64);
    let sigreturn = image.symbol("__kernel_rt_sigreturn").unwrap().offset;

    let mut bases = Vec::new();
    for (machine, el, gic) in [
        ("virt,gic-version=2", "1", "V2"),
        ("virt,gic-version=3", "1", "V3"),
        ("virt,gic-version=2,virtualization=on", "2", "V2"),
        ("virt,gic-version=3,virtualization=on", "2", "V3"),
    ] {
        let (out, took) = boot(&elf, machine);
        let line = report_line(&out);
        assert!(line.starts_with("VDSO-KERNEL-REPORT: ok "), "kernel reports failure:\n{out}");
        // A boot (the kernel, the program, power-off) takes about 0.2 s here; only a hang (the
        // helper's timeout) fails on time, so load cannot.
        eprintln!("aarch64-kernel boot ({machine}): {took:?}");
        assert_eq!(field(line, "el_entry"), el, "{line}");
        assert_eq!(field(line, "gic"), gic, "{line}");
        // The served clocks never entered the kernel; the unserved ones did, from an `svc`
        // inside the image, and got the kernel's -EINVAL back unchanged.
        assert_eq!(field(line, "served_svcs"), "0", "{line}");
        assert_eq!(field(line, "fallback_svcs"), "4", "{line}");
        assert_eq!(field(line, "fallback_from_vdso"), "4", "{line}");
        assert_eq!(field(line, "fallback_results"), "-22,-22,-22,-22", "{line}");
        assert!(num(line, "served_calls") > 10_000, "{line}");
        // clock_gettime, gettimeofday, clock_getres and rt_sigreturn at LINUX_2.6.39.
        assert_eq!(field(line, "symbols"), "4", "{line}");
        // Both handlers (no SA_RESTORER) were entered with x30 = __kernel_rt_sigreturn, saw it
        // there, and returned through it; the frame's edited x0 came back.
        assert_eq!(field(line, "signals"), "2", "{line}");
        assert_eq!(field(line, "x30_to_vdso"), "2", "{line}");
        assert_eq!(field(line, "handler_x30_ok"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_via_vdso"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_other"), "0", "{line}");
        assert_eq!(field(line, "frame_restored"), "1", "{line}");
        // The trampoline's words, no __kernel_time/__kernel_getcpu, EL0 reads CNTVCT_EL0, and
        // rt_sigreturn restored the FP/SIMD state (d8) from the frame's fpsimd_context.
        assert_eq!(field(line, "arch_checks_ok"), "1", "{line}");
        assert_eq!(field(line, "kernel_bracket_err_ns"), "0", "{line}");
        assert_eq!(field(line, "res_hres_ns"), "1", "{line}");
        assert_eq!(field(line, "res_coarse_ns"), (1_000_000_000 / image.hz()).to_string(), "{line}");
        assert_eq!(field(line, "timens_ok"), "1", "{line}");
        assert!(num(line, "ticks") >= 5, "{line}");
        // mult/shift came from CNTFRQ_EL0 (QEMU 7.2 sets 62.5 MHz; later machine versions 1 GHz).
        assert!(num(line, "cntfrq") >= 1_000_000, "{line}");
        assert!(out.contains(&format!("CNTFRQ_EL0 {} Hz", num(line, "cntfrq"))), "{out}");

        // The image sits where the kernel said, the program found it there, and the kernel's
        // sigreturn address is base + the generated table's offset.
        let base = u64::from_str_radix(field(line, "vdso_base").trim_start_matches("0x"), 16).unwrap();
        assert!((0x10_0000_0000..0x30_0000_0000).contains(&base), "{line}");
        assert!(out.contains(&format!("user: AT_SYSINFO_EHDR = {base:#x}")), "{out}");
        assert!(out.contains(&format!("= {:#x} (generated table)", base + sigreturn)), "{out}");
        bases.push(base);
    }
    bases.dedup();
    assert!(bases.len() > 1, "the vDSO address is not randomised: {bases:?}");
}
