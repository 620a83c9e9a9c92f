//! x86_64: entry, `syscall`, the signal handler's entry, `time`, and `getcpu` on every CPU.
//!
//! x86_64 has no vDSO signal trampoline: like glibc and musl, the program registers its own
//! restorer ([`restorer`]: `mov $15, %eax; syscall`) with `SA_RESTORER`, and the kernel makes it
//! the handler's return address (`pretcode`, the first word of the signal frame).
//!
//! `getcpu` never enters the kernel here: the image reads the CPU number from the limit of GDT
//! selector 0x7b (`lsl`) or from `TSC_AUX` (`rdpid`), as byte 0 of the vvar page says. The
//! program asks the kernel to run it on each CPU in turn (`sched_setaffinity`) and checks, in
//! both modes (`rdpid` where the CPU has it), that `__vdso_getcpu` names the CPU the kernel says
//! it runs on, and that `TSC_AUX` (read with `rdtscp`) holds the same number.

use core::arch::{asm, global_asm, naked_asm};
use core::fmt::Write;
use core::sync::atomic::Ordering::SeqCst;

use vdso_kernel_stub::symbols::DynImage;

use crate::{clock_rounds, println, proto, read, resolve, Checker, Vdso};

/// The version node of every symbol.
pub const VERSION: &str = "LINUX_2.6";
/// The names of `clock_gettime`, `gettimeofday` and `clock_getres`.
pub const CLOCK_NAMES: [&str; 3] = ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_clock_getres"];
/// A version the image must not resolve (the other arch's).
pub const WRONG_VERSION: &str = "LINUX_4.15";
/// What the handlers' return address is called in the output.
pub const RET_NAME: &str = "return address == own SA_RESTORER";

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    "    mov rdi, rsp",
    "    and rsp, -16",
    "    call {main}",
    "1:  jmp 1b",
    main = sym crate::main,
);

/// One system call (`syscall` clobbers `rcx` and `r11`).
pub fn syscall(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: a syscall into our kernel; the arguments are plain values or valid pointers.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// The handler the kernel enters: the word at `rsp` is the return address the kernel stored
/// (`pretcode`, which must be our [`restorer`]); pass it on as a fourth argument.
#[unsafe(naked)]
pub unsafe extern "C" fn handler_entry() {
    naked_asm!("mov rcx, [rsp]", "jmp {h}", h = sym crate::handler);
}

/// The signal restorer a libc passes as `sa_restorer`: `rt_sigreturn`.
#[unsafe(naked)]
pub unsafe extern "C" fn restorer() {
    naked_asm!("mov eax, {nr}", "syscall", "ud2", nr = const proto::SYS_RT_SIGRETURN);
}

/// The `rt_sigaction` argument: `{ handler, flags, restorer, mask }`.
pub fn sigaction(handler: usize) -> [u64; 4] {
    let restorer = restorer as *const () as u64;
    crate::EXPECTED_RET.store(restorer as usize, SeqCst);
    [handler as u64, 0x4 /* SA_SIGINFO */ | proto::SA_RESTORER, restorer, 0]
}

/// Makes `kill` "return" `value`: writes it into the saved `rax` of the `sigcontext`.
///
/// # Safety
///
/// `uc` is the `ucontext` the kernel passed the handler.
pub unsafe fn set_saved_result(uc: *mut u8, value: u64) {
    // SAFETY: the caller's contract; `uc_mcontext` is `struct sigcontext`.
    unsafe { (uc.add(proto::UC_MCONTEXT) as *mut u64).add(proto::SC_RAX).write(value) };
}

type TimeFn = unsafe extern "C" fn(*mut i64) -> i64;
type GetcpuFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut u8) -> i32;

/// The x86_64-only functions.
pub struct Extra {
    time: TimeFn,
    getcpu: GetcpuFn,
}

/// Resolves `__vdso_time` and `__vdso_getcpu`.
pub fn resolve_extra(c: &mut Checker, img: &DynImage) -> Option<Extra> {
    let (t, g) = (resolve(c, img, "__vdso_time"), resolve(c, img, "__vdso_getcpu"));
    if t == 0 || g == 0 {
        return None;
    }
    // SAFETY: each address is the resolved function of that name, whose C signature is the
    // type it is converted to (Linux's prototypes).
    unsafe {
        Some(Extra {
            time: core::mem::transmute::<usize, TimeFn>(t),
            getcpu: core::mem::transmute::<usize, GetcpuFn>(g),
        })
    }
}

/// `time` from the page agrees with REALTIME and stores its result too.
pub fn checks(c: &mut Checker, v: &Vdso, x: &Extra) {
    let mut ok = true;
    for _ in 0..100 {
        let (_, before) = read(v.clock_gettime, 0);
        let mut stored = 0i64;
        // SAFETY: resolved function, valid pointer (and NULL is allowed).
        let (t, t_null) = unsafe { ((x.time)(&mut stored), (x.time)(core::ptr::null_mut())) };
        let (_, after) = read(v.clock_gettime, 0);
        c.report.served_calls += 4;
        ok &= t == stored && before.sec <= t && t <= after.sec && t <= t_null && t_null <= after.sec;
    }
    c.check(ok, format_args!("time disagrees with REALTIME"));
    c.report.time_ok = ok as u32;
    println!("user: time: 100 calls agree with REALTIME (and store through their argument)");
}

/// CPUID.(EAX=7,ECX=0):ECX bit 22: RDPID.
fn has_rdpid() -> bool {
    let ecx: u32;
    // SAFETY: `cpuid` only reads; rbx is saved by hand (LLVM reserves it).
    unsafe {
        asm!("mov {t}, rbx", "cpuid", "mov rbx, {t}", t = out(reg) _, inout("eax") 7u32 => _,
             inout("ecx") 0u32 => ecx, out("edx") _, options(nostack, preserves_flags));
    }
    ecx & (1 << 22) != 0
}

/// CPUID.80000001H:EDX bit 27: RDTSCP, which reads `TSC_AUX` too.
fn has_rdtscp() -> bool {
    let (max, edx): (u32, u32);
    // SAFETY: `cpuid` only reads; rbx is saved by hand (LLVM reserves it).
    unsafe {
        asm!("mov {t}, rbx", "cpuid", "mov rbx, {t}", t = out(reg) _, inout("eax") 0x8000_0000u32 => max,
             inout("ecx") 0u32 => _, out("edx") _, options(nostack, preserves_flags));
    }
    if max < 0x8000_0001 {
        return false;
    }
    // SAFETY: as above.
    unsafe {
        asm!("mov {t}, rbx", "cpuid", "mov rbx, {t}", t = out(reg) _, inout("eax") 0x8000_0001u32 => _,
             inout("ecx") 0u32 => _, out("edx") edx, options(nostack, preserves_flags));
    }
    edx & (1 << 27) != 0
}

/// `TSC_AUX` through `rdtscp` (what `rdpid` would return).
fn tsc_aux() -> u32 {
    let aux: u32;
    // SAFETY: RDTSCP exists (the caller checked); it only writes registers.
    unsafe { asm!("rdtscp", out("eax") _, out("edx") _, out("ecx") aux, options(nomem, nostack)) };
    aux
}

/// The CPUs the kernel started, from `sched_getaffinity`.
fn cpu_mask() -> u64 {
    let mut mask = 0u64;
    let r = syscall(proto::SYS_SCHED_GETAFFINITY, 0, 8, &mut mask as *mut u64 as usize);
    if r == 8 {
        mask
    } else {
        1
    }
}

/// `__vdso_getcpu` once, with a non-NULL `tcache` as callers may pass.
fn vdso_getcpu(x: &Extra) -> (i32, u32, u32) {
    let (mut cpu, mut node, mut cache) = (u32::MAX, u32::MAX, [0u8; 16]);
    // SAFETY: resolved function, valid pointers.
    let r = unsafe { (x.getcpu)(&mut cpu, &mut node, cache.as_mut_ptr()) };
    (r, cpu, node)
}

/// Runs on each CPU in turn; on each, `getcpu` in `lsl` mode and (where the CPU has it) `rdpid`
/// mode must name that CPU, the syscall must agree, and the clocks stay consistent with what
/// the previous CPU read.
pub fn per_cpu(c: &mut Checker, v: &Vdso, x: &Extra) {
    let mask = cpu_mask();
    let rdpid = has_rdpid();
    let rdtscp = has_rdtscp();
    c.report.rdpid = rdpid as u32;
    let mut last_mono = 0i128;
    for cpu in (0..64).filter(|i| mask & (1 << i) != 0) {
        let want = 1u64 << cpu;
        let r = syscall(proto::SYS_SCHED_SETAFFINITY, 0, 8, &want as *const u64 as usize);
        c.check(r == 0, format_args!("sched_setaffinity({cpu}) = {r}"));
        let (mut kcpu, mut knode) = (u32::MAX, u32::MAX);
        let r =
            syscall(proto::SYS_GETCPU, &mut kcpu as *mut u32 as usize, &mut knode as *mut u32 as usize, 0);
        c.check(r == 0 && kcpu == cpu, format_args!("getcpu syscall on CPU {cpu}: {r}, cpu {kcpu}"));
        c.report.cpus_run += 1;
        let modes: &[(usize, &str)] = if rdpid { &[(0, "lsl"), (1, "rdpid")] } else { &[(0, "lsl")] };
        let mut seen = [0u32; 2];
        for (i, &(mode, name)) in modes.iter().enumerate() {
            let r = syscall(proto::SYS_SET_GETCPU_MODE, mode, 0, 0);
            c.check(r == 0, format_args!("getcpu mode {name} refused: {r}"));
            let (r, got, node) = vdso_getcpu(x);
            c.report.served_calls += 1;
            let ok = r == 0 && got == cpu && node == 0;
            c.check(ok, format_args!("__vdso_getcpu ({name}) on CPU {cpu}: {r}, cpu {got}, node {node}"));
            c.report.getcpu_ok += ok as u32;
            seen[i] = got;
        }
        if !rdpid {
            // The image must not use RDPID on a CPU without it: mode 1 is refused.
            let r = syscall(proto::SYS_SET_GETCPU_MODE, 1, 0, 0);
            c.check(r == -proto::EINVAL, format_args!("rdpid mode accepted without RDPID: {r}"));
        }
        syscall(proto::SYS_SET_GETCPU_MODE, 0, 0, 0);
        // TSC_AUX, which `rdpid` mode reads, is checked through RDTSCP wherever the CPU has it
        // (QEMU's TCG has RDTSCP but, before QEMU 8, not RDPID).
        let aux = if rdtscp { tsc_aux() } else { u32::MAX };
        if rdtscp {
            c.check(aux == cpu, format_args!("TSC_AUX on CPU {cpu} is {aux:#x}"));
            c.report.tsc_aux_ok += (aux == cpu) as u32;
        }
        // The clocks on this CPU continue where the last CPU left them.
        let (_, m) = read(v.clock_gettime, 1);
        c.report.served_calls += 1;
        c.check(m.ns() >= last_mono, format_args!("MONOTONIC went back moving to CPU {cpu}"));
        clock_rounds(c, v, 100, "per-cpu");
        let (_, m) = read(v.clock_gettime, 1);
        last_mono = m.ns();
        if rdpid {
            println!(
                "user: CPU {cpu}: __vdso_getcpu -> {} (lsl), {} (rdpid); getcpu syscall {kcpu}; TSC_AUX {aux}",
                seen[0], seen[1]
            );
        } else {
            println!(
                "user: CPU {cpu}: __vdso_getcpu -> {} (lsl; the CPU has no RDPID, mode refused); getcpu syscall \
                 {kcpu}; TSC_AUX (rdtscp) {aux}",
                seen[0]
            );
        }
    }
}
