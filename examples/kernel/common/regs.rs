//! Syscall entry for the kernels whose trap frame keeps the user registers as one array
//! (riscv64, aarch64, loongarch64; x86_64's frame names each register: its own code): the
//! number and arguments read from their registers, the syscalls every kernel answers the same
//! way ([`Process::syscall`]) answered into the result register.
//!
//! Shared by those kernels (included with `#[path]`); the register indices come from each
//! kernel's trap frame (`trap::reg::SYSCALL`).

use crate::process::Process;

/// Where a trap frame keeps a syscall's number and its first argument (the next two follow it;
/// the result goes back there).
#[derive(Clone, Copy)]
pub struct SyscallRegs {
    /// The number's register (`a7`, `x8`).
    pub nr: usize,
    /// The first argument and result register (`a0`, `x0`).
    pub a0: usize,
}

impl Process {
    /// Answers the syscall in `regs` when it is one of [`Process::syscall`]'s (the result
    /// written back, `None`); otherwise `Some((number, arguments))` for the arch's own. `now` is
    /// the counter (at `freq` Hz); `from_image` says whether the syscall instruction lay inside
    /// the image; `out` takes what `write` writes.
    pub fn syscall_in_regs(
        &mut self,
        regs: &mut [u64],
        at: SyscallRegs,
        (now, freq): (u64, u64),
        from_image: bool,
        out: &mut dyn FnMut(&[u8]),
    ) -> Option<(usize, [usize; 3])> {
        let nr = regs[at.nr] as usize;
        let args = [regs[at.a0] as usize, regs[at.a0 + 1] as usize, regs[at.a0 + 2] as usize];
        match self.syscall(nr, args, (now, freq), from_image, out) {
            Some(ret) => {
                regs[at.a0] = ret as u64;
                None
            }
            None => Some((nr, args)),
        }
    }
}
