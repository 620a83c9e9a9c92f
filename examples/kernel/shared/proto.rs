//! What the example's kernels and their user program agree on: syscall numbers (Linux's for
//! the target architecture where Linux has the call, private ones from 0x7000 where it does
//! not), signal-frame offsets, and the report the program hands the kernel at the end. Included
//! by every kernel and the program with `#[path]`; `target_arch` selects the arch's parts.

pub use nr::*;

/// Syscall numbers: Linux's generic table (`include/uapi/asm-generic/unistd.h`), which riscv64,
/// aarch64 and loongarch64 all use.
#[cfg(any(target_arch = "riscv64", target_arch = "aarch64", target_arch = "loongarch64"))]
mod nr {
    /// `write(fd, buf, len)`.
    pub const SYS_WRITE: usize = 64;
    /// `exit(code)`.
    pub const SYS_EXIT: usize = 93;
    /// `exit_group(code)`.
    pub const SYS_EXIT_GROUP: usize = 94;
    /// `setitimer(which, new, old)` (only `ITIMER_REAL`, one-shot).
    pub const SYS_SETITIMER: usize = 103;
    /// `clock_gettime(id, ts)`: the vDSO's fallback.
    pub const SYS_CLOCK_GETTIME: usize = 113;
    /// `clock_getres(id, res)`: the vDSO's fallback.
    pub const SYS_CLOCK_GETRES: usize = 114;
    /// `kill(pid, sig)`.
    pub const SYS_KILL: usize = 129;
    /// `rt_sigaction(sig, act, oldact, sigsetsize)`.
    pub const SYS_RT_SIGACTION: usize = 134;
    /// `rt_sigreturn()`: only ever reached through the image's trampoline (riscv64 and
    /// loongarch64 `__vdso_rt_sigreturn`, aarch64 `__kernel_rt_sigreturn`).
    pub const SYS_RT_SIGRETURN: usize = 139;
    /// `gettimeofday(tv, tz)`: the vDSO's fallback.
    pub const SYS_GETTIMEOFDAY: usize = 169;
    /// `getcpu(cpu, node, tcache)`: what `__vdso_getcpu` does on riscv64, as in Linux (the
    /// program compares with it on loongarch64, where the image serves it).
    pub const SYS_GETCPU: usize = 168;
    /// `riscv_flush_icache(start, end, flags)`: what `__vdso_flush_icache` does, as in Linux.
    #[cfg(target_arch = "riscv64")]
    pub const SYS_RISCV_FLUSH_ICACHE: usize = 259;
    /// `getpid()`.
    pub const SYS_GETPID: usize = 172;
}

/// Syscall numbers: Linux's x86_64 ones.
#[cfg(target_arch = "x86_64")]
mod nr {
    /// `write(fd, buf, len)`.
    pub const SYS_WRITE: usize = 1;
    /// `rt_sigaction(sig, act, oldact, sigsetsize)` (x86_64 `struct sigaction` has `sa_restorer`).
    pub const SYS_RT_SIGACTION: usize = 13;
    /// `rt_sigreturn()`: reached through the program's own `SA_RESTORER` (x86_64 has no vDSO one).
    pub const SYS_RT_SIGRETURN: usize = 15;
    /// `setitimer(which, new, old)` (only `ITIMER_REAL`, one-shot).
    pub const SYS_SETITIMER: usize = 38;
    /// `getpid()`.
    pub const SYS_GETPID: usize = 39;
    /// `exit(code)`.
    pub const SYS_EXIT: usize = 60;
    /// `kill(pid, sig)`.
    pub const SYS_KILL: usize = 62;
    /// `gettimeofday(tv, tz)`: the vDSO's fallback.
    pub const SYS_GETTIMEOFDAY: usize = 96;
    /// `time(t)`: the vDSO's fallback.
    pub const SYS_TIME: usize = 201;
    /// `sched_setaffinity(pid, len, mask)`: the kernel moves the process to the one CPU in `mask`.
    pub const SYS_SCHED_SETAFFINITY: usize = 203;
    /// `sched_getaffinity(pid, len, mask)`: every CPU the kernel started.
    pub const SYS_SCHED_GETAFFINITY: usize = 204;
    /// `clock_gettime(id, ts)`: the vDSO's fallback.
    pub const SYS_CLOCK_GETTIME: usize = 228;
    /// `clock_getres(id, res)`: the vDSO's fallback.
    pub const SYS_CLOCK_GETRES: usize = 229;
    /// `exit_group(code)`.
    pub const SYS_EXIT_GROUP: usize = 231;
    /// `getcpu(cpu, node, tcache)`: the vDSO serves it on x86_64; the program calls the syscall
    /// directly only to compare.
    pub const SYS_GETCPU: usize = 309;
    /// Private: set byte 0 of the vvar page, how `__vdso_getcpu` reads the CPU number (0 = `lsl`,
    /// 1 = `rdpid`; -EINVAL for `rdpid` on a CPU without it).
    pub const SYS_SET_GETCPU_MODE: usize = 0x7003;
}

/// Private (loongarch64): run the process on CPU `a0` from now on, as Linux would after moving
/// it there: `CSR.TID` becomes `a0` (what `rdtime.d` and so `__vdso_getcpu` read); the per-CPU
/// page already says its node if the page has a slot for it (else the image asks the kernel's
/// `getcpu`). -EINVAL for a CPU number of [`MAX_CPUS`] or more.
/// The CPU numbers the loongarch64 kernel models (`SYS_SET_CPU`): more than the image's per-CPU
/// page has slots for (64), so the program also runs past them.
#[cfg(target_arch = "loongarch64")]
pub const MAX_CPUS: usize = 128;

/// A CPU number past the loongarch64 image's per-CPU slots.
#[cfg(target_arch = "loongarch64")]
pub const CPU_PAST_SLOTS: usize = 64;
#[cfg(target_arch = "loongarch64")]
pub const SYS_SET_CPU: usize = 0x7004;

/// Private: the kernel's own reading of clock `a0`, in nanoseconds (`a0`), computed from the
/// kernel's timekeeper and the counter, never from the data page. Not a clock syscall: the kernel
/// does not count it as one.
pub const SYS_KTIME: usize = 0x7000;
/// Private: hand the kernel the final [`Report`] (`a0` = its address).
pub const SYS_REPORT: usize = 0x7001;
/// Private: move this process into a time namespace whose MONOTONIC/BOOTTIME run `a0` seconds
/// ahead (the kernel remaps the data pages as docs/abi.md §4 describes).
pub const SYS_ENTER_TIMENS: usize = 0x7002;

/// `SIGUSR1`.
pub const SIGUSR1: usize = 10;
/// `SIGALRM`.
pub const SIGALRM: usize = 14;
/// `EINVAL`.
pub const EINVAL: isize = 22;

/// Signal frame layout: riscv64.
#[cfg(target_arch = "riscv64")]
mod frame {
    /// Whether the arch's `struct sigaction` has `sa_restorer` (riscv has no `SA_RESTORER`).
    pub const SIGACTION_HAS_RESTORER: bool = false;
    /// Byte offset of `uc_mcontext` in `struct ucontext` (riscv64 Linux).
    pub const UC_MCONTEXT: usize = 176;
    /// Byte offset of `uc_sigmask` in `struct ucontext`.
    pub const UC_SIGMASK: usize = 40;
    /// Size of `siginfo_t`, which starts the frame (`struct rt_sigframe { siginfo; ucontext }`).
    pub const SIGINFO_SIZE: usize = 128;
    /// Size of `struct ucontext`: `uc_mcontext` + 32 registers + the 528-byte FP state.
    pub const UCONTEXT_SIZE: usize = UC_MCONTEXT + 32 * 8 + 528;
    /// Size of `struct rt_sigframe`.
    pub const RT_SIGFRAME_SIZE: usize = SIGINFO_SIZE + UCONTEXT_SIZE;
}

/// Signal frame layout: x86_64.
#[cfg(target_arch = "x86_64")]
mod frame {
    /// Whether the arch's `struct sigaction` has `sa_restorer` (x86_64: the only way back from a handler).
    pub const SIGACTION_HAS_RESTORER: bool = true;
    /// Byte offset of `uc_mcontext` (`struct sigcontext`) in `struct ucontext` (x86_64 Linux).
    pub const UC_MCONTEXT: usize = 40;
    /// Byte offset of `uc_sigmask` in `struct ucontext`.
    pub const UC_SIGMASK: usize = 40 + 256;
    /// Size of `struct ucontext`.
    pub const UCONTEXT_SIZE: usize = UC_SIGMASK + 8;
    /// Size of `siginfo_t`.
    pub const SIGINFO_SIZE: usize = 128;
    /// `struct rt_sigframe { pretcode; ucontext; siginfo }` (the FXSAVE area follows, 16-aligned).
    pub const RT_SIGFRAME_SIZE: usize = 8 + UCONTEXT_SIZE + SIGINFO_SIZE;
    /// Index of `rax` in `struct sigcontext` (r8..r15, rdi, rsi, rbp, rbx, rdx, rax, ...).
    pub const SC_RAX: usize = 13;
    /// `SA_RESTORER`: `sa_restorer` holds the handler's return address.
    pub const SA_RESTORER: u64 = 0x0400_0000;
}

/// Signal frame layout: aarch64 (Linux `arch/arm64/include/uapi/asm/{ucontext,sigcontext}.h`).
#[cfg(target_arch = "aarch64")]
mod frame {
    /// Whether the arch's `struct sigaction` has `sa_restorer` (arm64 has `SA_RESTORER`).
    pub const SIGACTION_HAS_RESTORER: bool = true;
    /// Size of `siginfo_t`, which starts the frame (`struct rt_sigframe { siginfo; ucontext }`).
    pub const SIGINFO_SIZE: usize = 128;
    /// Byte offset of `uc_sigmask` in `struct ucontext`.
    pub const UC_SIGMASK: usize = 40;
    /// Byte offset of `uc_mcontext` (`struct sigcontext`, 16-aligned) in `struct ucontext`:
    /// after the mask and glibc's 1024-bit sigset padding (40 + 128, rounded up to 16).
    pub const UC_MCONTEXT: usize = 176;
    /// Offset of `regs[0]` in `struct sigcontext` (after `fault_address`); `regs[31]`, `sp`, `pc`,
    /// `pstate` follow as 34 words.
    pub const SC_REGS: usize = 8;
    /// Offset of `__reserved[4096]` (16-aligned), where the `fpsimd_context` record goes first.
    pub const SC_RESERVED: usize = 288;
    /// Size of `struct ucontext`.
    pub const UCONTEXT_SIZE: usize = UC_MCONTEXT + SC_RESERVED + 4096;
    /// Size of `struct rt_sigframe`.
    pub const RT_SIGFRAME_SIZE: usize = SIGINFO_SIZE + UCONTEXT_SIZE;
}

/// Signal frame layout: loongarch64 (Linux `arch/loongarch/include/uapi/asm/{ucontext,sigcontext}.h`,
/// `arch/loongarch/kernel/signal.c`).
#[cfg(target_arch = "loongarch64")]
mod frame {
    /// Whether the arch's `struct sigaction` has `sa_restorer` (loongarch has no `SA_RESTORER`).
    pub const SIGACTION_HAS_RESTORER: bool = false;
    /// Size of `siginfo_t`, which starts the frame (`struct rt_sigframe { siginfo; ucontext }`).
    pub const SIGINFO_SIZE: usize = 128;
    /// Byte offset of `uc_sigmask` in `struct ucontext`.
    pub const UC_SIGMASK: usize = 40;
    /// Byte offset of `uc_mcontext` (`struct sigcontext`, 16-aligned by its `sc_extcontext`):
    /// after the mask and the 1024-bit sigset padding (40 + 128, rounded up to 16).
    pub const UC_MCONTEXT: usize = 176;
    /// `struct sigcontext`: `sc_pc`, `sc_regs[32]`, `sc_flags` (u32), then `sc_extcontext`
    /// (16-aligned), a list of context records ended by an empty one (`{ magic 0, size 0 }`, 16
    /// bytes with its padding).
    pub const SC_FLAGS: usize = 8 + 32 * 8;
    /// See [`SC_FLAGS`].
    pub const SC_EXTCONTEXT: usize = 272;
    /// Size of `struct ucontext` with an extended context holding only the end record (no FP
    /// state: neither the kernel nor the program uses the FPU).
    pub const UCONTEXT_SIZE: usize = UC_MCONTEXT + SC_EXTCONTEXT + 16;
    /// Size of `struct rt_sigframe`.
    pub const RT_SIGFRAME_SIZE: usize = SIGINFO_SIZE + UCONTEXT_SIZE;
}

pub use frame::*;

/// Magic the `SIGUSR1` handler writes into the saved `a0`: `kill` then "returns" it, which proves
/// the kernel restored the registers from the frame.
pub const SIGRETURN_MAGIC: usize = 0x5167_0beb;

/// Seconds the time-namespace phase moves MONOTONIC ahead.
pub const TIMENS_OFFSET_SEC: i64 = 1000;

/// What the user program found, handed to the kernel through [`SYS_REPORT`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Report {
    /// Number of failed checks (0 = everything passed).
    pub failures: u32,
    /// Symbols resolved through DT_HASH and a second way (DT_GNU_HASH where the image has one,
    /// else a scan of its `nchain` entries) with the arch's version (`LINUX_4.15` on riscv64,
    /// `LINUX_2.6` on x86_64, `LINUX_2.6.39` on aarch64).
    pub symbols_resolved: u32,
    /// vDSO calls made that the data page serves.
    pub served_calls: u64,
    /// Return values of `clock_gettime(2)`, `clock_gettime(10)`, `clock_gettime(-1)` and
    /// `clock_getres(-1)` through the vDSO.
    pub fallback_results: [i64; 4],
    /// Largest distance of the kernel's MONOTONIC from the bracket of two vDSO readings (0 if
    /// every kernel reading lay between them).
    pub kernel_bracket_err_ns: u64,
    /// Largest `MONOTONIC - MONOTONIC_COARSE` seen, in ns.
    pub coarse_lag_max_ns: u64,
    /// `clock_getres` of MONOTONIC and of MONOTONIC_COARSE, in ns.
    pub res_hres_ns: u64,
    /// See `res_hres_ns`.
    pub res_coarse_ns: u64,
    /// Signal handler invocations (SIGUSR1 and SIGALRM).
    pub signals_handled: u32,
    /// Handlers whose return address was the expected one: riscv64, `ra` = the resolved
    /// `__vdso_rt_sigreturn`; x86_64, the word at `rsp` = the program's own `SA_RESTORER`.
    pub handler_ra_is_vdso_sigreturn: u32,
    /// `kill` returned [`SIGRETURN_MAGIC`] (the handler edited the saved context).
    pub sigreturn_restored_frame: u32,
    /// riscv64: hwprobe answered from the page as the kernel published it.
    pub hwprobe_ok: u32,
    /// MONOTONIC moved ahead by the namespace offset, REALTIME did not.
    pub timens_ok: u32,
    /// riscv64: `__vdso_getcpu` returned 0 with CPU 0, node 0, and `__vdso_flush_icache`
    /// returned 0 (both are syscalls inside the image, on riscv64 as in Linux).
    pub passthrough_ok: u32,
    /// MONOTONIC span of the whole run, in ns.
    pub run_ns: u64,
    /// x86_64: `__vdso_time` agreed with REALTIME and wrote its argument.
    pub time_ok: u32,
    /// x86_64: CPUs the program ran on (one after another, moved by `sched_setaffinity`).
    pub cpus_run: u32,
    /// x86_64: `(cpu, mode)` pairs where `__vdso_getcpu` named the CPU the kernel ran the program
    /// on (node 0), in `lsl` mode and, where the CPU has it, `rdpid` mode.
    pub getcpu_ok: u32,
    /// x86_64: whether the CPU has RDPID (CPUID.7.0:ECX[22]), so `rdpid` mode was checked too.
    pub rdpid: u32,
    /// x86_64: CPUs whose `TSC_AUX`, read with `rdtscp`, was the CPU number.
    pub tsc_aux_ok: u32,
    /// aarch64: `__kernel_rt_sigreturn` is `mov x8, #139; svc #0`, the image has no
    /// `__kernel_time` or `__kernel_getcpu` (arm64 has none), EL0 reads the counter, and
    /// `rt_sigreturn` restored `d8` from the frame's `fpsimd_context`. loongarch64:
    /// `__vdso_rt_sigreturn` is `li.w a7, 139; syscall 0`, PLV3 reads `rdtime.d` (counter and
    /// `CSR.TID`), and 1 ms of counter is 1 ms of MONOTONIC.
    pub arch_checks_ok: u32,
}

/// The hwprobe answers the kernel publishes in the data page (keys 0..=6: mvendorid, marchid,
/// mimpid, base behaviour = IMA, IMA_EXT_0 = FD | C, CPUPERF_0 = unknown, Zicboz block size);
/// `mimpid` is a marker the program checks for.
pub const HWPROBE_VALUES: [u64; 7] = [0, 0, 0x7664_736f, 1, 0b11, 0, 0];
