//! The proof on bare metal, x86_64 with two CPUs: `examples/kernel`'s x86_64 part (PVH boot,
//! long mode, 4-level paging, ring 3 through `syscall`/`sysretq`) maps the x86_64 image's
//! `[vvar | pvclock | hvclock | timens | image]` at a random address, calibrates the TSC against
//! the PIT, keeps the page fresh from the LAPIC timer, and runs the user program on each CPU in
//! turn. Booted twice under `qemu-system-x86_64 -cpu max -smp 2` (TCG, no KVM); the kernel's
//! report must show that the served clocks, `time` and `getcpu` never entered the kernel, that
//! `getcpu` named each CPU from its GDT segment (and `rdpid` where the CPU model has it), that
//! unserved ids came back as -EINVAL from the kernel, and that handlers returned through the
//! program's own `SA_RESTORER`.

use std::time::Duration;

use linux_vdso::{Arch, Image};

#[path = "../support/example_kernel.rs"]
mod example_kernel;

use example_kernel::{field, report_line};

const TARGET: &str = "x86_64-unknown-none";

fn boot(elf: &std::path::Path) -> (String, Duration) {
    let args = [
        "-machine",
        "pc,accel=tcg",
        "-cpu",
        "max",
        "-smp",
        "2",
        "-m",
        "128M",
        "-nographic",
        "-no-reboot",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ];
    example_kernel::boot("qemu-system-x86_64", &args, elf, "Debian: qemu-system-x86")
}

fn num(line: &str, key: &str) -> u64 {
    field(line, key).parse().unwrap_or_else(|_| panic!("{key} is not a number: {line}"))
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "boots a full-system emulator; the x86_64 run covers it")]
fn x86_kernel_serves_clocks_and_getcpu_on_two_cpus_without_a_syscall() {
    let elf = example_kernel::build("x86-kernel", TARGET);
    let image = Image::get(Arch::X86_64);

    let mut bases = Vec::new();
    for _ in 0..2 {
        let (out, took) = boot(&elf);
        let line = report_line(&out);
        assert!(line.starts_with("VDSO-KERNEL-REPORT: ok "), "kernel reports failure:\n{out}");
        // A boot (SeaBIOS, the kernel, the program on both CPUs, power-off) takes about 0.3 s
        // here; only a hang (the helper's timeout) fails on time, so load cannot.
        eprintln!("x86-kernel boot: {took:?}");
        // The served clocks, gettimeofday and time never entered the kernel; the unserved ids
        // did, from inside the image, and got the kernel's -EINVAL back unchanged.
        assert_eq!(field(line, "served_syscalls"), "0", "{line}");
        assert_eq!(field(line, "fallback_syscalls"), "4", "{line}");
        assert_eq!(field(line, "fallback_from_vdso"), "4", "{line}");
        assert_eq!(field(line, "fallback_results"), "-22,-22,-22,-22", "{line}");
        assert!(num(line, "served_calls") > 10_000, "{line}");
        assert_eq!(field(line, "symbols"), "5", "{line}");
        assert_eq!(field(line, "time_ok"), "1", "{line}");
        // Both handlers returned through the program's own restorer (no vDSO trampoline).
        assert_eq!(field(line, "signals"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_via_restorer"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_other"), "0", "{line}");
        assert_eq!(field(line, "handler_ret_ok"), "2", "{line}");
        assert_eq!(field(line, "frame_restored"), "1", "{line}");
        assert_eq!(field(line, "kernel_bracket_err_ns"), "0", "{line}");
        assert_eq!(field(line, "res_hres_ns"), "1", "{line}");
        assert_eq!(field(line, "res_coarse_ns"), (1_000_000_000 / image.hz()).to_string(), "{line}");
        assert_eq!(field(line, "timens_ok"), "1", "{line}");
        assert!(num(line, "ticks") >= 5, "{line}");
        // Two CPUs, the program ran on both, and on each __vdso_getcpu named it in every mode
        // the CPU has (lsl always, rdpid where CPUID says so) without a getcpu syscall from
        // the image; TSC_AUX (rdtscp) held the number too.
        assert_eq!(field(line, "cpus"), "2", "{line}");
        assert_eq!(field(line, "cpus_run"), "2", "{line}");
        let modes = 1 + num(line, "rdpid");
        assert_eq!(num(line, "getcpu_ok"), 2 * modes, "{line}");
        assert_eq!(field(line, "getcpu_from_vdso"), "0", "{line}");
        assert_eq!(field(line, "tsc_aux_ok"), "2", "{line}");
        for cpu in 0..2 {
            assert!(out.contains(&format!("user: CPU {cpu}: __vdso_getcpu -> {cpu} (lsl")), "{out}");
        }
        // The TSC rate came from the PIT calibration (a plausible rate, not a constant).
        assert!(num(line, "tsc_hz") > 100_000_000, "{line}");

        let base = u64::from_str_radix(field(line, "vdso_base").trim_start_matches("0x"), 16).unwrap();
        assert!((0x10_0000_0000..0x30_0000_0000).contains(&base), "{line}");
        assert!(out.contains(&format!("user: AT_SYSINFO_EHDR = {base:#x}")), "{out}");
        bases.push(base);
    }
    assert_ne!(bases[0], bases[1], "the vDSO address is not randomised");
}
