//! riscv64 as GNU objdump prints it (ABI register names, compressed forms as their base
//! instruction): `sd\ta4,8(sp)`, `mv\tt0,sp`, `add\tt0,sp,16`, `auipc\tt2,0xffffb`,
//! `lui\ta5,0x3`, `sll\ta5,a1,0x3`, `lb\ta7,120(t2)`.

use super::{find_reg, parse_int, sign_extend, Mem, Op, Reg, Syntax};

pub static SYNTAX: Syntax = Syntax { sp: "sp", fp: "s0", comment: "#", decode };

const REGS: &[(&str, &[&str])] = &[
    ("zero", &["zero"]),
    ("ra", &["ra"]),
    ("sp", &["sp"]),
    ("gp", &["gp"]),
    ("tp", &["tp"]),
    ("t0", &["t0"]),
    ("t1", &["t1"]),
    ("t2", &["t2"]),
    ("s0", &["s0", "fp"]),
    ("s1", &["s1"]),
    ("a0", &["a0"]),
    ("a1", &["a1"]),
    ("a2", &["a2"]),
    ("a3", &["a3"]),
    ("a4", &["a4"]),
    ("a5", &["a5"]),
    ("a6", &["a6"]),
    ("a7", &["a7"]),
    ("s2", &["s2"]),
    ("s3", &["s3"]),
    ("s4", &["s4"]),
    ("s5", &["s5"]),
    ("s6", &["s6"]),
    ("s7", &["s7"]),
    ("s8", &["s8"]),
    ("s9", &["s9"]),
    ("s10", &["s10"]),
    ("s11", &["s11"]),
    ("t3", &["t3"]),
    ("t4", &["t4"]),
    ("t5", &["t5"]),
    ("t6", &["t6"]),
];

fn reg(s: &str) -> Option<Reg> {
    find_reg(REGS, s.trim())
}

/// `off(base)` (an atomic's `(base)`).
fn mem(s: &str, width: u32) -> Option<Mem> {
    let (off, rest) = s.split_once('(')?;
    let base = reg(rest.strip_suffix(')')?)?;
    let offset = if off.is_empty() { 0 } else { parse_int(off)? };
    Some(Mem { base, index: None, offset, width })
}

/// Bytes a load or store mnemonic moves (`None`: not one).
fn width(m: &str, kinds: &[&str]) -> Option<u32> {
    let m = m.strip_prefix('f').unwrap_or(m);
    let rest = kinds.iter().find_map(|k| m.strip_prefix(k))?;
    match rest.trim_end_matches('u') {
        "b" => Some(1),
        "h" => Some(2),
        "w" => Some(4),
        "d" => Some(8),
        "q" => Some(16),
        _ => None,
    }
}

fn decode(addr: u64, m: &str, ops: &[String]) -> Op {
    let none = Op::Other { writes: vec![] };
    let first = ops.first().and_then(|o| reg(o));
    let memop = ops.iter().find_map(|o| mem(o, 0));
    // Atomics and store-conditionals write memory and their first register.
    if m.starts_with("amo") || m.starts_with("sc.") {
        let Some(mem) = memop else { return none };
        return Op::Store { mem, writeback: false, writes: first.into_iter().collect() };
    }
    if let Some(w) = width(m, &["s"]) {
        let Some(mem) = ops.get(1).and_then(|o| mem(o, w)) else { return none };
        return Op::Store { mem, writeback: false, writes: vec![] };
    }
    if let Some(w) = width(m, &["lr.", "l"]) {
        let Some(mem) = ops.get(1).and_then(|o| mem(o, w)) else { return none };
        return Op::Load { dests: first.into_iter().collect(), mem, writeback: false };
    }
    let branch = m.starts_with('b')
        || ["j", "jr", "jal", "jalr", "ret", "ecall", "ebreak", "nop", "fence", "fence.i"].contains(&m);
    if branch {
        return none;
    }
    let Some(dest) = first else { return none };
    let a = ops.get(1).and_then(|o| reg(o));
    let b = ops.get(2).and_then(|o| reg(o));
    let imm = |k: usize| ops.get(k).and_then(|o| parse_int(o));
    match (m, a, b) {
        ("auipc", _, _) => match imm(1) {
            Some(v) => Op::Address { dest, value: (addr as i64).wrapping_add(sign_extend(v, 20) << 12) },
            None => Op::Other { writes: vec![dest] },
        },
        ("lui", _, _) => match imm(1) {
            Some(v) => Op::Const { dest, value: sign_extend(v, 20) << 12 },
            None => Op::Other { writes: vec![dest] },
        },
        ("li", _, _) => match imm(1) {
            Some(value) => Op::Const { dest, value },
            None => Op::Other { writes: vec![dest] },
        },
        ("mv", Some(a), _) => Op::AddImm { dest, a, imm: 0 },
        ("add" | "addi", Some(a), None) => match imm(2) {
            Some(imm) => Op::AddImm { dest, a, imm },
            None => Op::Other { writes: vec![dest] },
        },
        ("add", Some(a), Some(b)) => Op::Add { dest, a, b, shift: 0 },
        ("sub", Some(a), Some(b)) => Op::Sub { dest, a, b },
        ("or" | "ori", Some(a), None) => match imm(2) {
            Some(imm) => Op::OrImm { dest, a, imm },
            None => Op::Other { writes: vec![dest] },
        },
        ("sll" | "slli", Some(a), None) => match imm(2) {
            Some(v) => Op::Shl { dest, a, shift: v as u32 },
            None => Op::Other { writes: vec![dest] },
        },
        _ => Op::Other { writes: vec![dest] },
    }
}
