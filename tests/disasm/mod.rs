//! Reading objdump's disassembly of the images: each instruction decoded (per architecture, in
//! the per-arch files) into the few effects the checks reason about ([`Op`]): which register
//! gets a link-time constant, a sum, a shift or a load, and which memory a store writes.
//! `stack` follows the registers that hold stack addresses (issue 14: key material never reaches
//! the stack); `address` follows link-time addresses to find which data page a load reads.

#![allow(dead_code)]

mod aarch64;
pub mod address;
mod loongarch64;
mod riscv64;
pub mod stack;
mod x86_64;

use linux_vdso::Arch;

/// One disassembled instruction: address, mnemonic, operands (objdump's spelling).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insn {
    pub addr: u64,
    pub mnemonic: String,
    pub operands: String,
}

impl Insn {
    /// A synthetic instruction (the controls' spelling of what objdump would print).
    pub fn new(mnemonic: &str, operands: &str) -> Insn {
        Insn { addr: 0, mnemonic: mnemonic.into(), operands: operands.into() }
    }
}

/// A general-purpose register, by one canonical name per register (`rax` for `eax`, `x9` for
/// `w9`, `s0` for `fp`, `$fp` for `$s9`).
pub type Reg = &'static str;

/// A memory operand: `base + offset`, plus an index register where the mode has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Mem {
    pub base: Reg,
    pub index: Option<Reg>,
    pub offset: i64,
    /// Bytes the access reads or writes (0 where it does not matter to any check).
    pub width: u32,
}

/// What one instruction does to the general-purpose registers and to memory, as far as the
/// checks need: every register an instruction writes appears in exactly one of its effects.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `dest` = an address fixed at link time, relative to the image's start (`auipc`,
    /// `pcalau12i`).
    Address { dest: Reg, value: i64 },
    /// `dest` = a constant (`lui`, `lu12i.w`, `li`).
    Const { dest: Reg, value: i64 },
    /// `dest = a + imm` (a move when `imm` is 0).
    AddImm { dest: Reg, a: Reg, imm: i64 },
    /// `dest = a + (b << shift)`.
    Add { dest: Reg, a: Reg, b: Reg, shift: u32 },
    /// `dest` += something no check follows (a value loaded from memory, a write to part of the
    /// register): an address in it stays one, with an unknown offset.
    Offset { dest: Reg },
    /// `dest = a - b`.
    Sub { dest: Reg, a: Reg, b: Reg },
    /// `dest = a | imm`.
    OrImm { dest: Reg, a: Reg, imm: i64 },
    /// `dest = a << shift`.
    Shl { dest: Reg, a: Reg, shift: u32 },
    /// `dests` loaded from memory at `mem` (the base updated in place when `writeback`).
    Load { dests: Vec<Reg>, mem: Mem, writeback: bool },
    /// A store to memory at `mem` (a push, a call's return address, a store-conditional);
    /// `writes`: registers it also writes (a status, an atomic's old value).
    Store { mem: Mem, writeback: bool, writes: Vec<Reg> },
    /// Anything else: `writes` get values no check follows (no register for a compare, a
    /// branch, a barrier).
    Other { writes: Vec<Reg> },
}

/// How one architecture's objdump spells things, and its registers of interest.
pub struct Syntax {
    /// The stack pointer.
    pub sp: Reg,
    /// The frame pointer, which at a function's entry holds the caller's frame address (a
    /// stack address) when the caller keeps frame pointers.
    pub fp: Reg,
    /// What starts objdump's comment after the operands.
    comment: &'static str,
    /// Decodes an instruction at `addr` from its mnemonic and split operands.
    decode: fn(addr: u64, mnemonic: &str, operands: &[String]) -> Op,
}

/// `arch`'s row.
pub fn syntax(arch: Arch) -> &'static Syntax {
    match arch {
        Arch::X86_64 => &x86_64::SYNTAX,
        Arch::Aarch64 => &aarch64::SYNTAX,
        Arch::Riscv64 => &riscv64::SYNTAX,
        Arch::Loongarch64 => &loongarch64::SYNTAX,
    }
}

/// Decodes `i` as `arch`'s objdump prints it.
pub fn decode(arch: Arch, i: &Insn) -> Op {
    let s = syntax(arch);
    let operands = i.operands.split(s.comment).next().unwrap_or("");
    (s.decode)(i.addr, &i.mnemonic, &split_operands(operands))
}

/// The operands of `s`, split at the commas outside brackets (`[sp, #16]` is one operand),
/// trimmed; a branch's `<symbol>` annotation removed.
fn split_operands(s: &str) -> Vec<String> {
    let s = s.split(" <").next().unwrap_or(s);
    let mut out = vec![];
    let (mut depth, mut cur) = (0i32, String::new());
    for c in s.chars() {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// An integer as objdump prints it: `0x1f`, `-0x18`, `#0x10`, `#16`, `-48`.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('#');
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let v = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as i64,
        None => s.parse::<i64>().ok()?,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// `v`'s low `bits` bits as a signed number.
fn sign_extend(v: i64, bits: u32) -> i64 {
    (v << (64 - bits)) >> (64 - bits)
}

/// The first register among `regs` (canonical names) whose spelling is `name`.
fn find_reg(regs: &[(&'static str, &[&str])], name: &str) -> Option<Reg> {
    regs.iter().find(|(_, names)| names.contains(&name)).map(|(r, _)| *r)
}
