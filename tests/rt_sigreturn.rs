//! The signal-return trampolines (riscv64's and loongarch64's `__vdso_rt_sigreturn`, aarch64's
//! `__kernel_rt_sigreturn`): the code a signal handler returns to when it has no `SA_RESTORER`,
//! and the unwind information that lets unwinders walk through it.
//!
//! - Unwind tables (every arch: pure data, read from each embedded image that has a trampoline,
//!   with `gimli`): the FDE covering the trampoline (and the `nop` before it) belongs to a CIE with
//!   the `S` (signal frame) augmentation and the arch's return-address column, defines CFA = sp +
//!   304 (the kernel's `struct rt_sigframe`: 128 bytes of siginfo, then the ucontext whose
//!   `uc_mcontext` starts 176 bytes in, on both arches) and saves every register where the
//!   kernel's sigcontext holds it; evaluated on a synthetic frame laid out as the kernel lays it
//!   out, the rules give back the interrupted pc, sp and registers.
//!   - riscv64: `sc_regs` is `pc, x1, ..., x31`: `xN` at CFA + 8N, and column 0 (x0 is
//!     hardwired to zero, so its column is free) is the pc, at CFA + 0.
//!   - aarch64: `struct sigcontext` is `fault_address, regs[31], sp, pc`: `xN` at CFA + 8 + 8N,
//!     sp (column 31) at CFA + 256, and the pc at CFA + 264 in column 96, the column libgcc
//!     reserves for a signal frame's return address; d8-d15 (columns 72-79) from the
//!     fpsimd_context record that opens `__reserved`, `vN` at CFA + 304 + 16N.
//!   - loongarch64: `struct sigcontext` is `sc_pc, sc_regs[32]`: `rN` at CFA + 8 + 8N (sp is r3),
//!     and the pc, at CFA + 0, in column 0 (r0 is hardwired to zero) made the return column.
//! - A real signal (riscv64, aarch64 and loongarch64, each under its qemu): a handler that returns through
//!   the image's trampoline resumes the interrupted code with the context as the handler left it
//!   in the frame.
//! - A backtrace from inside a handler (riscv64 and aarch64): libgcc's unwinder, using the
//!   image's tables (the image file dlopen'ed, so glibc's `dl_iterate_phdr` shows its
//!   `PT_GNU_EH_FRAME`), walks from the handler through the trampoline into the interrupted
//!   function; a copy of the image with a deliberately wrong CFA must not get there (libgcc also
//!   recognises `li a7, 139; ecall` and `mov x8, #139; svc #0` without any unwind information, so
//!   only this control shows that the image's own FDE is what the unwinder used). loongarch64's
//!   test binaries are static musl programs (no loongarch64 glibc here) whose unwinder is LLVM's
//!   libunwind (linked by Zig) and which cannot `dlopen`: there the image is mapped by the kernel
//!   stub and the trampoline's FDE registered with `__register_frame`, the control likewise.
//!
//! x86_64 has no trampoline (its signal handlers return through libc's `SA_RESTORER`), so no
//! live test runs there. qemu-user sets a handler's return address to a trampoline of its own, so
//! an assembly shim installed as the handler points it at ours before jumping to the Rust
//! handler, exactly as a kernel that maps our image would have set it.

mod common;

use gimli::{
    BaseAddresses, CfaRule, CommonInformationEntry, EhFrame, EhFrameHdr, EndianSlice, FrameDescriptionEntry,
    LittleEndian, Register, RegisterRule, UnwindContext, UnwindSection,
};
use goblin::elf::Elf;
use linux_vdso::{Arch, Image};

/// `sizeof(siginfo_t)`: the kernel's `struct rt_sigframe` starts with it.
const SIGINFO_SIZE: u64 = 128;
/// Offset of `uc_mcontext` in the `struct ucontext` of riscv64 and aarch64 (flags, link, 24-byte
/// stack, 8-byte sigmask, 120 bytes of padding to 1024 bits of sigset, then 16-byte alignment).
const UC_MCONTEXT: u64 = 176;
/// `uc_mcontext` from the frame's start, which is the handler's sp: the CFA of the trampoline.
const SC_REGS: u64 = SIGINFO_SIZE + UC_MCONTEXT;

/// aarch64: `vregs[0]` of the fpsimd_context record Linux writes first in `__reserved`, from the
/// sigcontext (the CFA): `__reserved` at 288, then an 8-byte header, fpsr and fpcr.
const FPSIMD_VREGS: i64 = 288 + 16;

/// What the tests expect of one architecture's trampoline.
struct Spec {
    arch: Arch,
    /// DWARF number of sp.
    sp: Register,
    /// The return-address column (the interrupted pc).
    pc_column: Register,
    /// The `nop` before the trampoline.
    nop: u32,
    /// Every column the FDE restores, with its offset from the CFA (the kernel's sigcontext).
    saved: Vec<(Register, i64)>,
}

fn spec(arch: Arch) -> Spec {
    match arch {
        Arch::Riscv64 => Spec {
            arch,
            sp: Register(2),
            pc_column: Register(0),
            nop: 0x0000_0013,
            saved: (0..32).map(|n| (Register(n), 8 * n as i64)).collect(),
        },
        Arch::Aarch64 => Spec {
            arch,
            sp: Register(31),
            pc_column: Register(96),
            nop: 0xd503_201f,
            saved: (0..31)
                .map(|n| (Register(n), 8 + 8 * n as i64))
                .chain([(Register(31), 256), (Register(96), 264)])
                .chain((8..16).map(|n| (Register(64 + n), FPSIMD_VREGS + 16 * n as i64)))
                .collect(),
        },
        Arch::Loongarch64 => Spec {
            arch,
            sp: Register(3),
            pc_column: Register(0),
            nop: 0x0340_0000,
            saved: (0..32).map(|n| (Register(n), if n == 0 { 0 } else { 8 + 8 * n as i64 })).collect(),
        },
        Arch::X86_64 => panic!("x86_64 has no trampoline"),
    }
}

/// Every architecture whose image has a trampoline (the table's `sigreturn`).
fn specs() -> Vec<Spec> {
    let specs: Vec<Spec> = Arch::ALL.into_iter().filter(|a| a.info().sigreturn.is_some()).map(spec).collect();
    assert!(specs.len() >= 3, "riscv64, aarch64 and loongarch64 have trampolines");
    specs
}

type R<'a> = EndianSlice<'a, LittleEndian>;

/// The unwind sections of an image file (its addresses start at 0, so an address is an offset in
/// the image).
struct Tables<'a> {
    eh_frame: EhFrame<R<'a>>,
    eh_frame_hdr: &'a [u8],
    bases: BaseAddresses,
    /// File offset of `.eh_frame` (equal to its address).
    eh_frame_offset: usize,
}

fn tables(image: &[u8]) -> Tables<'_> {
    let elf = Elf::parse(image).expect("parse the image");
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

/// Offset and size of the trampoline in the embedded image of `arch` (its name from the table).
fn trampoline(arch: Arch) -> (u64, u64) {
    let name = arch.info().sigreturn.expect("a trampoline").symbol;
    let sym = Image::get(arch).symbol(name).unwrap_or_else(|| panic!("{name}"));
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

    /// CFA rule and the rule of each column of `columns` at `address`.
    fn rules(&self, address: u64, columns: &[Register]) -> (CfaRule<usize>, Vec<RegisterRule<usize>>) {
        let fde = self.fde_for(address);
        let mut ctx = UnwindContext::new();
        let row = fde
            .unwind_info_for_address(&self.eh_frame, &self.bases, &mut ctx, address)
            .unwrap_or_else(|e| panic!("no row for {address:#x}: {e}"));
        let regs = columns.iter().map(|&r| row.register(r).unwrap_or(RegisterRule::Undefined)).collect();
        (row.cfa().clone(), regs)
    }
}

/// Addresses an unwinder may look the trampoline's FDE up with: the `nop` before it (a handler's
/// return address minus one) and every byte of the two instructions (a frame interrupted there).
fn lookup_addresses(arch: Arch) -> Vec<u64> {
    let (off, size) = trampoline(arch);
    (off - 4..off + size).collect()
}

fn check_cie(s: &Spec, cie: &CommonInformationEntry<R<'_>>) {
    assert!(cie.is_signal_trampoline(), "{:?}: the CIE lacks the 'S' augmentation", s.arch);
    assert_eq!(cie.return_address_register(), s.pc_column, "{:?}: return-address column", s.arch);
    assert_eq!(cie.code_alignment_factor(), 1);
}

#[test]
fn the_fde_of_the_trampoline_and_the_nop_before_it_is_a_signal_frame_with_the_pc_column() {
    for s in specs() {
        let image = Image::get(s.arch);
        let t = tables(image.bytes());
        let (off, size) = trampoline(s.arch);
        assert_eq!(size, 8, "{:?}: two 4-byte instructions", s.arch);
        let fde = t.fde_for(off);
        assert!(fde.initial_address() <= off - 4, "the FDE starts at or before the nop before the label");
        assert!(fde.end_address() >= off + size, "the FDE covers the whole trampoline");
        check_cie(&s, fde.cie());
        for address in lookup_addresses(s.arch) {
            let by_hdr = t.hdr_fde_for(address);
            assert_eq!(by_hdr.offset(), fde.offset(), "eh_frame_hdr and eh_frame agree at {address:#x}");
        }
        // Bytes: the nop, then the words of the table's row (riscv64 `li a7, 139; ecall`,
        // aarch64 `mov x8, #139; svc #0`), as libgcc, gdb and libunwind expect them.
        let code = &image.bytes()[off as usize - 4..(off + size) as usize];
        let words: Vec<u32> = code.chunks(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect();
        let mut want = vec![s.nop];
        want.extend_from_slice(s.arch.info().sigreturn.unwrap().words);
        assert_eq!(words, want, "{:?}", s.arch);
    }
}

#[test]
fn only_the_trampoline_is_described_as_a_signal_frame() {
    for s in specs() {
        let t = tables(Image::get(s.arch).bytes());
        let (off, _) = trampoline(s.arch);
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
        assert!(fdes > 1, "{:?}: the image's functions have FDEs too", s.arch);
        assert_eq!(signal_fdes, [(off - 4, off + 8)], "{:?}: exactly one signal-frame FDE", s.arch);
    }
}

#[test]
fn cfa_is_sp_plus_304_and_every_register_is_where_the_kernels_sigcontext_holds_it() {
    for s in specs() {
        let t = tables(Image::get(s.arch).bytes());
        let columns: Vec<Register> = s.saved.iter().map(|&(r, _)| r).collect();
        for address in lookup_addresses(s.arch) {
            let (cfa, regs) = t.rules(address, &columns);
            assert_eq!(
                cfa,
                CfaRule::RegisterAndOffset { register: s.sp, offset: SC_REGS as i64 },
                "{:?} at {address:#x}",
                s.arch
            );
            for (rule, &(col, off)) in regs.iter().zip(&s.saved) {
                assert_eq!(
                    *rule,
                    RegisterRule::Offset(off),
                    "{:?}: column {} at {address:#x}",
                    s.arch,
                    col.0
                );
            }
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

/// The values of `columns` as an unwinder recovers them with `rules` from a frame whose sp is
/// `sp`.
fn unwind(
    s: &Spec,
    rules: &(CfaRule<usize>, Vec<RegisterRule<usize>>),
    sp: u64,
    stack: &Stack,
) -> Vec<Option<u64>> {
    let cfa = match rules.0 {
        CfaRule::RegisterAndOffset { register, offset } => {
            assert_eq!(register, s.sp, "only sp is known in a handler's caller frame");
            sp.wrapping_add_signed(offset)
        }
        ref other => panic!("unsupported CFA rule {other:?}"),
    };
    rules
        .1
        .iter()
        .enumerate()
        .map(|(n, rule)| match *rule {
            RegisterRule::Offset(o) => Some(stack.read_u64(cfa.wrapping_add_signed(o))),
            RegisterRule::ValOffset(o) => Some(cfa.wrapping_add_signed(o)),
            RegisterRule::Undefined => None,
            ref other => panic!("unsupported rule {other:?} for column {n}"),
        })
        .collect()
}

/// The value a synthetic aarch64 frame holds in the low half of `vN`.
fn fp_value(n: u64) -> u64 {
    0xf10a_7000_0000_0000 | n
}

/// A synthetic `struct rt_sigframe` at `sp` as the kernel of `arch` writes it: siginfo and the
/// start of the ucontext filled with a pattern, then the sigcontext with the interrupted pc, sp
/// and `x[n]` (riscv64: `sc_regs` = `pc, x1, ..., x31`, x2 being sp; aarch64: `fault_address,
/// x0, ..., x30, sp, pc`).
fn synthetic_frame(arch: Arch, sp: u64, pc: u64, x: &[u64; 32]) -> Stack {
    let mut stack = Stack { base: sp, bytes: vec![0xee; 2048] };
    let sc = sp + SC_REGS;
    match arch {
        Arch::Riscv64 => {
            stack.write_u64(sc, pc);
            for (n, &v) in x.iter().enumerate().skip(1) {
                stack.write_u64(sc + 8 * n as u64, v);
            }
        }
        Arch::Aarch64 => {
            for (n, &v) in x.iter().enumerate().take(31) {
                stack.write_u64(sc + 8 + 8 * n as u64, v);
            }
            stack.write_u64(sc + 8 + 248, x[31]);
            stack.write_u64(sc + 8 + 256, pc);
            for n in 8..16u64 {
                stack.write_u64(sc + FPSIMD_VREGS as u64 + 16 * n, fp_value(n));
            }
        }
        Arch::Loongarch64 => {
            stack.write_u64(sc, pc);
            for (n, &v) in x.iter().enumerate().skip(1) {
                stack.write_u64(sc + 8 + 8 * n as u64, v);
            }
        }
        Arch::X86_64 => unreachable!(),
    }
    stack
}

#[test]
fn the_rules_recover_pc_sp_and_every_register_from_a_kernel_signal_frame() {
    for s in specs() {
        let t = tables(Image::get(s.arch).bytes());
        let sp = 0x3f_ffff_d3c0u64; // 16-aligned, as the kernel aligns the frame
        let pc = 0x2aaa_b0c4u64;
        // x[n] for n in 0..32; the interrupted sp (riscv64 x2, aarch64 the 32nd slot) lies above
        // the frame.
        let mut x = [0u64; 32];
        for (n, r) in x.iter_mut().enumerate() {
            *r = 0x5eed_0000_0000_0000 | (n as u64) << 32 | (n as u64 * 0x1111);
        }
        let sp_slot = s.sp.0 as usize;
        x[sp_slot] = sp + 0x1000;
        let stack = synthetic_frame(s.arch, sp, pc, &x);
        let columns: Vec<Register> = s.saved.iter().map(|&(r, _)| r).collect();
        for address in lookup_addresses(s.arch) {
            let got = unwind(&s, &t.rules(address, &columns), sp, &stack);
            for (&col, value) in columns.iter().zip(&got) {
                let want = if col == s.pc_column {
                    pc
                } else if col == s.sp {
                    sp + 0x1000
                } else if col.0 >= 64 {
                    fp_value(col.0 as u64 - 64)
                } else {
                    x[col.0 as usize]
                };
                assert_eq!(*value, Some(want), "{:?}: column {} at {address:#x}", s.arch, col.0);
            }
            assert!(columns.contains(&s.pc_column) && columns.contains(&s.sp), "pc and sp are restored");
        }
    }
}

/// The image file of `arch` with the trampoline FDE's `DW_CFA_def_cfa sp, 304` turned into
/// `DW_CFA_def_cfa sp, 128` (same length: both offsets are two-byte ULEB128), so an unwinder
/// that uses the FDE reads the interrupted pc from the wrong place.
fn image_with_broken_trampoline_cfa(arch: Arch) -> Vec<u8> {
    let s = spec(arch);
    let image = Image::get(arch);
    let mut bytes = image.bytes().to_vec();
    let t = tables(image.bytes());
    let (off, _) = trampoline(arch);
    let fde = t.fde_for(off);
    let start = t.eh_frame_offset + fde.offset();
    // Length field, CIE pointer, pc begin, pc range, augmentation length, then instructions.
    let entry_len = u32::from_le_bytes(bytes[start..start + 4].try_into().unwrap()) as usize;
    let entry = &mut bytes[start..start + 4 + entry_len];
    let want = [0x0c, s.sp.0 as u8, 0xb0, 0x02]; // DW_CFA_def_cfa, sp, ULEB128 304
    let at: Vec<usize> = entry.windows(4).enumerate().filter(|(_, w)| *w == want).map(|(i, _)| i).collect();
    assert_eq!(at.len(), 1, "exactly one DW_CFA_def_cfa sp, 304 in the trampoline's FDE");
    entry[at[0] + 2..at[0] + 4].copy_from_slice(&[0x80, 0x01]); // ULEB128 128
    bytes
}

#[test]
fn the_control_copies_differ_only_in_the_cfa_offset() {
    for s in specs() {
        let broken = image_with_broken_trampoline_cfa(s.arch);
        let original = Image::get(s.arch).bytes();
        let diff: Vec<usize> = (0..original.len()).filter(|&i| original[i] != broken[i]).collect();
        assert!(!diff.is_empty() && diff.len() <= 2, "{:?}: one ULEB128 changed: {diff:?}", s.arch);
        let t = tables(&broken);
        let (off, _) = trampoline(s.arch);
        let (cfa, _) = t.rules(off - 1, &[s.pc_column]);
        assert_eq!(cfa, CfaRule::RegisterAndOffset { register: s.sp, offset: SIGINFO_SIZE as i64 });
    }
}

#[cfg(any(target_arch = "riscv64", target_arch = "aarch64", target_arch = "loongarch64"))]
mod live {
    //! Real signals under the running kernel (qemu-riscv64, qemu-aarch64 or qemu-loongarch64
    //! here).

    #[cfg(target_env = "gnu")]
    use std::ffi::CString;
    use std::ffi::{c_int, c_void};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::Mutex;

    #[cfg(target_env = "gnu")]
    use super::common;
    use super::common::harness::Vdso;
    use super::{image_with_broken_trampoline_cfa, SC_REGS, SIGINFO_SIZE, UC_MCONTEXT};
    use linux_vdso::{Arch, Image};

    /// Signal handlers are per process and the test harness runs tests on parallel threads:
    /// one live test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// What the shim puts in the return-address register before entering the handler: our
    /// trampoline.
    static TRAMPOLINE: AtomicUsize = AtomicUsize::new(0);
    /// The Rust handler the shim jumps to.
    static HANDLER: AtomicUsize = AtomicUsize::new(0);
    /// sp at the shim's entry: the start of the signal frame.
    static ENTRY_SP: AtomicUsize = AtomicUsize::new(0);

    type Handler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);

    /// This test binary's architecture.
    fn arch() -> Arch {
        Image::native().expect("an architecture of the table").arch()
    }

    /// Name and version of the trampoline, from the table.
    fn trampoline_symbol() -> (&'static str, &'static str) {
        (arch().info().sigreturn.expect("a trampoline").symbol, arch().version_node())
    }

    /// Emits the hidden function `$name` in a section of its own, made of `$line`s (`$ty`: the
    /// assembler's prefix for `@progbits`/`@function`, `%` where `@` starts a comment).
    macro_rules! hidden_fn {
        ($name:literal, $ty:literal, [$($line:literal),* $(,)?] $(, $($operands:tt)*)?) => {
            std::arch::global_asm!(
                concat!(".pushsection .text.", $name, ", \"ax\", ", $ty, "progbits"),
                concat!(".globl ", $name),
                concat!(".hidden ", $name),
                concat!(".type ", $name, ", ", $ty, "function"),
                concat!($name, ":"),
                $($line,)*
                concat!(".size ", $name, ", . - ", $name),
                ".popsection",
                $($($operands)*)?
            );
        };
    }

    /// The shim (below) from its arch's instructions, which reach the statics by name.
    macro_rules! shim {
        ($ty:literal, [$($line:literal),* $(,)?]) => {
            hidden_fn!(
                "rt_sigreturn_test_shim",
                $ty,
                [$($line),*],
                entry_sp = sym super::ENTRY_SP,
                tramp = sym super::TRAMPOLINE,
                handler = sym super::HANDLER,
            );
        };
    }

    /// The per-architecture pieces: the shim (the handler the kernel enters, which points the
    /// return-address register at our trampoline, where a kernel that maps our image points it,
    /// and jumps with the argument registers untouched to the Rust handler, which thus returns
    /// into the trampoline with the sp the kernel gave the handler); the interrupted code
    /// `(callee_saved, second) interrupted(value, tgid, tid, sig)`, which sets a callee-saved
    /// register to `value`, sends itself `sig` with a raw `tgkill` (so the signal arrives right
    /// after the syscall instruction) and returns what that register and the second argument
    /// register hold afterwards; `raise_in_here`; and where the frame keeps those registers.
    #[cfg(target_arch = "riscv64")]
    mod arch_parts {
        use std::ffi::c_void;

        shim!(
            "@",
            [
                "lla t0, {entry_sp}",
                "sd sp, 0(t0)",
                "lla t0, {tramp}",
                "ld ra, 0(t0)",
                "lla t0, {handler}",
                "ld t0, 0(t0)",
                "jr t0",
            ]
        );

        hidden_fn!(
            "rt_sigreturn_test_interrupted",
            "@",
            [
                ".globl rt_sigreturn_test_after_syscall",
                ".hidden rt_sigreturn_test_after_syscall",
                "addi sp, sp, -16",
                "sd s2, 0(sp)",
                "mv s2, a0",
                "mv a0, a1",
                "mv a1, a2",
                "mv a2, a3",
                "li a7, 131", // tgkill
                "ecall",
                "rt_sigreturn_test_after_syscall:",
                "mv a0, s2",
                "ld s2, 0(sp)",
                "addi sp, sp, 16",
                "ret",
            ]
        );

        /// `tgkill(tgid, tid, sig)` as a raw `ecall`, so the signal arrives inside this function.
        #[inline(never)]
        pub extern "C" fn raise_in_here(tgid: i64, tid: i64, sig: i64) -> i64 {
            let ret: i64;
            // SAFETY: tgkill only sends a signal; `ecall` returns in a0 and clobbers nothing else.
            unsafe {
                std::arch::asm!("ecall", in("a7") 131usize, inlateout("a0") tgid => ret, in("a1") tid,
                    in("a2") sig, options(nostack));
            }
            ret
        }

        /// The frame's pc, callee-saved register (s2) and second argument register (a1).
        ///
        /// # Safety
        /// `uc` is the ucontext the kernel passed to an SA_SIGINFO handler.
        pub unsafe fn frame_regs<'a>(uc: *mut c_void) -> (u64, &'a mut u64, &'a mut u64) {
            let uc = uc.cast::<libc::ucontext_t>();
            // SAFETY: per the caller, valid and writable.
            let gregs = unsafe { &mut (*uc).uc_mcontext.__gregs };
            let pc = gregs[0];
            let (lo, hi) = gregs.split_at_mut(18);
            (pc, &mut hi[0], &mut lo[11])
        }
    }

    #[cfg(target_arch = "aarch64")]
    mod arch_parts {
        use std::ffi::c_void;

        shim!(
            "%",
            [
                "adrp x9, {entry_sp}",
                "add x9, x9, :lo12:{entry_sp}",
                "mov x10, sp",
                "str x10, [x9]",
                "adrp x9, {tramp}",
                "ldr x30, [x9, :lo12:{tramp}]",
                "adrp x9, {handler}",
                "ldr x9, [x9, :lo12:{handler}]",
                "br x9",
            ]
        );

        hidden_fn!(
            "rt_sigreturn_test_interrupted",
            "%",
            [
                ".globl rt_sigreturn_test_after_syscall",
                ".hidden rt_sigreturn_test_after_syscall",
                "stp x19, x30, [sp, #-16]!",
                "mov x19, x0",
                "mov x0, x1",
                "mov x1, x2",
                "mov x2, x3",
                "mov x8, #131", // tgkill
                "svc #0",
                "rt_sigreturn_test_after_syscall:",
                "mov x0, x19",
                "ldp x19, x30, [sp], #16",
                "ret",
            ]
        );

        /// `tgkill(tgid, tid, sig)` as a raw `svc`, so the signal arrives inside this function.
        #[inline(never)]
        pub extern "C" fn raise_in_here(tgid: i64, tid: i64, sig: i64) -> i64 {
            let ret: i64;
            // SAFETY: tgkill only sends a signal; `svc #0` returns in x0 and clobbers nothing else.
            unsafe {
                std::arch::asm!("svc #0", in("x8") 131usize, inlateout("x0") tgid => ret, in("x1") tid,
                    in("x2") sig, options(nostack));
            }
            ret
        }

        /// The frame's pc, callee-saved register (x19) and second argument register (x1).
        ///
        /// # Safety
        /// `uc` is the ucontext the kernel passed to an SA_SIGINFO handler.
        pub unsafe fn frame_regs<'a>(uc: *mut c_void) -> (u64, &'a mut u64, &'a mut u64) {
            let uc = uc.cast::<libc::ucontext_t>();
            // SAFETY: per the caller, valid and writable.
            let mc = unsafe { &mut (*uc).uc_mcontext };
            let pc = mc.pc;
            let (lo, hi) = mc.regs.split_at_mut(19);
            (pc, &mut hi[0], &mut lo[1])
        }
    }

    #[cfg(target_arch = "loongarch64")]
    mod arch_parts {
        use std::ffi::c_void;

        shim!(
            "@",
            [
                "la.pcrel $t0, {entry_sp}",
                "st.d $sp, $t0, 0",
                "la.pcrel $t0, {tramp}",
                "ld.d $ra, $t0, 0",
                "la.pcrel $t0, {handler}",
                "ld.d $t0, $t0, 0",
                "jr $t0",
            ]
        );

        hidden_fn!(
            "rt_sigreturn_test_interrupted",
            "@",
            [
                ".globl rt_sigreturn_test_after_syscall",
                ".hidden rt_sigreturn_test_after_syscall",
                "addi.d $sp, $sp, -16",
                "st.d $s0, $sp, 0",
                "move $s0, $a0",
                "move $a0, $a1",
                "move $a1, $a2",
                "move $a2, $a3",
                "ori $a7, $zero, 131", // tgkill
                "syscall 0",
                "rt_sigreturn_test_after_syscall:",
                "move $a0, $s0",
                "ld.d $s0, $sp, 0",
                "addi.d $sp, $sp, 16",
                "ret",
            ]
        );

        /// `tgkill(tgid, tid, sig)` as a raw `syscall 0`, so the signal arrives inside this
        /// function.
        #[inline(never)]
        pub extern "C" fn raise_in_here(tgid: i64, tid: i64, sig: i64) -> i64 {
            let ret: i64;
            // SAFETY: tgkill only sends a signal; `syscall 0` returns in a0 and may clobber
            // t0-t8.
            unsafe {
                std::arch::asm!("syscall 0", in("$a7") 131usize, inlateout("$a0") tgid => ret, in("$a1") tid,
                    in("$a2") sig, out("$t0") _, out("$t1") _, out("$t2") _, out("$t3") _, out("$t4") _,
                    out("$t5") _, out("$t6") _, out("$t7") _, out("$t8") _, options(nostack));
            }
            ret
        }

        /// The frame's pc, callee-saved register (s0, r23) and second argument register (a1,
        /// r5).
        ///
        /// # Safety
        /// `uc` is the ucontext the kernel passed to an SA_SIGINFO handler.
        pub unsafe fn frame_regs<'a>(uc: *mut c_void) -> (u64, &'a mut u64, &'a mut u64) {
            let uc = uc.cast::<libc::ucontext_t>();
            // SAFETY: per the caller, valid and writable.
            let mc = unsafe { &mut (*uc).uc_mcontext };
            let pc = mc.__pc;
            let (lo, hi) = mc.__gregs.split_at_mut(23);
            (pc, &mut hi[0], &mut lo[5])
        }
    }

    use arch_parts::{frame_regs, raise_in_here};

    #[repr(C)]
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Regs {
        callee_saved: u64,
        second: u64,
    }

    extern "C" {
        fn rt_sigreturn_test_shim();
        fn rt_sigreturn_test_interrupted(value: u64, tgid: i64, tid: i64, sig: i64) -> Regs;
        fn rt_sigreturn_test_after_syscall();
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

    const OLD_SAVED: u64 = 0x0123_4567_89ab_cdef;
    const NEW_SAVED: u64 = 0xfeed_face_cafe_f00d;
    const NEW_SECOND: u64 = 0x0a11_0a11_0a11_0a11;

    static RAN: AtomicBool = AtomicBool::new(false);
    static SEEN_PC: AtomicUsize = AtomicUsize::new(0);
    static SEEN_SAVED: AtomicUsize = AtomicUsize::new(0);
    static SEEN_SIG: AtomicUsize = AtomicUsize::new(0);
    static SEEN_INFO: AtomicUsize = AtomicUsize::new(0);
    static SEEN_UC: AtomicUsize = AtomicUsize::new(0);

    /// Rewrites the callee-saved and the second argument register in the frame and records
    /// what it saw.
    extern "C" fn rewrite_registers(sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
        // SAFETY: the kernel passes a valid, writable ucontext to an SA_SIGINFO handler.
        let (pc, saved, second) = unsafe { frame_regs(uc) };
        SEEN_PC.store(pc as usize, SeqCst);
        SEEN_SAVED.store(*saved as usize, SeqCst);
        SEEN_SIG.store(sig as usize, SeqCst);
        SEEN_INFO.store(info as usize, SeqCst);
        SEEN_UC.store(uc as usize, SeqCst);
        *saved = NEW_SAVED;
        *second = NEW_SECOND;
        RAN.store(true, SeqCst);
    }

    #[test]
    fn a_handler_returning_through_our_trampoline_resumes_after_the_syscall_with_the_frame_registers() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(std::mem::size_of::<libc::siginfo_t>() as u64, SIGINFO_SIZE);
        assert_eq!(std::mem::offset_of!(libc::ucontext_t, uc_mcontext) as u64, UC_MCONTEXT);
        let vdso = Vdso::map();
        let (name, version) = trampoline_symbol();
        let tramp = vdso.mapped.symbol_address(name, version).expect("trampoline");
        let old = install(libc::SIGUSR1, rewrite_registers, tramp);
        RAN.store(false, SeqCst);
        let (pid, tid) = ids();
        // SAFETY: the asm function follows the C calling convention; the signal it sends
        // itself is handled by the shim installed above.
        let out = unsafe { rt_sigreturn_test_interrupted(OLD_SAVED, pid, tid, libc::SIGUSR1 as i64) };
        restore(libc::SIGUSR1, &old);

        assert!(RAN.load(SeqCst), "the handler ran");
        assert_eq!(SEEN_SIG.load(SeqCst), libc::SIGUSR1 as usize);
        assert_eq!(SEEN_SAVED.load(SeqCst) as u64, OLD_SAVED, "the frame held the interrupted register");
        let after = rt_sigreturn_test_after_syscall as *const () as usize;
        assert_eq!(SEEN_PC.load(SeqCst), after, "the frame's pc is the instruction after the syscall");
        // The frame layout the unwind rules assume, as the running kernel built it: siginfo at
        // the handler's sp, the ucontext 128 bytes on, the sigcontext 304 bytes on.
        let sp = ENTRY_SP.load(SeqCst);
        assert_eq!(SEEN_INFO.load(SeqCst), sp, "siginfo at the handler's sp");
        assert_eq!(SEEN_UC.load(SeqCst), sp + SIGINFO_SIZE as usize, "ucontext after siginfo");
        let sc_regs = SEEN_UC.load(SeqCst) + std::mem::offset_of!(libc::ucontext_t, uc_mcontext);
        assert_eq!(sc_regs, sp + SC_REGS as usize, "the sigcontext at sp + 304");
        // Only rt_sigreturn reloads every register from the frame: a plain return would have
        // left the callee-saved register as the interrupted code set it (the handler preserves
        // callee-saved registers).
        assert_eq!(
            out,
            Regs { callee_saved: NEW_SAVED, second: NEW_SECOND },
            "registers restored from the frame"
        );
        drop(vdso);
    }

    #[test]
    fn repeated_signals_through_our_trampoline_each_restore_their_own_context() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let vdso = Vdso::map();
        let (name, version) = trampoline_symbol();
        let tramp = vdso.mapped.symbol_address(name, version).expect("trampoline");
        let old = install(libc::SIGUSR1, rewrite_registers, tramp);
        let (pid, tid) = ids();
        for i in 0..50u64 {
            RAN.store(false, SeqCst);
            // SAFETY: as in the test above.
            let out = unsafe { rt_sigreturn_test_interrupted(OLD_SAVED ^ i, pid, tid, libc::SIGUSR1 as i64) };
            assert!(RAN.load(SeqCst), "round {i}");
            assert_eq!(SEEN_SAVED.load(SeqCst) as u64, OLD_SAVED ^ i, "round {i}");
            assert_eq!(out, Regs { callee_saved: NEW_SAVED, second: NEW_SECOND }, "round {i}");
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

    /// `[start, end)` of a function of this test binary, its size from the binary's own symbol
    /// table.
    #[cfg(target_env = "gnu")]
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

    /// `[start, end)` of `raise_in_here` in this static musl test binary (no `dladdr` there):
    /// its symbol found by name in the binary's own symbol table, the load bias from its address.
    #[cfg(target_env = "musl")]
    fn function_bounds(f: usize) -> (usize, usize) {
        let exe = std::fs::read(std::env::current_exe().expect("current_exe")).expect("read the test binary");
        let elf = goblin::elf::Elf::parse(&exe).expect("parse the test binary");
        let sym = elf
            .syms
            .iter()
            .find(|s| {
                s.is_function()
                    && s.st_size > 0
                    && elf.strtab.get_at(s.st_name).is_some_and(|n| n.contains("raise_in_here"))
            })
            .expect("raise_in_here in the test binary's symbol table");
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
    #[cfg(target_env = "gnu")]
    fn load_image(bytes: &[u8], name: &str) -> (usize, Loaded) {
        let dir = common::scratch_dir(name);
        let path = dir.join("linux-vdso.so.1");
        std::fs::write(&path, bytes).expect("write image");
        let cpath = CString::new(path.to_str().expect("utf-8 path")).unwrap();
        // SAFETY: dlopen of an image we wrote; it has no constructors or relocations.
        let handle = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(!handle.is_null(), "dlopen {}", path.display());
        let (name, version) = trampoline_symbol();
        let (name, version) = (CString::new(name).unwrap(), CString::new(version).unwrap());
        // SAFETY: a live handle and C strings.
        let tramp = unsafe { libc::dlvsym(handle, name.as_ptr(), version.as_ptr()) } as usize;
        assert_ne!(tramp, 0, "dlvsym {name:?}");
        (tramp, Loaded(handle))
    }

    /// A dlopen'ed image, closed on drop.
    #[cfg(target_env = "gnu")]
    struct Loaded(*mut c_void);

    #[cfg(target_env = "gnu")]
    impl Drop for Loaded {
        fn drop(&mut self) {
            // SAFETY: nothing from the object is used any more (the handler is uninstalled).
            unsafe { libc::dlclose(self.0) };
        }
    }

    // LLVM's libunwind (what Zig links into the static musl test binaries): registers one FDE
    // for its pc range, looked up before the program's own `PT_GNU_EH_FRAME`.
    #[cfg(target_env = "musl")]
    extern "C" {
        fn __register_frame(fde: *const c_void);
        fn __deregister_frame(fde: *const c_void);
    }

    /// Static musl has no `dlopen`: the image (or a variant) is mapped by the kernel stub, as a
    /// kernel maps it, and the trampoline's FDE inside that mapping is registered with the
    /// unwinder (what a libc's `dl_iterate_phdr` would show it through `PT_GNU_EH_FRAME` for the
    /// vDSO). Returns the address of the trampoline and the mapping.
    #[cfg(target_env = "musl")]
    fn load_image(bytes: &[u8], _name: &str) -> (usize, Loaded) {
        let mapped = vdso_kernel_stub::MappedVdso::map(bytes, vdso_kernel_stub::ArchLayout::native())
            .expect("map the image");
        let (name, version) = trampoline_symbol();
        let tramp = mapped.symbol_address(name, version).expect("trampoline");
        let t = super::tables(bytes);
        let off = tramp - mapped.image_base() as usize;
        let fde = mapped.image_base() as usize + t.eh_frame_offset + t.fde_for(off as u64).offset();
        // SAFETY: `fde` is the trampoline's FDE inside the mapped image, which stays mapped until
        // the FDE is deregistered (`Loaded`'s drop).
        unsafe { __register_frame(fde as *const c_void) };
        (tramp, Loaded { _mapped: mapped, fde })
    }

    /// A mapped image whose trampoline FDE is registered with the unwinder, deregistered on drop.
    #[cfg(target_env = "musl")]
    struct Loaded {
        _mapped: vdso_kernel_stub::MappedVdso,
        fde: usize,
    }

    #[cfg(target_env = "musl")]
    impl Drop for Loaded {
        fn drop(&mut self) {
            // SAFETY: the FDE registered by `load_image`, still mapped.
            unsafe { __deregister_frame(self.fde as *const c_void) };
        }
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
        let (tramp, loaded) = load_image(Image::get(arch()).bytes(), "sigreturn-unwind");
        let pcs = backtrace_through(tramp);
        let what = describe(&pcs, tramp, f);
        println!("{what}");
        assert!(pcs.contains(&tramp), "the walk reached the trampoline's frame: {what}");
        let at = pcs.iter().position(|&p| p == tramp).unwrap();
        assert!(
            pcs[at + 1..].first().is_some_and(|&p| (f.0..f.1).contains(&p)),
            "the frame after the trampoline is the interrupted function: {what}"
        );
        drop(loaded);
    }

    #[test]
    fn control_with_a_wrong_cfa_in_the_fde_does_not_reach_the_interrupted_function() {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let f = function_bounds(raise_in_here as *const () as usize);
        let (tramp, loaded) =
            load_image(&image_with_broken_trampoline_cfa(arch()), "sigreturn-unwind-control");
        let pcs = backtrace_through(tramp);
        let what = describe(&pcs, tramp, f);
        println!("{what}");
        assert!(pcs.contains(&tramp), "the walk reached the trampoline's frame: {what}");
        assert!(
            !pcs.iter().any(|p| (f.0..f.1).contains(p)),
            "with a broken FDE the walk must not find the interrupted function (else the passing \
             test above may have used libgcc's fallback, not the image's FDE): {what}"
        );
        drop(loaded);
    }
}

/// `vdso verify` holds a rebuilt image to the same contract (docs/abi.md section 5): the copy
/// with the wrong CFA, and one whose `nop` before the trampoline is another instruction, are
/// each rejected naming what broke; the shipped image passes. The rules it checks come from the
/// table's row, which must agree with this file's own `spec`.
#[test]
fn the_verifier_rejects_a_wrong_trampoline_cfa_and_a_missing_nop() {
    use linux_vdso::elf::ElfImage;
    use linux_vdso::verify::{verify, Stage};
    let violations = |bytes: &[u8], arch: Arch| -> Vec<String> {
        let parsed = ElfImage::parse(bytes).expect("still parses");
        verify(&parsed, linux_vdso::Variant::default_for(arch), Stage::Stripped)
            .into_iter()
            .map(|v| v.0)
            .collect()
    };
    for s in specs() {
        let row = s.arch.info().sigreturn.expect("a trampoline");
        assert_eq!(
            (row.nop, row.sp_column, row.cfa_offset, row.pc_column),
            (s.nop, s.sp.0, SC_REGS as i64, s.pc_column.0),
            "{:?}",
            s.arch
        );
        assert!(s.saved.contains(&(s.pc_column, row.pc_offset)), "{:?}", s.arch);
        assert_eq!(violations(Image::get(s.arch).bytes(), s.arch), Vec::<String>::new(), "{:?}", s.arch);

        let broken = violations(&image_with_broken_trampoline_cfa(s.arch), s.arch);
        assert!(
            broken.iter().any(|v| v.contains("the CFA is") && v.contains(row.symbol)),
            "{:?}: {broken:?}",
            s.arch
        );

        let mut bytes = Image::get(s.arch).bytes().to_vec();
        let (off, _) = trampoline(s.arch);
        let at = off as usize - 4;
        bytes[at..at + 4].copy_from_slice(&0x0000_0000u32.to_le_bytes());
        let v = violations(&bytes, s.arch);
        assert!(v.iter().any(|m| m.contains("expected the nop")), "{:?}: {v:?}", s.arch);
    }
}
