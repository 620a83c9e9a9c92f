//! x86_64 as GNU objdump prints it with `-M intel`: `mov    QWORD PTR [rax],rdi`,
//! `lea    rax,[rsp-0x8]`, `sub    rsp,0x18`.

use super::{find_reg, parse_int, Mem, Op, Reg, Syntax};

pub static SYNTAX: Syntax = Syntax { sp: "rsp", fp: "rbp", comment: "#", decode };

/// Every general-purpose register and its narrower names: 32 bits (a write clears the upper
/// half), then 16 and 8 bits (a write keeps the rest).
const REGS: &[(&str, &[&str])] = &[
    ("rax", &["rax", "eax", "ax", "al", "ah"]),
    ("rbx", &["rbx", "ebx", "bx", "bl", "bh"]),
    ("rcx", &["rcx", "ecx", "cx", "cl", "ch"]),
    ("rdx", &["rdx", "edx", "dx", "dl", "dh"]),
    ("rsi", &["rsi", "esi", "si", "sil"]),
    ("rdi", &["rdi", "edi", "di", "dil"]),
    ("rbp", &["rbp", "ebp", "bp", "bpl"]),
    ("rsp", &["rsp", "esp", "sp", "spl"]),
    ("r8", &["r8", "r8d", "r8w", "r8b"]),
    ("r9", &["r9", "r9d", "r9w", "r9b"]),
    ("r10", &["r10", "r10d", "r10w", "r10b"]),
    ("r11", &["r11", "r11d", "r11w", "r11b"]),
    ("r12", &["r12", "r12d", "r12w", "r12b"]),
    ("r13", &["r13", "r13d", "r13w", "r13b"]),
    ("r14", &["r14", "r14d", "r14w", "r14b"]),
    ("r15", &["r15", "r15d", "r15w", "r15b"]),
];

fn reg(s: &str) -> Option<Reg> {
    find_reg(REGS, s.trim())
}

/// Whether `s` names 8 or 16 bits of a register (each list of [`REGS`] has the 64- and 32-bit
/// names first).
fn partial(s: &str) -> bool {
    REGS.iter().any(|(_, names)| names.iter().skip(2).any(|n| *n == s.trim()))
}

/// `[base+index*scale+disp]` after an optional `QWORD PTR ` / `fs:`; `None` for a register or
/// an immediate, or an address no general-purpose register forms (`[rip+0x10]`).
fn mem(s: &str) -> Option<Result<Mem, ()>> {
    let inner = s.split_once('[')?.1.split(']').next()?;
    let (mut base, mut index, mut offset) = (None, None, 0i64);
    // "rsp-0x8" -> ["rsp", "-0x8"]: split before every sign.
    for term in inner.replace('-', "+-").split('+').filter(|t| !t.is_empty()) {
        if let Some((r, _scale)) = term.split_once('*') {
            index = reg(r);
        } else if let Some(r) = reg(term) {
            if base.is_none() {
                base = Some(r);
            } else {
                index = Some(r);
            }
        } else if let Some(v) = parse_int(term) {
            offset = offset.wrapping_add(v);
        } else {
            return Some(Err(())); // rip-relative
        }
    }
    Some(base.map(|base| Mem { base, index, offset, width: 0 }).ok_or(()))
}

fn decode(_addr: u64, m: &str, ops: &[String]) -> Op {
    let rsp = SYNTAX.sp;
    let first = ops.first().map(String::as_str).unwrap_or("");
    let dest = reg(first);
    let src = ops.get(1).map(String::as_str).unwrap_or("");
    let push = Mem { base: rsp, index: None, offset: -8, width: 8 };
    // A push, and a call's push of its return address.
    if m.starts_with("push") || m.starts_with("call") {
        return Op::Store { mem: push, writeback: true, writes: vec![] };
    }
    if ["cmp", "test", "j", "ret", "nop", "bt", "ucomi", "comi", "prefetch", "lfence", "mfence", "sfence"]
        .iter()
        .any(|p| m.starts_with(p))
    {
        return Op::Other { writes: vec![] };
    }
    match mem(first) {
        Some(Ok(mem)) => return Op::Store { mem, writeback: false, writes: vec![] },
        Some(Err(())) => return Op::Other { writes: vec![] },
        None => {}
    }
    let Some(dest) = dest else { return Op::Other { writes: vec![] } };
    // A write to 8 or 16 of its bits leaves the rest of the register (a 32-bit write clears it).
    if partial(first) {
        return Op::Offset { dest };
    }
    let other = Op::Other { writes: vec![dest] };
    match (m, mem(src), reg(src), parse_int(src)) {
        ("lea", Some(Ok(Mem { base, index: None, offset, .. })), _, _) => {
            Op::AddImm { dest, a: base, imm: offset }
        }
        ("lea", Some(Ok(Mem { base, index: Some(b), .. })), _, _) => Op::Add { dest, a: base, b, shift: 0 },
        (_, Some(Ok(mem)), _, _) if m.starts_with("mov") => {
            Op::Load { dests: vec![dest], mem, writeback: false }
        }
        ("mov", None, Some(s), _) => Op::AddImm { dest, a: s, imm: 0 },
        ("add", None, Some(s), _) => Op::Add { dest, a: dest, b: s, shift: 0 },
        ("sub", None, Some(s), _) => Op::Sub { dest, a: dest, b: s },
        ("add", None, None, Some(v)) => Op::AddImm { dest, a: dest, imm: v },
        ("sub", None, None, Some(v)) => Op::AddImm { dest, a: dest, imm: v.wrapping_neg() },
        // `add rax,QWORD PTR [rsi]`: an unknown amount added.
        ("add" | "sub", Some(Ok(_)), _, _) => Op::Offset { dest },
        ("xchg", _, Some(s), _) => Op::Other { writes: vec![dest, s] },
        _ => other,
    }
}
