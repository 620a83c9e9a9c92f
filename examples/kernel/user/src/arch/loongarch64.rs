//! loongarch64: entry, `syscall 0`, the signal handler's entry (the return address is `ra`, which
//! the kernel sets to the image's `__vdso_rt_sigreturn`: loongarch has no `SA_RESTORER`), and
//! what only loongarch has to check: the trampoline's exact words (`li.w a7, 139; syscall 0`, what
//! gdb and libunwind match), that PLV3 may read the stable counter with `rdtime.d` (and its
//! counter id, `CSR.TID`), and that `__vdso_getcpu` answers from `rdtime.d`'s id and the per-CPU
//! page as the kernel would, on every CPU the kernel moves the program to (`SYS_SET_CPU`).

use core::arch::{asm, global_asm, naked_asm};
use core::fmt::Write;
use core::sync::atomic::Ordering::SeqCst;

use vdso_kernel_stub::symbols::DynImage;

use crate::{println, proto, read, resolve, Checker, Vdso};

/// The version node of every symbol (loongarch's since Linux 5.10 era's port).
pub const VERSION: &str = "LINUX_5.10";
/// The names of `clock_gettime`, `gettimeofday` and `clock_getres`.
pub const CLOCK_NAMES: [&str; 3] = ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_clock_getres"];
/// A version the image must not resolve (riscv64's).
pub const WRONG_VERSION: &str = "LINUX_4.15";
/// What the handlers' return address is called in the output.
pub const RET_NAME: &str = "ra == __vdso_rt_sigreturn";
/// `__vdso_rt_sigreturn`'s words: `li.w a7, 139` (`addi.w $a7, $zero, 139`), `syscall 0`.
const SIGRETURN_WORDS: [u32; 2] = [0x0382_2c0b, 0x002b_0000];

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    "    move $a0, $sp",
    "    bl {main}",
    "1:  b 1b",
    main = sym crate::main,
);

/// One system call: number in a7, arguments in a0-a2, result in a0.
pub fn syscall(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: a `syscall` into our kernel; the arguments are plain values or valid pointers.
    unsafe {
        asm!("syscall 0", inlateout("$a0") a0 as isize => ret, in("$a1") a1, in("$a2") a2, in("$a7") nr,
             options(nostack));
    }
    ret
}

/// The handler the kernel enters: `ra` is whatever the kernel set (it must be the vDSO's
/// `__vdso_rt_sigreturn`); pass it on as a fourth argument and let the Rust handler return to it.
#[unsafe(naked)]
pub unsafe extern "C" fn handler_entry() {
    naked_asm!("move $a3, $ra", "b {h}", h = sym crate::handler);
}

/// The `rt_sigaction` argument: loongarch's `struct sigaction` has no `sa_restorer`.
pub fn sigaction(handler: usize) -> [u64; 4] {
    [handler as u64, 0x4 /* SA_SIGINFO */, 0, 0]
}

/// Makes `kill` "return" `value`: writes it into the saved `a0` (`sc_regs[4]`, after `sc_pc`).
///
/// # Safety
///
/// `uc` is the `ucontext` the kernel passed the handler.
pub unsafe fn set_saved_result(uc: *mut u8, value: u64) {
    // SAFETY: the caller's contract; `uc_mcontext` starts with `sc_pc`, then `sc_regs[32]`.
    unsafe { (uc.add(proto::UC_MCONTEXT) as *mut u64).add(1 + 4).write(value) };
}

type GetcpuFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut u8) -> i32;

/// The loongarch-only functions.
pub struct Extra {
    getcpu: GetcpuFn,
    sigreturn: usize,
}

/// Resolves `__vdso_getcpu` and `__vdso_rt_sigreturn` (the handlers' expected `ra`).
pub fn resolve_extra(c: &mut Checker, img: &DynImage) -> Option<Extra> {
    let getcpu = resolve(c, img, "__vdso_getcpu");
    let sigreturn = resolve(c, img, "__vdso_rt_sigreturn");
    if getcpu == 0 || sigreturn == 0 {
        return None;
    }
    crate::EXPECTED_RET.store(sigreturn, SeqCst);
    // SAFETY: the address is the resolved `__vdso_getcpu`, whose C signature this is.
    Some(Extra { getcpu: unsafe { core::mem::transmute::<usize, GetcpuFn>(getcpu) }, sigreturn })
}

/// `rdtime.d` at PLV3: the stable counter and the counter id (`CSR.TID`).
fn rdtime() -> (u64, u64) {
    let (t, id): (u64, u64);
    // SAFETY: reading the stable counter has no side effects; PLV3 may (MISC.DRDTL3 clear).
    unsafe { asm!("rdtime.d {0}, {1}", out(reg) t, out(reg) id, options(nomem, nostack)) };
    (t, id)
}

/// The stable counter's rate: `CPUCFG` word 4 times word 5's `CC_MUL / CC_DIV`.
fn counter_freq() -> u64 {
    let (base, ratio): (u64, u64);
    // SAFETY: `cpucfg` reads configuration words at any privilege level; no side effects.
    unsafe {
        asm!("cpucfg {0}, {2}", "cpucfg {1}, {3}", out(reg) base, out(reg) ratio, in(reg) 4u64, in(reg) 5u64,
             options(nomem, nostack))
    };
    base * (ratio & 0xffff).max(1) / ((ratio >> 16) & 0xffff).max(1)
}

/// `__vdso_getcpu` agrees with the kernel's `getcpu` and with `rdtime.d`'s id, NULL pointers
/// allowed; returns whether it did.
fn getcpu_matches(c: &mut Checker, x: &Extra) -> bool {
    let (mut cpu, mut node) = (u32::MAX, u32::MAX);
    let (mut kcpu, mut knode) = (u32::MAX - 1, u32::MAX - 1);
    // SAFETY: resolved function, valid pointers; NULL pointers are allowed (Linux's getcpu).
    let (r, r_null) = unsafe {
        (
            (x.getcpu)(&mut cpu, &mut node, core::ptr::null_mut()),
            (x.getcpu)(core::ptr::null_mut(), core::ptr::null_mut(), core::ptr::null_mut()),
        )
    };
    let k =
        crate::syscall(proto::SYS_GETCPU, &mut kcpu as *mut u32 as usize, &mut knode as *mut u32 as usize, 0);
    c.report.served_calls += 2;
    let (_, tid) = rdtime();
    let ok = r == 0 && r_null == 0 && k == 0 && cpu == kcpu && node == knode && cpu as u64 == tid;
    c.check(
        ok,
        format_args!(
            "getcpu: vDSO {r}/{r_null} cpu {cpu} node {node}, kernel {k} cpu {kcpu} node {knode}, TID {tid}"
        ),
    );
    println!(
        "user: __vdso_getcpu -> cpu {cpu}, node {node} (kernel: cpu {kcpu}, node {knode}; rdtime.d id {tid})"
    );
    ok
}

/// The trampoline's words, the counter PLV3 reads against the clock the image serves, `getcpu`.
pub fn checks(c: &mut Checker, v: &Vdso, x: &Extra) {
    // SAFETY: the image is mapped readable; the symbol is 8 bytes long.
    let words = unsafe { [(x.sigreturn as *const u32).read(), ((x.sigreturn + 4) as *const u32).read()] };
    let words_ok = words == SIGRETURN_WORDS;
    c.check(words_ok, format_args!("__vdso_rt_sigreturn is {:#010x} {:#010x}", words[0], words[1]));
    // PLV3 reads the counter's rate itself (`cpucfg` works at every privilege level), and 1 ms
    // of counter is 1 ms of MONOTONIC, give or take the reads around it.
    let freq = counter_freq();
    let (c0, _) = rdtime();
    let (_, m0) = read(v.clock_gettime, 1);
    let mut c1;
    loop {
        c1 = rdtime().0;
        if c1 - c0 >= freq / 1000 {
            break;
        }
    }
    let (_, m1) = read(v.clock_gettime, 1);
    let counter_ns = ((c1 - c0) as u128 * 1_000_000_000 / freq.max(1) as u128) as i128;
    let mono_ns = m1.ns() - m0.ns();
    let counter_ok = freq != 0 && mono_ns >= counter_ns / 2 && mono_ns < counter_ns + 50_000_000;
    c.check(counter_ok, format_args!("PLV3 counter {counter_ns} ns vs MONOTONIC {mono_ns} ns"));
    c.report.served_calls += 1;
    let getcpu_ok = getcpu_matches(c, x);
    c.report.getcpu_ok += getcpu_ok as u32;
    c.report.arch_checks_ok = (words_ok && counter_ok && c.report.failures == 0) as u32;
    println!(
        "user: __vdso_rt_sigreturn = {:#010x} {:#010x} (li.w a7, 139; syscall 0); PLV3 rdtime.d at \
         {freq} Hz: {counter_ns} ns while MONOTONIC moved {mono_ns} ns",
        words[0], words[1]
    );
}

/// The kernel moves the program to other CPUs (`SYS_SET_CPU`: `CSR.TID` becomes the CPU's
/// number); `__vdso_getcpu` must follow, with the node from the per-CPU page, or, for a CPU past
/// its slots, from the kernel's `getcpu` (the kernel counts that syscall coming from the image).
pub fn per_cpu(c: &mut Checker, _v: &Vdso, x: &Extra) {
    for cpu in [3, proto::CPU_PAST_SLOTS, 0] {
        let r = crate::syscall(proto::SYS_SET_CPU, cpu, 0, 0);
        c.check(r == 0, format_args!("SYS_SET_CPU({cpu}) = {r}"));
        if getcpu_matches(c, x) {
            c.report.getcpu_ok += 1;
        }
    }
}
