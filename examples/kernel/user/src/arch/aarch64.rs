//! aarch64: entry, `svc`, the signal handler's entry (the return address is x30, which the
//! kernel sets to the image's `__kernel_rt_sigreturn` when the handler has no `SA_RESTORER`),
//! and what only arm64 has to check: the trampoline's exact words (`mov x8, #139; svc #0`, what
//! libgcc, gdb and libunwind match), that the image has no `__kernel_time` or `__kernel_getcpu`
//! (arm64 Linux has neither), that EL0 may read the virtual counter the image reads, and that
//! `rt_sigreturn` restores the FP/SIMD registers from the frame's `fpsimd_context` record: `kill`
//! carries a pattern in `d8`, the `SIGUSR1` handler rewrites `v8` in the saved record, and `d8`
//! must come back rewritten.

use core::arch::{asm, global_asm, naked_asm};
use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering::SeqCst};

use vdso_kernel_stub::symbols::{DynImage, HashStyle, SymbolError};

use crate::{println, proto, read, resolve, Checker, Vdso};

/// The version node of every symbol (arm64's since 2.6.39; glibc and musl ask for it).
pub const VERSION: &str = "LINUX_2.6.39";
/// The names of `clock_gettime`, `gettimeofday` and `clock_getres`: arm64 calls them
/// `__kernel_*`.
pub const CLOCK_NAMES: [&str; 3] =
    ["__kernel_clock_gettime", "__kernel_gettimeofday", "__kernel_clock_getres"];
/// A version the image must not resolve (riscv64's).
pub const WRONG_VERSION: &str = "LINUX_4.15";
/// What the handlers' return address is called in the output.
pub const RET_NAME: &str = "x30 == __kernel_rt_sigreturn";

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    "    mov x0, sp",
    "    bl {main}",
    "1:  b 1b",
    main = sym crate::main,
);

/// What `kill` puts in `d8`; the `SIGUSR1` handler stores it XOR the magic into the saved `v8`.
const FP_PATTERN: u64 = 0x0123_4567_89ab_cdef;
/// `d8` as `kill` left it (0 before any `kill`).
static D8_AFTER_KILL: AtomicU64 = AtomicU64::new(0);

/// One system call: number in x8, arguments in x0-x2, result in x0. `kill` also carries
/// [`FP_PATTERN`] in `d8` across the call and records what `d8` holds after it.
pub fn syscall(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    if nr == proto::SYS_KILL {
        let d8: u64;
        // SAFETY: as below; `v8` is declared clobbered (the compiler saves the callee-saved
        // `d8` around the block).
        unsafe {
            asm!("fmov d8, {p}", "svc #0", "fmov {d8}, d8", p = in(reg) FP_PATTERN, d8 = lateout(reg) d8,
                 inlateout("x0") a0 as isize => ret, in("x1") a1, in("x2") a2, in("x8") nr,
                 out("v8") _, options(nostack));
        }
        D8_AFTER_KILL.store(d8, SeqCst);
        return ret;
    }
    // SAFETY: an `svc` into our kernel; the arguments are plain values or valid pointers.
    unsafe {
        asm!("svc #0", inlateout("x0") a0 as isize => ret, in("x1") a1, in("x2") a2, in("x8") nr,
             options(nostack));
    }
    ret
}

/// The handler the kernel enters: x30 is whatever the kernel set (it must be the vDSO's
/// `__kernel_rt_sigreturn`); pass it on as a fourth argument and let the Rust handler return
/// to it.
#[unsafe(naked)]
pub unsafe extern "C" fn handler_entry() {
    naked_asm!("mov x3, x30", "b {h}", h = sym crate::handler);
}

/// The `rt_sigaction` argument: arm64's `struct sigaction` is `{ handler, flags, restorer,
/// mask }`; no `SA_RESTORER`, so the kernel returns through the vDSO.
pub fn sigaction(handler: usize) -> [u64; 4] {
    [handler as u64, 0x4 /* SA_SIGINFO */, 0, 0]
}

/// Makes `kill` "return" `value`: writes it into the saved x0 (`uc_mcontext.regs[0]`), and
/// `FP_PATTERN ^ value` into the low half of the saved `v8` when the first `__reserved` record
/// is the `fpsimd_context` (magic 0x46508001).
///
/// # Safety
///
/// `uc` is the `ucontext` the kernel passed the handler.
pub unsafe fn set_saved_result(uc: *mut u8, value: u64) {
    // SAFETY: the caller's contract; `regs` follows `fault_address` in `struct sigcontext`, and
    // `__reserved` (4096 bytes) starts with a record header { magic, size }; an fpsimd_context
    // holds fpsr, fpcr, then vregs[32] from byte 16.
    unsafe {
        (uc.add(proto::UC_MCONTEXT + proto::SC_REGS) as *mut u64).write(value);
        let rec = uc.add(proto::UC_MCONTEXT + proto::SC_RESERVED);
        if (rec as *const u32).read() == 0x4650_8001 {
            (rec.add(16 + 8 * 16) as *mut u64).write(FP_PATTERN ^ value);
        }
    }
}

/// The aarch64-only things to check: the trampoline's address.
pub struct Extra {
    sigreturn: usize,
}

/// Resolves `__kernel_rt_sigreturn` (the handlers' expected x30) and checks that the names
/// arm64 does not have are absent.
pub fn resolve_extra(c: &mut Checker, img: &DynImage) -> Option<Extra> {
    let sigreturn = resolve(c, img, "__kernel_rt_sigreturn");
    if sigreturn == 0 {
        return None;
    }
    crate::EXPECTED_RET.store(sigreturn, SeqCst);
    for name in ["__kernel_time", "__kernel_getcpu", "__vdso_clock_gettime"] {
        let r = img.lookup_with(HashStyle::Sysv, name, VERSION); // DT_HASH only, as Linux's arm64
        c.check(r == Err(SymbolError::SymbolNotFound), format_args!("{name}@{VERSION}: {r:?}, not absent"));
    }
    Some(Extra { sigreturn })
}

/// The trampoline's words, and the counter EL0 reads against the clock the image serves.
pub fn checks(c: &mut Checker, v: &Vdso, x: &Extra) {
    // SAFETY: the image is mapped readable; the symbol is 8 bytes long.
    let words = unsafe { [(x.sigreturn as *const u32).read(), ((x.sigreturn + 4) as *const u32).read()] };
    let words_ok = words == [0xd280_1168, 0xd400_0001];
    c.check(words_ok, format_args!("__kernel_rt_sigreturn is {:#010x} {:#010x}", words[0], words[1]));
    // EL0 reads CNTVCT_EL0 and CNTFRQ_EL0 (CNTKCTL_EL1.EL0VCTEN); 1 ms of counter is 1 ms of
    // MONOTONIC, give or take the reads around it.
    let (freq, c0): (u64, u64);
    // SAFETY: reading the counter registers at EL0 is what the kernel allowed.
    unsafe {
        asm!("mrs {0}, cntfrq_el0", "isb", "mrs {1}, cntvct_el0", out(reg) freq, out(reg) c0, options(nomem, nostack))
    };
    let (_, m0) = read(v.clock_gettime, 1);
    let mut c1: u64;
    loop {
        // SAFETY: as above.
        unsafe { asm!("isb", "mrs {0}, cntvct_el0", out(reg) c1, options(nomem, nostack)) };
        if c1 - c0 >= freq / 1000 {
            break;
        }
    }
    let (_, m1) = read(v.clock_gettime, 1);
    let counter_ns = ((c1 - c0) as u128 * 1_000_000_000 / freq as u128) as i128;
    let mono_ns = m1.ns() - m0.ns();
    let counter_ok = freq != 0 && mono_ns >= counter_ns / 2 && mono_ns < counter_ns + 50_000_000;
    c.check(counter_ok, format_args!("EL0 counter {counter_ns} ns vs MONOTONIC {mono_ns} ns"));
    c.report.served_calls += 2;
    c.report.arch_checks_ok = (words_ok && counter_ok && c.report.failures == 0) as u32;
    println!(
        "user: __kernel_rt_sigreturn = {:#010x} {:#010x} (mov x8, #139; svc #0); no __kernel_time, \
         __kernel_getcpu; EL0 counter at {freq} Hz: {counter_ns} ns while MONOTONIC moved {mono_ns} ns",
        words[0], words[1]
    );
}

/// Runs after the signals (one CPU: nothing to move between): `d8` came back from `kill` as the
/// `SIGUSR1` handler rewrote it in the frame, so `rt_sigreturn` restored the FP/SIMD state.
pub fn per_cpu(c: &mut Checker, _v: &Vdso, _x: &Extra) {
    let d8 = D8_AFTER_KILL.load(SeqCst);
    let want = FP_PATTERN ^ proto::SIGRETURN_MAGIC as u64;
    let ok = d8 == want;
    c.check(ok, format_args!("d8 after kill is {d8:#x}, not the handler's {want:#x}"));
    c.report.arch_checks_ok &= ok as u32;
    println!(
        "user: d8 after kill = {d8:#x}, the SIGUSR1 handler wrote {want:#x} into fpsimd_context.vregs[8]"
    );
}
