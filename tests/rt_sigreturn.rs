//! `__vdso_rt_sigreturn` (riscv64): the trampoline a riscv64 signal handler returns to, and the
//! unwind information that lets unwinders walk through it.
//!
//! - Unwind tables (both arches: pure data, read from the embedded riscv64 image with `gimli`):
//!   the FDE covering the trampoline (and the `nop` before it) belongs to a CIE with the `S`
//!   (signal frame) augmentation and return-address column 0, defines CFA = x2 + 304 (the
//!   address of `uc_mcontext.sc_regs` in the kernel's `struct rt_sigframe`) and saves `xN` at
//!   CFA + 8N and column 0 (the interrupted pc) at CFA + 0; evaluated on a synthetic frame laid
//!   out as the kernel lays it out, the rules give back the interrupted pc, sp and registers.
//! - A real signal (riscv64 only): a handler that returns through the image's trampoline resumes
//!   the interrupted code with the context as the handler left it in the frame.
//! - A backtrace from inside a handler (riscv64 only): libgcc's unwinder, using the image's
//!   tables (the image file dlopen'ed, so glibc's `dl_iterate_phdr` shows its `PT_GNU_EH_FRAME`),
//!   walks from the handler through the trampoline into the interrupted function; a copy of the
//!   image with a deliberately wrong CFA must not get there (libgcc also recognises
//!   `li a7, 139; ecall` without any unwind information, so only this control shows that the
//!   image's own FDE is what the unwinder used).
//!
//! The live tests are riscv64 only because only riscv64 has a vDSO trampoline: x86_64 signal
//! handlers return through libc's `SA_RESTORER`, and the x86_64 image has no `rt_sigreturn`.
//! qemu-user sets a handler's `ra` to a trampoline of its own, so an assembly shim installed as
//! the handler points `ra` at ours before jumping to the Rust handler, exactly as a kernel that
//! maps our image would have set it.

mod common;

use gimli::{
    BaseAddresses, CfaRule, CommonInformationEntry, EhFrame, EhFrameHdr, EndianSlice, FrameDescriptionEntry,
    LittleEndian, Register, RegisterRule, UnwindContext, UnwindSection,
};
use goblin::elf::Elf;
use linux_vdso::{Arch, Image};

/// `sizeof(siginfo_t)`: the kernel's `struct rt_sigframe` starts with it.
const SIGINFO_SIZE: u64 = 128;
/// Offset of `uc_mcontext` in riscv64's `struct ucontext` (flags, link, 24-byte stack, 8-byte
/// sigmask, 120 bytes of padding to 1024 bits of sigset, then 16-byte alignment).
const UC_MCONTEXT: u64 = 176;
/// `uc_mcontext.sc_regs` (`pc, x1, ..., x31`) from the frame's start, which is the handler's sp.
const SC_REGS: u64 = SIGINFO_SIZE + UC_MCONTEXT;
/// DWARF numbers of x2 (sp) and of the return-address column the image uses (x0's column,
/// free because x0 is hardwired to zero).
const SP: Register = Register(2);
const PC_COLUMN: Register = Register(0);

type R<'a> = EndianSlice<'a, LittleEndian>;

/// The unwind sections of a riscv64 image file (its addresses start at 0, so an address is an
/// offset in the image).
struct Tables<'a> {
    eh_frame: EhFrame<R<'a>>,
    eh_frame_hdr: &'a [u8],
    bases: BaseAddresses,
    /// File offset of `.eh_frame` (equal to its address).
    eh_frame_offset: usize,
}

fn tables(image: &[u8]) -> Tables<'_> {
    let elf = Elf::parse(image).expect("parse the riscv64 image");
    let section = |name: &str| {
        let sh = elf
            .section_headers
            .iter()
            .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(name))
            .unwrap_or_else(|| panic!("no {name} section"));
        assert_eq!(sh.sh_addr, sh.sh_offset, "{name}: the image is linked at address 0");
        (sh.sh_addr, &image[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize])
    };
    let (frame_addr, frame) = section(".eh_frame");
    let (hdr_addr, hdr) = section(".eh_frame_hdr");
    let (text_addr, _) = section(".text");
    let bases =
        BaseAddresses::default().set_eh_frame(frame_addr).set_eh_frame_hdr(hdr_addr).set_text(text_addr);
    Tables {
        eh_frame: EhFrame::new(frame, LittleEndian),
        eh_frame_hdr: hdr,
        bases,
        eh_frame_offset: frame_addr as usize,
    }
}

/// Offset and size of `__vdso_rt_sigreturn` in the embedded riscv64 image.
fn trampoline() -> (u64, u64) {
    let sym = Image::get(Arch::Riscv64).symbol("__vdso_rt_sigreturn").expect("__vdso_rt_sigreturn");
    (sym.offset, sym.size)
}

impl<'a> Tables<'a> {
    fn fde_for(&self, address: u64) -> FrameDescriptionEntry<R<'a>> {
        self.eh_frame
            .fde_for_address(&self.bases, address, EhFrame::cie_from_offset)
            .unwrap_or_else(|e| panic!("no FDE for {address:#x}: {e}"))
    }

    /// The FDE `.eh_frame_hdr`'s binary search table gives for `address` (what libgcc uses).
    fn hdr_fde_for(&self, address: u64) -> FrameDescriptionEntry<R<'a>> {
        let hdr =
            EhFrameHdr::new(self.eh_frame_hdr, LittleEndian).parse(&self.bases, 8).expect("eh_frame_hdr");
        let table = hdr.table().expect("eh_frame_hdr has a search table");
        table
            .fde_for_address(&self.eh_frame, &self.bases, address, EhFrame::cie_from_offset)
            .unwrap_or_else(|e| panic!("eh_frame_hdr: no FDE for {address:#x}: {e}"))
    }

    /// CFA rule and the rule of each column 0..=31 at `address`.
    fn rules(&self, address: u64) -> (CfaRule<usize>, Vec<RegisterRule<usize>>) {
        let fde = self.fde_for(address);
        let mut ctx = UnwindContext::new();
        let row = fde
            .unwind_info_for_address(&self.eh_frame, &self.bases, &mut ctx, address)
            .unwrap_or_else(|e| panic!("no row for {address:#x}: {e}"));
        let regs = (0..32).map(|n| row.register(Register(n)).unwrap_or(RegisterRule::Undefined)).collect();
        (row.cfa().clone(), regs)
    }
}

/// Addresses an unwinder may look the trampoline's FDE up with: the `nop` before it (a handler's
/// return address minus one) and every byte of `li a7, 139; ecall` (a frame interrupted there).
fn lookup_addresses() -> Vec<u64> {
    let (off, size) = trampoline();
    (off - 4..off + size).collect()
}

fn check_cie(cie: &CommonInformationEntry<R<'_>>) {
    assert!(cie.is_signal_trampoline(), "the CIE lacks the 'S' augmentation");
    assert_eq!(cie.return_address_register(), PC_COLUMN, "return-address column");
    assert_eq!(cie.code_alignment_factor(), 1);
}

#[test]
fn the_fde_of_the_trampoline_and_the_nop_before_it_is_a_signal_frame_with_return_column_0() {
    let image = Image::get(Arch::Riscv64);
    let t = tables(image.bytes());
    let (off, size) = trampoline();
    assert_eq!(size, 8, "li a7, 139; ecall, uncompressed");
    let fde = t.fde_for(off);
    assert!(fde.initial_address() <= off - 4, "the FDE starts at or before the nop before the label");
    assert!(fde.end_address() >= off + size, "the FDE covers the whole trampoline");
    check_cie(fde.cie());
    for address in lookup_addresses() {
        let by_hdr = t.hdr_fde_for(address);
        assert_eq!(by_hdr.offset(), fde.offset(), "eh_frame_hdr and eh_frame agree at {address:#x}");
    }
    // Bytes: the nop, then `li a7, 139` (addi a7, zero, 139) and `ecall`, as libgcc and gdb
    // expect them.
    let code = &image.bytes()[off as usize - 4..(off + size) as usize];
    let words: Vec<u32> = code.chunks(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect();
    assert_eq!(words, [0x0000_0013, 0x08b0_0893, 0x0000_0073]);
}

#[test]
fn only_the_trampoline_is_described_as_a_signal_frame() {
    let image = Image::get(Arch::Riscv64);
    let t = tables(image.bytes());
    let (off, _) = trampoline();
    let mut entries = t.eh_frame.entries(&t.bases);
    let mut signal_fdes = Vec::new();
    let mut fdes = 0;
    while let Some(entry) = entries.next().expect("parse .eh_frame") {
        if let gimli::CieOrFde::Fde(partial) = entry {
            let fde = partial.parse(EhFrame::cie_from_offset).expect("parse FDE");
            fdes += 1;
            if fde.is_signal_trampoline() {
                signal_fdes.push((fde.initial_address(), fde.end_address()));
            }
        }
    }
    assert!(fdes > 1, "the image's functions have FDEs too");
    assert_eq!(signal_fdes, [(off - 4, off + 8)], "exactly one signal-frame FDE: nop + trampoline");
}

#[test]
fn cfa_is_sp_plus_304_and_xn_is_at_cfa_plus_8n_and_pc_at_cfa() {
    let t = tables(Image::get(Arch::Riscv64).bytes());
    for address in lookup_addresses() {
        let (cfa, regs) = t.rules(address);
        assert_eq!(
            cfa,
            CfaRule::RegisterAndOffset { register: SP, offset: SC_REGS as i64 },
            "at {address:#x}"
        );
        for (n, rule) in regs.iter().enumerate() {
            assert_eq!(*rule, RegisterRule::Offset(8 * n as i64), "column {n} at {address:#x}");
        }
    }
}

/// A stack region at a fake address, holding a signal frame as the kernel writes it.
struct Stack {
    base: u64,
    bytes: Vec<u8>,
}

impl Stack {
    fn read_u64(&self, address: u64) -> u64 {
        let at = usize::try_from(address.checked_sub(self.base).expect("below the stack")).unwrap();
        u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("inside the stack"))
    }
    fn write_u64(&mut self, address: u64, value: u64) {
        let at = (address - self.base) as usize;
        self.bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
}

/// The caller's registers as an unwinder recovers them with `rules` from a frame whose sp is
/// `sp`: column 0 (the pc) and x1..x31.
fn unwind(rules: &(CfaRule<usize>, Vec<RegisterRule<usize>>), sp: u64, stack: &Stack) -> [Option<u64>; 32] {
    let cfa = match rules.0 {
        CfaRule::RegisterAndOffset { register, offset } => {
            assert_eq!(register, SP, "only sp is known in a handler's caller frame");
            sp.wrapping_add_signed(offset)
        }
        ref other => panic!("unsupported CFA rule {other:?}"),
    };
    let mut out = [None; 32];
    for (n, rule) in rules.1.iter().enumerate() {
        out[n] = match *rule {
            RegisterRule::Offset(o) => Some(stack.read_u64(cfa.wrapping_add_signed(o))),
            RegisterRule::ValOffset(o) => Some(cfa.wrapping_add_signed(o)),
            RegisterRule::Undefined => None,
            ref other => panic!("unsupported rule {other:?} for column {n}"),
        };
    }
    out
}

/// A synthetic `struct rt_sigframe` at `sp`: siginfo and the start of the ucontext filled with
/// a pattern, then `sc_regs` = `pc, x1, ..., x31` with distinct values, then the FP state.
fn synthetic_frame(sp: u64, pc: u64, regs: &[u64; 32]) -> Stack {
    let mut stack = Stack { base: sp, bytes: vec![0xee; 1024] };
    stack.write_u64(sp + SC_REGS, pc);
    for (n, &v) in regs.iter().enumerate().skip(1) {
        stack.write_u64(sp + SC_REGS + 8 * n as u64, v);
    }
    stack
}

#[test]
fn the_rules_recover_pc_sp_and_every_register_from_a_kernel_signal_frame() {
    let t = tables(Image::get(Arch::Riscv64).bytes());
    let sp = 0x3f_ffff_d3c0u64; // 16-aligned, as the kernel aligns the frame
    let pc = 0x2aaa_b0c4u64;
    let mut regs = [0u64; 32];
    for (n, r) in regs.iter_mut().enumerate() {
        *r = 0x5eed_0000_0000_0000 | (n as u64) << 32 | (n as u64 * 0x1111);
    }
    regs[2] = sp + 0x1000; // the interrupted sp, above the frame
    let stack = synthetic_frame(sp, pc, &regs);
    for address in lookup_addresses() {
        let got = unwind(&t.rules(address), sp, &stack);
        assert_eq!(got[0], Some(pc), "pc at {address:#x}");
        assert_eq!(got[2], Some(sp + 0x1000), "sp at {address:#x}");
        for n in 1..32 {
            assert_eq!(got[n], Some(regs[n]), "x{n} at {address:#x}");
        }
    }
}

/// The image file with the trampoline FDE's `DW_CFA_def_cfa sp, 304` turned into
/// `DW_CFA_def_cfa sp, 128` (same length: both offsets are two-byte ULEB128), so an unwinder
/// that uses the FDE reads the interrupted pc from `uc_flags` (zero) instead of `sc_regs[0]`.
fn image_with_broken_trampoline_cfa() -> Vec<u8> {
    let image = Image::get(Arch::Riscv64);
    let mut bytes = image.bytes().to_vec();
    let t = tables(image.bytes());
    let (off, _) = trampoline();
    let fde = t.fde_for(off);
    let start = t.eh_frame_offset + fde.offset();
    // Length field, CIE pointer, pc begin, pc range, augmentation length, then instructions.
    let entry_len = u32::from_le_bytes(bytes[start..start + 4].try_into().unwrap()) as usize;
    let entry = &mut bytes[start..start + 4 + entry_len];
    let want = [0x0c, 0x02, 0xb0, 0x02]; // DW_CFA_def_cfa, reg 2, ULEB128 304
    let at: Vec<usize> = entry.windows(4).enumerate().filter(|(_, w)| *w == want).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 1, "exactly one DW_CFA_def_cfa sp, 304 in the trampoline's FDE");
    entry[at[0] + 2..at[0] + 4].copy_from_slice(&[0x80, 0x01]); // ULEB128 128
    bytes
}

#[test]
fn the_control_copy_differs_only_in_the_cfa_offset() {
    let broken = image_with_broken_trampoline_cfa();
    let original = Image::get(Arch::Riscv64).bytes();
    let diff: Vec<usize> = (0..original.len()).filter(|&i| original[i] != broken[i]).collect();
    assert!(!diff.is_empty() && diff.len() <= 2, "one ULEB128 changed: {diff:?}");
    let t = tables(&broken);
    let (off, _) = trampoline();
    let (cfa, regs) = t.rules(off - 1);
    assert_eq!(cfa, CfaRule::RegisterAndOffset { register: SP, offset: SIGINFO_SIZE as i64 });
    assert_eq!(regs[0], RegisterRule::Offset(0));
}

#[cfg(target_arch = "riscv64")]
mod live {
    //! Real signals under the running kernel (qemu-riscv64 here).

    use std::ffi::{c_int, c_void, CString};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Mutex;

    use super::common;
    use super::common::harness::Vdso;
    use super::{image_with_broken_trampoline_cfa, SC_REGS, SIGINFO_SIZE, UC_MCONTEXT};
    use linux_vdso::{Arch, Image};

    /// Signal handlers are per process and the test harness runs tests on parallel threads:
    /// one live test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// What the shim puts in `ra` before entering the handler: our trampoline.
    static TRAMPOLINE: AtomicUsize = AtomicUsize::new(0);
    /// The Rust handler the shim jumps to.
    static HANDLER: AtomicUsize = AtomicUsize::new(0);
    /// sp at the shim's entry: the start of the signal frame.
    static ENTRY_SP: AtomicUsize = AtomicUsize::new(0);

    type Handler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);

    // The handler the kernel (qemu) enters: points `ra` at our trampoline (where a kernel that
    // maps our image points it) and jumps, with a0..a2 untouched, to the Rust handler, which
    // thus returns into `__vdso_rt_sigreturn` with the sp the kernel gave the handler.
    std::arch::global_asm!(
        ".pushsection .text.rt_sigreturn_test_shim, \"ax\", @progbits",
        ".globl rt_sigreturn_test_shim",
        ".hidden rt_sigreturn_test_shim",
        ".type rt_sigreturn_test_shim, @function",
        "rt_sigreturn_test_shim:",
        "lla t0, {entry_sp}",
        "sd sp, 0(t0)",
        "lla t0, {tramp}",
        "ld ra, 0(t0)",
        "lla t0, {handler}",
        "ld t0, 0(t0)",
        "jr t0",
        ".size rt_sigreturn_test_shim, . - rt_sigreturn_test_shim",
        ".popsection",
        entry_sp = sym ENTRY_SP,
        tramp = sym TRAMPOLINE,
        handler = sym HANDLER,
    );

    // The interrupted code: `(s2, a1) interrupted(s2_value, tgid, tid, sig)` sets callee-saved
    // s2 to a known value, sends itself `sig` with a raw `tgkill` (so the signal arrives right
    // after the `ecall`), and returns what s2 and a1 hold afterwards.
    std::arch::global_asm!(
        ".pushsection .text.rt_sigreturn_test_interrupted, \"ax\", @progbits",
        ".globl rt_sigreturn_test_interrupted",
        ".hidden rt_sigreturn_test_interrupted",
        ".type rt_sigreturn_test_interrupted, @function",
        ".globl rt_sigreturn_test_after_ecall",
        ".hidden rt_sigreturn_test_after_ecall",
        "rt_sigreturn_test_interrupted:",
        "addi sp, sp, -16",
        "sd s2, 0(sp)",
        "mv s2, a0",
        "mv a0, a1",
        "mv a1, a2",
        "mv a2, a3",
        "li a7, 131", // tgkill
        "ecall",
        "rt_sigreturn_test_after_ecall:",
        "mv a0, s2",
        "ld s2, 0(sp)",
        "addi sp, sp, 16",
        "ret",
        ".size rt_sigreturn_test_interrupted, . - rt_sigreturn_test_interrupted",
        ".popsection",
    );

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct S2A1 {
        s2: u64,
        a1: u64,
    }

    extern "C" {
        fn rt_sigreturn_test_shim();
        fn rt_sigreturn_test_interrupted(s2: u64, tgid: i64, tid: i64, sig: i64) -> S2A1;
        fn rt_sigreturn_test_after_ecall();
    }

    /// Installs the shim for `sig` with `handler` behind it and `trampoline` as its return
    /// address; returns the previous action.
    fn install(sig: c_int, handler: Handler, trampoline: usize) -> libc::sigaction {
        TRAMPOLINE.store(trampoline, SeqCst);
        HANDLER.store(handler as usize, SeqCst);
        // SAFETY: plain data; all zeroes is an empty mask and no flags.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = rt_sigreturn_test_shim as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        // SAFETY: as above.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers; the shim is a complete SA_SIGINFO handler (it ends in one).
        let r = unsafe { libc::sigaction(sig, &sa, &mut old) };
        assert_eq!(r, 0, "sigaction: {}", std::io::Error::last_os_error());
        old
    }

    fn restore(sig: c_int, old: &libc::sigaction) {
        // SAFETY: the action sigaction gave back for this signal.
        unsafe { libc::sigaction(sig, old, std::ptr::null_mut()) };
    }

    fn ids() -> (i64, i64) {
        // SAFETY: getpid and gettid cannot fail.
        unsafe { (libc::getpid() as i64, libc::syscall(libc::SYS_gettid)) }
    }

    const OLD_S2: u64 = 0x0123_4567_89ab_cdef;
    const NEW_S2: u64 = 0xfeed_face_cafe_f00d;
    const NEW_A1: u64 = 0x0a11_0a11_0a11_0a11;

    static RAN: AtomicBool = AtomicBool::new(false);
    static SEEN_PC: AtomicUsize = AtomicUsize::new(0);
    static SEEN_S2: AtomicUsize = AtomicUsize::new(0);
    static SEEN_SIG: AtomicUsize = AtomicUsize::new(0);
    static SEEN_INFO: AtomicUsize = AtomicUsize::new(0);
    static SEEN_UC: AtomicUsize = AtomicUsize::new(0);

    /// Rewrites s2 and a1 in the frame and records what it saw.
    extern "C" fn rewrite_s2_and_a1(sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
        let uc = uc.cast::<libc::ucontext_t>();
        // SAFETY: the kernel passes a valid, writable ucontext to an SA_SIGINFO handler.
        let gregs = unsafe { &mut (*uc).uc_mcontext.__gregs };
        SEEN_PC.store(gregs[0] as usize, SeqCst);
        SEEN_S2.store(gregs[18] as usize, SeqCst);
        SEEN_SIG.store(sig as usize, SeqCst);
        SEEN_INFO.store(info as usize, SeqCst);
        SEEN_UC.store(uc as usize, SeqCst);
        gregs[18] = NEW_S2;
        gregs[11] = NEW_A1;
        RAN.store(true, SeqCst);
    }

    #[test]
    fn a_handler_returning_through_our_trampoline_resumes_after_the_ecall_with_the_frame_registers() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(std::mem::size_of::<libc::siginfo_t>() as u64, SIGINFO_SIZE);
        assert_eq!(std::mem::offset_of!(libc::ucontext_t, uc_mcontext) as u64, UC_MCONTEXT);
        let vdso = Vdso::map();
        let tramp = vdso.mapped.symbol_address("__vdso_rt_sigreturn", "LINUX_4.15").expect("trampoline");
        let old = install(libc::SIGUSR1, rewrite_s2_and_a1, tramp);
        RAN.store(false, SeqCst);
        let (pid, tid) = ids();
        // SAFETY: the asm function follows the C calling convention; the signal it sends
        // itself is handled by the shim installed above.
        let out = unsafe { rt_sigreturn_test_interrupted(OLD_S2, pid, tid, libc::SIGUSR1 as i64) };
        restore(libc::SIGUSR1, &old);

        assert!(RAN.load(SeqCst), "the handler ran");
        assert_eq!(SEEN_SIG.load(SeqCst), libc::SIGUSR1 as usize);
        assert_eq!(SEEN_S2.load(SeqCst) as u64, OLD_S2, "the frame held the interrupted s2");
        let after = rt_sigreturn_test_after_ecall as *const () as usize;
        assert_eq!(SEEN_PC.load(SeqCst), after, "the frame's pc is the instruction after the ecall");
        // The frame layout the unwind rules assume, as the running kernel built it: siginfo at
        // the handler's sp, the ucontext 128 bytes on, sc_regs 304 bytes on.
        let sp = ENTRY_SP.load(SeqCst);
        assert_eq!(SEEN_INFO.load(SeqCst), sp, "siginfo at the handler's sp");
        assert_eq!(SEEN_UC.load(SeqCst), sp + SIGINFO_SIZE as usize, "ucontext after siginfo");
        let sc_regs = SEEN_UC.load(SeqCst) + std::mem::offset_of!(libc::ucontext_t, uc_mcontext);
        assert_eq!(sc_regs, sp + SC_REGS as usize, "sc_regs at sp + 304");
        // Only rt_sigreturn reloads every register from the frame: a plain return would have
        // left s2 as the interrupted code set it (the handler preserves callee-saved registers).
        assert_eq!(out, S2A1 { s2: NEW_S2, a1: NEW_A1 }, "registers restored from the frame");
        drop(vdso);
    }

    #[test]
    fn repeated_signals_through_our_trampoline_each_restore_their_own_context() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let vdso = Vdso::map();
        let tramp = vdso.mapped.symbol_address("__vdso_rt_sigreturn", "LINUX_4.15").expect("trampoline");
        let old = install(libc::SIGUSR1, rewrite_s2_and_a1, tramp);
        let (pid, tid) = ids();
        for i in 0..50u64 {
            RAN.store(false, SeqCst);
            // SAFETY: as in the test above.
            let out = unsafe { rt_sigreturn_test_interrupted(OLD_S2 ^ i, pid, tid, libc::SIGUSR1 as i64) };
            assert!(RAN.load(SeqCst), "round {i}");
            assert_eq!(SEEN_S2.load(SeqCst) as u64, OLD_S2 ^ i, "round {i}");
            assert_eq!(out, S2A1 { s2: NEW_S2, a1: NEW_A1 }, "round {i}");
        }
        restore(libc::SIGUSR1, &old);
    }

    // ---- Backtraces through the trampoline with libgcc's unwinder ----

    extern "C" {
        fn _Unwind_Backtrace(
            trace: extern "C" fn(ctx: *mut c_void, arg: *mut c_void) -> c_int,
            arg: *mut c_void,
        ) -> c_int;
        fn _Unwind_GetIP(ctx: *mut c_void) -> usize;
    }

    const MAX_FRAMES: usize = 64;
    static PCS: [AtomicUsize; MAX_FRAMES] = [const { AtomicUsize::new(0) }; MAX_FRAMES];
    static FRAMES: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn record_frame(ctx: *mut c_void, _arg: *mut c_void) -> c_int {
        // SAFETY: `ctx` is the context libgcc passes to a backtrace callback.
        let ip = unsafe { _Unwind_GetIP(ctx) };
        let n = FRAMES.fetch_add(1, SeqCst);
        if n >= MAX_FRAMES {
            return 4; // _URC_NORMAL_STOP
        }
        PCS[n].store(ip, SeqCst);
        0 // _URC_NO_REASON: keep going
    }

    extern "C" fn backtrace_handler(_sig: c_int, _info: *mut libc::siginfo_t, _uc: *mut c_void) {
        FRAMES.store(0, SeqCst);
        // SAFETY: a valid callback; libgcc walks this thread's stack.
        unsafe { _Unwind_Backtrace(record_frame, std::ptr::null_mut()) };
    }

    /// The interrupted function: sends itself `sig` with a raw `tgkill`, so the signal arrives
    /// with the pc inside this function.
    #[inline(never)]
    extern "C" fn raise_in_here(tgid: i64, tid: i64, sig: i64) -> i64 {
        let ret: i64;
        // SAFETY: tgkill only sends a signal; `ecall` returns in a0 and clobbers nothing else.
        unsafe {
            std::arch::asm!("ecall", in("a7") 131usize, inlateout("a0") tgid => ret, in("a1") tid,
                in("a2") sig, options(nostack));
        }
        ret
    }

    /// `[start, end)` of a function of this test binary, its size from the binary's own symbol
    /// table.
    fn function_bounds(f: usize) -> (usize, usize) {
        // SAFETY: plain data, filled by dladdr.
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: `f` is an address in this executable; `info` is writable.
        let r = unsafe { libc::dladdr(f as *const c_void, &mut info) };
        assert_ne!(r, 0, "dladdr");
        let bias = info.dli_fbase as usize;
        let exe = std::fs::read(std::env::current_exe().expect("current_exe")).expect("read the test binary");
        let elf = goblin::elf::Elf::parse(&exe).expect("parse the test binary");
        let sym = elf
            .syms
            .iter()
            .find(|s| s.is_function() && s.st_value as usize + bias == f && s.st_size > 0)
            .expect("the function in the test binary's symbol table");
        (f, f + sym.st_size as usize)
    }

    /// Backtrace from a handler whose return address is `trampoline`, interrupting
    /// `raise_in_here`: the recorded pcs.
    fn backtrace_through(trampoline: usize) -> Vec<usize> {
        let old = install(libc::SIGUSR2, backtrace_handler, trampoline);
        FRAMES.store(usize::MAX / 2, SeqCst);
        let (pid, tid) = ids();
        assert_eq!(raise_in_here(pid, tid, libc::SIGUSR2 as i64), 0, "tgkill");
        restore(libc::SIGUSR2, &old);
        let n = FRAMES.load(SeqCst);
        assert!(n < usize::MAX / 2, "the handler ran");
        PCS[..n.min(MAX_FRAMES)].iter().map(|p| p.load(SeqCst)).collect()
    }

    /// The image file (or a variant) dlopen'ed from its own directory: the address of its
    /// trampoline and the handle.
    fn dlopen_image(bytes: &[u8], name: &str) -> (usize, *mut c_void) {
        let dir = common::scratch_dir(name);
        let path = dir.join("linux-vdso.so.1");
        std::fs::write(&path, bytes).expect("write image");
        let cpath = CString::new(path.to_str().expect("utf-8 path")).unwrap();
        // SAFETY: dlopen of an image we wrote; it has no constructors or relocations.
        let handle = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(!handle.is_null(), "dlopen {}", path.display());
        let (name, version) = (c"__vdso_rt_sigreturn", c"LINUX_4.15");
        // SAFETY: a live handle and C strings.
        let tramp = unsafe { libc::dlvsym(handle, name.as_ptr(), version.as_ptr()) } as usize;
        assert_ne!(tramp, 0, "dlvsym __vdso_rt_sigreturn");
        (tramp, handle)
    }

    fn describe(pcs: &[usize], tramp: usize, f: (usize, usize)) -> String {
        let list: Vec<String> = pcs.iter().map(|p| format!("{p:#x}")).collect();
        format!(
            "trampoline {tramp:#x}, raise_in_here [{:#x}, {:#x}), backtrace [{}]",
            f.0,
            f.1,
            list.join(", ")
        )
    }

    #[test]
    fn a_backtrace_from_a_handler_walks_through_the_trampoline_into_the_interrupted_function() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let f = function_bounds(raise_in_here as *const () as usize);
        let (tramp, handle) = dlopen_image(Image::get(Arch::Riscv64).bytes(), "sigreturn-unwind");
        let pcs = backtrace_through(tramp);
        let what = describe(&pcs, tramp, f);
        println!("{what}");
        assert!(pcs.contains(&tramp), "the walk reached the trampoline's frame: {what}");
        let at = pcs.iter().position(|&p| p == tramp).unwrap();
        assert!(
            pcs[at + 1..].first().is_some_and(|&p| (f.0..f.1).contains(&p)),
            "the frame after the trampoline is the interrupted function: {what}"
        );
        // SAFETY: nothing from the object is used any more (the handler is uninstalled).
        unsafe { libc::dlclose(handle) };
    }

    #[test]
    fn control_with_a_wrong_cfa_in_the_fde_does_not_reach_the_interrupted_function() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let f = function_bounds(raise_in_here as *const () as usize);
        let (tramp, handle) = dlopen_image(&image_with_broken_trampoline_cfa(), "sigreturn-unwind-control");
        let pcs = backtrace_through(tramp);
        let what = describe(&pcs, tramp, f);
        println!("{what}");
        assert!(pcs.contains(&tramp), "the walk reached the trampoline's frame: {what}");
        assert!(
            !pcs.iter().any(|p| (f.0..f.1).contains(p)),
            "with a broken FDE the walk must not find the interrupted function (else the passing \
             test above may have used libgcc's fallback, not the image's FDE): {what}"
        );
        // SAFETY: as above.
        unsafe { libc::dlclose(handle) };
    }
}
