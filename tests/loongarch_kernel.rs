//! The proof on bare metal, loongarch64: `examples/kernel`'s loongarch64 part (PLV0 in the
//! direct-mapped windows, a three-level page table walked by an `lddir`/`ldpte` TLB refill
//! handler, PLV3 through `syscall`/`ertn`) maps the loongarch64 image's `[data | timens slot |
//! per-CPU | image]` with 16 KiB pages at a random address, keeps the data page fresh from the
//! constant timer's interrupt, and runs the user program, which resolves the `__vdso_*` symbols
//! at `LINUX_5.10` through DT_HASH. Booted twice under `qemu-system-loongarch64 -machine virt`
//! (no firmware); the kernel's report must show that the served clocks never made a `syscall`,
//! that unserved ids reached the kernel from inside the image and came back as -EINVAL, that
//! handlers (loongarch has no `SA_RESTORER`) returned through `__vdso_rt_sigreturn`, which the
//! kernel took from the generated table, and that `__vdso_getcpu` followed `CSR.TID` and the
//! per-CPU page as the kernel moved the program between CPU numbers.

use std::time::Duration;

use linux_vdso::{Arch, Image, Profile};

#[path = "../support/example_kernel.rs"]
mod example_kernel;

use example_kernel::{field, report_line};

const TARGET: &str = "loongarch64-unknown-none";

fn boot(elf: &std::path::Path) -> (String, Duration) {
    let args = ["-machine", "virt", "-m", "1G", "-nographic", "-net", "none", "-no-reboot"];
    example_kernel::boot("qemu-system-loongarch64", &args, elf, "Debian: qemu-system-misc")
}

fn num(line: &str, key: &str) -> u64 {
    field(line, key).parse().unwrap_or_else(|_| panic!("{key} is not a number: {line}"))
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "boots a full-system emulator; the x86_64 run covers it")]
fn loongarch_kernel_serves_every_clock_without_a_syscall_and_returns_from_signals_through_the_vdso() {
    for (features, page_size) in [(&[][..], 16384), (&["pages-4k"][..], 4096)] {
        let elf = example_kernel::build_with("loongarch-kernel", TARGET, features);
        check_boots(&elf, page_size);
    }
}

/// The control: the same kernel publishing `clock_mode = NONE` makes every served call a syscall,
/// and the kernel's count sees them (so `served_syscalls=0` above is a count, not a constant),
/// while its answers still pass the program's checks.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "boots a full-system emulator; the x86_64 run covers it")]
fn loongarch_kernel_counts_served_clock_syscalls_when_the_page_says_no_counter() {
    let elf = example_kernel::build_with("loongarch-kernel", TARGET, &["control-clock-mode-none"]);
    let (out, _) = boot(&elf);
    let line = report_line(&out);
    assert!(line.starts_with("VDSO-KERNEL-REPORT: fail "), "the control passed:\n{out}");
    assert!(num(line, "served_syscalls") > 10_000, "{line}");
    assert_eq!(field(line, "failures"), "0", "{line}");
    assert_eq!(field(line, "timens_ok"), "1", "{line}");
}

/// Boots `elf`, a kernel with `page_size`-byte pages, twice: each report passes every check, and
/// the vDSO lands at two addresses.
fn check_boots(elf: &std::path::Path, page_size: u64) {
    // The image linked for the kernel's page size where the table has one, else the default
    // (16 KiB) image, each of its pages then four kernel pages.
    let image = Image::find(Arch::Loongarch64, Profile::Classic, page_size as usize)
        .unwrap_or(Image::get(Arch::Loongarch64));
    let sigreturn = image.symbol("__vdso_rt_sigreturn").unwrap().offset;
    let mut bases = Vec::new();
    for _ in 0..2 {
        let (out, took) = boot(elf);
        let line = report_line(&out);
        assert!(line.starts_with("VDSO-KERNEL-REPORT: ok "), "kernel reports failure:\n{out}");
        // A boot (the kernel, the program, power-off) takes well under a second here; only a
        // hang (the helper's timeout) fails on time, so load cannot.
        eprintln!("loongarch-kernel boot ({page_size}-byte pages): {took:?}");
        // The served clocks never entered the kernel; the unserved ones did, from a `syscall`
        // inside the image, and got the kernel's -EINVAL back unchanged.
        assert_eq!(field(line, "served_syscalls"), "0", "{line}");
        assert_eq!(field(line, "fallback_syscalls"), "4", "{line}");
        assert_eq!(field(line, "fallback_from_vdso"), "4", "{line}");
        assert_eq!(field(line, "fallback_results"), "-22,-22,-22,-22", "{line}");
        assert!(num(line, "served_calls") > 10_000, "{line}");
        // clock_gettime, gettimeofday, clock_getres, getcpu and rt_sigreturn at LINUX_5.10.
        assert_eq!(field(line, "symbols"), "5", "{line}");
        // Both handlers were entered with ra = __vdso_rt_sigreturn, saw it there, and returned
        // through it; the frame's edited a0 came back.
        assert_eq!(field(line, "signals"), "2", "{line}");
        assert_eq!(field(line, "handler_ra_ok"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_via_vdso"), "2", "{line}");
        assert_eq!(field(line, "sigreturn_other"), "0", "{line}");
        assert_eq!(field(line, "frame_restored"), "1", "{line}");
        // The trampoline's words, PLV3's rdtime.d against MONOTONIC.
        assert_eq!(field(line, "arch_checks_ok"), "1", "{line}");
        // getcpu on CPU 0, then after the kernel moved the program to CPUs 3, 64 and 0: the image
        // answered as the kernel does (CSR.TID, the node the kernel put in the per-CPU page).
        assert_eq!(field(line, "cpu_moves"), "3", "{line}");
        assert_eq!(field(line, "getcpu_ok"), "4", "{line}");
        // On CPU 64, past the page's 64 slots, the image asked the kernel (both its calls there,
        // with pointers and with NULL ones), and nowhere else.
        assert_eq!(field(line, "getcpu_from_vdso"), "2", "{line}");
        assert!(
            out.contains("user: __vdso_getcpu -> cpu 64, node 0 (kernel: cpu 64, node 0; rdtime.d id 64)"),
            "{out}"
        );
        assert!(
            out.contains("user: __vdso_getcpu -> cpu 3, node 1 (kernel: cpu 3, node 1; rdtime.d id 3)"),
            "{out}"
        );
        assert_eq!(field(line, "kernel_bracket_err_ns"), "0", "{line}");
        assert_eq!(field(line, "res_hres_ns"), "1", "{line}");
        assert_eq!(field(line, "res_coarse_ns"), (1_000_000_000 / image.hz()).to_string(), "{line}");
        assert_eq!(field(line, "timens_ok"), "1", "{line}");
        // With 4 KiB pages (and only then) the namespace's data page is a copy the kernel keeps
        // fresh (QEMU 7.2 translates 16 KiB blocks whole: examples/kernel/loongarch64/src/mm.rs),
        // and the clocks above passed through it.
        let copy = out.contains("time namespace: the data page is seen through a copy");
        assert_eq!(copy, page_size < 16384, "{out}");
        assert!(num(line, "ticks") >= 5, "{line}");
        // The kernel's pages, and the image's layout in the row's page size.
        assert_eq!(num(line, "page_size"), page_size, "{line}");
        assert_eq!(num(line, "layout_page_size"), image.page_size() as u64, "{line}");
        // mult/shift came from CPUCFG 4/5 (100 MHz on QEMU's virt).
        assert!(num(line, "counter_hz") >= 1_000_000, "{line}");
        assert!(out.contains(&format!("stable counter {} Hz", num(line, "counter_hz"))), "{out}");

        // The image sits where the kernel said, the program found it there, and the kernel's
        // sigreturn address is base + the generated table's offset.
        let base = u64::from_str_radix(field(line, "vdso_base").trim_start_matches("0x"), 16).unwrap();
        assert!((0x10_0000_0000..0x30_0000_0000).contains(&base), "{line}");
        assert_eq!(base % page_size, 0, "{line}");
        assert!(out.contains(&format!("user: AT_SYSINFO_EHDR = {base:#x}")), "{out}");
        assert!(out.contains(&format!("= {:#x} (generated table)", base + sigreturn)), "{out}");
        bases.push(base);
    }
    bases.dedup();
    assert!(bases.len() > 1, "the vDSO address is not randomised: {bases:?}");
}
