//! Signal delivery where the frame is `struct rt_sigframe { siginfo; ucontext; .. }` at the
//! handler's sp and the handler is entered with its pc, return address, sp and three arguments
//! in registers: riscv64, aarch64 and loongarch64 (x86_64 puts the return address in the frame
//! and siginfo after the ucontext: its own code). The arch writes `uc_mcontext` between
//! [`Process::begin_sigframe`] and [`Process::enter_handler`]; the indices come from its trap
//! frame (`trap::reg::ENTRY`).
//!
//! Shared by those kernels (included with `#[path]`).

use crate::process::{write_siginfo, write_ucontext_head, Process, SigAction};
use crate::proto;

/// A signal frame on the user stack: `sf`, the `struct rt_sigframe`, and `uc`, its ucontext.
#[derive(Clone, Copy)]
pub struct SigFrame {
    /// Start of the frame (the handler's sp on riscv64, aarch64, loongarch64).
    pub sf: usize,
    /// The `struct ucontext` in it (the handler's third argument).
    pub uc: usize,
}

/// Where a trap frame keeps the registers a handler is entered with (indices of its saved
/// registers): the pc, the return-address register, sp and the first argument register (the
/// next two follow it), on the arches that pass all of them in registers.
#[derive(Clone, Copy)]
pub struct EntryRegs {
    /// The pc.
    pub pc: usize,
    /// The return-address register (`ra`, `x30`).
    pub ra: usize,
    /// The stack pointer.
    pub sp: usize,
    /// The first argument register (`a0`, `x0`); the second and third follow.
    pub a0: usize,
}

impl Process {
    /// Starts a signal frame of `size` bytes below `user_sp` (16-aligned), laid out as `struct
    /// rt_sigframe { siginfo; ucontext; .. }` (riscv64, aarch64, loongarch64): checked to be
    /// writable user memory, zeroed, with siginfo for `sig` and the ucontext's head
    /// ([`write_ucontext_head`]) written; the arch writes `uc_mcontext`. `Err(exit code)` (said
    /// after `who`) when the stack has no room.
    pub fn begin_sigframe(
        &self,
        user_sp: usize,
        size: usize,
        sig: usize,
        who: &str,
    ) -> Result<SigFrame, i32> {
        let sf = (user_sp.wrapping_sub(size)) & !15;
        if !self.mem.ok(sf, size, true) {
            crate::println!("{who}: no room for a signal frame at {sf:#x}");
            return Err(1);
        }
        let uc = sf + proto::SIGINFO_SIZE;
        // SAFETY: the frame lies inside a writable user region (checked), which the kernel
        // reaches directly.
        unsafe {
            core::ptr::write_bytes(sf as *mut u8, 0, size);
            write_siginfo(sf, sig);
            write_ucontext_head(uc, self.sig.blocked);
        }
        Ok(SigFrame { sf, uc })
    }

    /// Enters the handler of `sig` (`act`) on frame `f`: blocks what it runs with, sets pc to the
    /// handler, the return-address register to `ret`, sp to the frame and the arguments to
    /// `(sig, &siginfo, &ucontext)`.
    pub fn enter_handler(
        &mut self,
        regs: &mut [u64],
        at: EntryRegs,
        (sig, act): (usize, SigAction),
        ret: u64,
        f: SigFrame,
    ) {
        self.sig.enter_handler(sig, act.flags, act.mask);
        regs[at.pc] = act.handler;
        regs[at.ra] = ret;
        regs[at.sp] = f.sf as u64;
        regs[at.a0] = sig as u64;
        regs[at.a0 + 1] = f.sf as u64;
        regs[at.a0 + 2] = f.uc as u64;
    }

    /// Delivers the next signal where `uc_mcontext` starts with the trap frame's registers as
    /// they are saved (riscv64: `pc, x1..x31`; loongarch64: `sc_pc, sc_regs[32]`, then
    /// `sc_flags` and the extended-context end record, zero) and the handler returns to `ret`
    /// (`__vdso_rt_sigreturn`: neither arch has `SA_RESTORER`). `Ok(whether one was delivered)`,
    /// or `Err(exit code)` when the process must end.
    #[cfg(any(target_arch = "riscv64", target_arch = "loongarch64"))] // aarch64 adds FP/SIMD state
    pub fn deliver_plain<const N: usize>(
        &mut self,
        regs: &mut [u64; N],
        at: EntryRegs,
        ret: u64,
        who: &str,
    ) -> Result<bool, i32> {
        let Some((sig, act)) = self.take_signal(who)? else { return Ok(false) };
        let f = self.begin_sigframe(regs[at.sp] as usize, proto::RT_SIGFRAME_SIZE, sig, who)?;
        // SAFETY: the frame lies inside a writable user region (checked by `begin_sigframe`),
        // which the kernel reaches directly.
        unsafe { ((f.uc + proto::UC_MCONTEXT) as *mut [u64; N]).write(*regs) };
        self.enter_handler(regs, at, (sig, act), ret, f);
        Ok(true)
    }

    /// `rt_sigreturn` of a frame [`Process::deliver_plain`] built: every register and the
    /// signal mask back from the frame at `regs[at.sp]`. `Err(exit code)` (said after `who`) when
    /// the frame is not readable user memory.
    #[cfg(any(target_arch = "riscv64", target_arch = "loongarch64"))]
    pub fn sigreturn_plain<const N: usize>(
        &mut self,
        regs: &mut [u64; N],
        at: EntryRegs,
        who: &str,
    ) -> Result<(), i32> {
        let sf = regs[at.sp] as usize;
        let uc = sf + proto::SIGINFO_SIZE;
        let Some((saved, mask)) = self.read_sigframe::<[u64; N]>(uc, uc + proto::UC_MCONTEXT) else {
            crate::println!("{who}: rt_sigreturn with a bad frame at {sf:#x}");
            return Err(1);
        };
        *regs = saved;
        self.sig.restore_mask(mask);
        Ok(())
    }
}
