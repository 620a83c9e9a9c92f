//! The proof on bare metal: `examples/kernel`'s riscv64 part (a tiny S-mode kernel) maps the riscv64 image
//! at a random address in a user address space, keeps its data page fresh from the timer, and
//! runs a user program that resolves the image like a libc and checks every clock. Booted twice
//! under `qemu-system-riscv64 -machine virt -bios default` (OpenSBI); the kernel's report must
//! show that the served clocks never trapped, that unserved ids reached the kernel and came back
//! as -EINVAL, and that signal handlers returned through `__vdso_rt_sigreturn`.

use linux_vdso::{Arch, Image};

#[path = "../support/example_kernel.rs"]
mod example_kernel;

use example_kernel::{field, report_line};

const TARGET: &str = "riscv64gc-unknown-none-elf";

fn boot(elf: &std::path::Path) -> String {
    let args = ["-machine", "virt", "-nographic", "-m", "128M", "-bios", "default", "-no-reboot"];
    example_kernel::boot("qemu-system-riscv64", &args, elf, "Debian: qemu-system-misc").0
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "boots a full-system emulator; the x86_64 run covers it")]
fn riscv_kernel_serves_every_clock_without_a_trap_and_returns_from_signals_through_the_vdso() {
    let elf = example_kernel::build("riscv-kernel", TARGET);
    let image = Image::get(Arch::Riscv64);
    let sigreturn = image.symbol("__vdso_rt_sigreturn").unwrap().offset;

    let mut bases = Vec::new();
    for _ in 0..2 {
        let out = boot(&elf);
        let line = report_line(&out);
        assert!(line.starts_with("VDSO-KERNEL-REPORT: ok "), "kernel reports failure:\n{out}");
        // The served clocks never entered the kernel; the unserved ones did, from inside the
        // image, and got the kernel's -EINVAL back unchanged.
        assert_eq!(field(line, "served_ecalls"), "0", "{line}");
        assert_eq!(field(line, "fallback_ecalls"), "4", "{line}");
        assert_eq!(field(line, "fallback_from_vdso"), "4", "{line}");
        assert_eq!(field(line, "fallback_results"), "-22,-22,-22,-22", "{line}");
        assert!(field(line, "served_calls").parse::<u64>().unwrap() > 10_000, "{line}");
        // Both handlers were entered with ra = __vdso_rt_sigreturn and returned through it.
        assert_eq!(field(line, "signals"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_via_vdso"), "2", "{line}");
        assert_eq!(field(line, "handler_ra_ok"), "2", "{line}");
        assert_eq!(field(line, "frame_restored"), "1", "{line}");
        assert_eq!(field(line, "symbols"), "7", "{line}");
        assert_eq!(field(line, "kernel_bracket_err_ns"), "0", "{line}");
        assert_eq!(field(line, "res_coarse_ns"), (1_000_000_000 / image.hz()).to_string(), "{line}");
        assert_eq!(field(line, "timens_ok"), "1", "{line}");
        assert_eq!(field(line, "hwprobe_ok"), "1", "{line}");
        assert_eq!(field(line, "passthrough_from_vdso"), "2", "{line}");
        assert!(field(line, "ticks").parse::<u64>().unwrap() >= 5, "{line}");

        // The image sits where the kernel said, the program found it there, and the kernel's
        // sigreturn address is base + the generated table's offset.
        let base = u64::from_str_radix(field(line, "vdso_base").trim_start_matches("0x"), 16).unwrap();
        assert!((0x10_0000_0000..0x30_0000_0000).contains(&base), "{line}");
        assert!(out.contains(&format!("user: AT_SYSINFO_EHDR = {base:#x}")), "{out}");
        assert!(out.contains(&format!("= {:#x} (generated table)", base + sigreturn)), "{out}");
        bases.push(base);
    }
    assert_ne!(bases[0], bases[1], "the vDSO address is not randomised");
}
