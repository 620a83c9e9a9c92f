//! riscv64: entry, `ecall`, the signal handler's entry (the return address is `ra`, which the
//! kernel sets to the image's `__vdso_rt_sigreturn`), hwprobe, and `getcpu`/`flush_icache`,
//! which are syscalls inside the image (as in Linux).

use core::arch::{asm, global_asm, naked_asm};
use core::fmt::Write;
use core::sync::atomic::Ordering::SeqCst;

use vdso_kernel_stub::symbols::DynImage;

use crate::{println, proto, resolve, Checker, Vdso};

/// The version node of every symbol.
pub const VERSION: &str = "LINUX_4.15";
/// The names of `clock_gettime`, `gettimeofday` and `clock_getres`.
pub const CLOCK_NAMES: [&str; 3] = ["__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_clock_getres"];
/// A version the image must not resolve (the other arch's).
pub const WRONG_VERSION: &str = "LINUX_2.6";

global_asm!(
    ".section .text.entry",
    ".globl _start",
    "_start:",
    "    mv a0, sp",
    "    call {main}",
    "1:  j 1b",
    main = sym crate::main,
);

/// One system call.
pub fn syscall(nr: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: an ecall into our kernel; the arguments are plain values or valid pointers.
    unsafe {
        asm!("ecall", inlateout("a0") a0 as isize => ret, in("a1") a1, in("a2") a2, in("a7") nr,
             options(nostack));
    }
    ret
}

/// The handler the kernel enters: `ra` is whatever the kernel set (it must be the vDSO's
/// `__vdso_rt_sigreturn`); pass it on as a fourth argument and let the Rust handler return to it.
#[unsafe(naked)]
pub unsafe extern "C" fn handler_entry() {
    naked_asm!("mv a3, ra", "tail {h}", h = sym crate::handler);
}

/// The `rt_sigaction` argument: riscv64's `struct sigaction` has no `sa_restorer`.
pub fn sigaction(handler: usize) -> [u64; 4] {
    [handler as u64, 0x4 /* SA_SIGINFO */, 0, 0]
}

/// Makes `kill` "return" `value`: writes it into the saved `a0` (`sc_regs[10]`).
///
/// # Safety
///
/// `uc` is the `ucontext` the kernel passed the handler.
pub unsafe fn set_saved_result(uc: *mut u8, value: u64) {
    // SAFETY: the caller's contract; `uc_mcontext` starts with `sc_regs`.
    unsafe { (uc.add(proto::UC_MCONTEXT) as *mut u64).add(10).write(value) };
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct HwprobePair {
    key: i64,
    value: u64,
}

type GetcpuFn = unsafe extern "C" fn(*mut u32, *mut u32, *mut u8) -> i32;
type FlushIcacheFn = unsafe extern "C" fn(usize, usize, usize) -> i32;
type HwprobeFn = unsafe extern "C" fn(*mut HwprobePair, usize, usize, *mut u8, u32) -> i32;

/// The riscv64-only functions.
pub struct Extra {
    hwprobe: HwprobeFn,
    getcpu: GetcpuFn,
    flush_icache: FlushIcacheFn,
}

/// Resolves the riscv64-only functions and `__vdso_rt_sigreturn` (the handlers' expected `ra`).
pub fn resolve_extra(c: &mut Checker, img: &DynImage) -> Option<Extra> {
    let names = ["__vdso_getcpu", "__vdso_flush_icache", "__vdso_riscv_hwprobe", "__vdso_rt_sigreturn"];
    let mut addrs = [0usize; 4];
    for (i, name) in names.iter().enumerate() {
        addrs[i] = resolve(c, img, name);
    }
    if addrs.contains(&0) {
        return None;
    }
    crate::EXPECTED_RET.store(addrs[3], SeqCst);
    // SAFETY: each address is the resolved function of that name, whose C signature is the
    // type it is converted to (docs/abi.md §5, Linux's prototypes).
    unsafe {
        Some(Extra {
            getcpu: core::mem::transmute::<usize, GetcpuFn>(addrs[0]),
            flush_icache: core::mem::transmute::<usize, FlushIcacheFn>(addrs[1]),
            hwprobe: core::mem::transmute::<usize, HwprobeFn>(addrs[2]),
        })
    }
}

/// hwprobe from the page; `getcpu` and `flush_icache` through the kernel.
pub fn checks(c: &mut Checker, _v: &Vdso, x: &Extra) {
    let mut pairs = [
        HwprobePair { key: 3, value: 0 },
        HwprobePair { key: 4, value: 0 },
        HwprobePair { key: 2, value: 0 },
        HwprobePair { key: 99, value: 7 },
    ];
    // SAFETY: resolved function; `pairs` holds 4 entries; no CPU set.
    let r = unsafe { (x.hwprobe)(pairs.as_mut_ptr(), pairs.len(), 0, core::ptr::null_mut(), 0) };
    let hw = proto::HWPROBE_VALUES;
    let ok = r == 0
        && pairs[0].value == hw[3]
        && pairs[1].value == hw[4]
        && pairs[2].value == hw[2]
        && pairs[3].key == -1
        && pairs[3].value == 0;
    c.check(ok, format_args!("hwprobe returned {r}"));
    c.report.hwprobe_ok = ok as u32;
    println!(
        "user: riscv_hwprobe: base {}, ima_ext_0 {:#x}, mimpid {:#x}, unknown key -> {}",
        pairs[0].value, pairs[1].value, pairs[2].value, pairs[3].key
    );

    // getcpu and flush_icache are syscalls inside the image (as in Linux on riscv64).
    let (mut cpu, mut node) = (u32::MAX, u32::MAX);
    // SAFETY: resolved functions, valid pointers; a flush of our own text is harmless.
    let (g, f) = unsafe {
        ((x.getcpu)(&mut cpu, &mut node, core::ptr::null_mut()), (x.flush_icache)(0x10000, 0x11000, 0))
    };
    let ok = g == 0 && cpu == 0 && node == 0 && f == 0;
    c.check(ok, format_args!("getcpu returned {g} cpu {cpu} node {node}, flush_icache {f}"));
    c.report.passthrough_ok = ok as u32;
    println!("user: getcpu -> {g} (cpu {cpu}, node {node}), flush_icache -> {f}: through the kernel");
}

/// One hart: nothing to move between.
pub fn per_cpu(_c: &mut Checker, _v: &Vdso, _x: &Extra) {}

/// What the handlers' return address is called in the output.
pub const RET_NAME: &str = "ra == __vdso_rt_sigreturn";
