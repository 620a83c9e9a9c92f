//! aarch64 as GNU objdump prints it: `str\tx0, [x9]`, `stp\tx29, x30, [sp, #-16]!`,
//! `ldr\tx0, [x9], #8`, `mov\tx9, sp`, `add\tx9, sp, #0x10`, `add\tx0, x1, x2, lsl #3`.

use super::{parse_int, Mem, Op, Reg, Syntax};

pub static SYNTAX: Syntax = Syntax { sp: "sp", fp: "x29", comment: "//", decode };

/// `x0`..`x30` (canonical names: a `wN` write is a write to `xN`).
const X: [&str; 31] = [
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
    "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30",
];

fn reg(s: &str) -> Option<Reg> {
    match s.trim() {
        "sp" | "wsp" => Some("sp"),
        "xzr" | "wzr" => Some("xzr"),
        "fp" => Some("x29"),
        "lr" => Some("x30"),
        r => {
            let n: usize = r.strip_prefix('x').or_else(|| r.strip_prefix('w'))?.parse().ok()?;
            X.get(n).copied()
        }
    }
}

/// `[base]`, `[base, #imm]`, `[base, index{, extend}]`, with the pre-index `!`.
fn mem(s: &str) -> Option<(Mem, bool)> {
    let writeback = s.ends_with('!');
    let inner = s.trim_end_matches('!').strip_prefix('[')?.strip_suffix(']')?;
    let mut parts = inner.split(',').map(str::trim);
    let base = reg(parts.next()?)?;
    let (mut index, mut offset) = (None, 0);
    if let Some(p) = parts.next() {
        match parse_int(p) {
            Some(v) => offset = v,
            None => index = reg(p),
        }
    }
    Some((Mem { base, index, offset, width: 0 }, writeback))
}

fn decode(_addr: u64, m: &str, ops: &[String]) -> Op {
    let none = Op::Other { writes: vec![] };
    let branch = m == "b"
        || m.starts_with("b.")
        || ["br", "bl", "blr", "cbz", "cbnz", "tbz", "tbnz", "ret"].contains(&m);
    if branch
        || ["cmp", "cmn", "tst", "nop", "dmb", "dsb", "isb", "prfm", "msr", "svc", "hint"].contains(&m)
        || m.starts_with("fcmp")
    {
        return none;
    }
    // The memory operand and, after it, a post-index immediate (`[x9], #8`: written back).
    let at = ops.iter().position(|o| o.starts_with('['));
    let access = at.and_then(|k| mem(&ops[k]).map(|(mem, pre)| (k, mem, pre || ops.len() > k + 1)));
    let gprs = |ops: &[String]| ops.iter().filter_map(|o| reg(o)).collect::<Vec<_>>();
    if let Some((k, mem, writeback)) = access {
        if m.starts_with("st") {
            // `stxr w2, x0, [x1]`: the status register is written.
            let writes = if m.contains("xr") || m.contains("xp") { gprs(&ops[..1]) } else { vec![] };
            return Op::Store { mem, writeback, writes };
        }
        return Op::Load { dests: gprs(&ops[..k]), mem, writeback };
    }
    let Some(dest) = ops.first().and_then(|o| reg(o)) else { return none };
    let a = ops.get(1).and_then(|o| reg(o));
    let third = ops.get(2).map(String::as_str);
    // `add x0, x1, x2, lsl #3` and `add x9, sp, #0x10, lsl #12`.
    let shift = ops.get(3).and_then(|s| s.strip_prefix("lsl ")).and_then(parse_int).map_or(0, |v| v as u32);
    match (m, a, third.and_then(reg), third.and_then(parse_int)) {
        ("mov", Some(a), None, None) => Op::AddImm { dest, a, imm: 0 },
        ("add", Some(a), None, Some(v)) => Op::AddImm { dest, a, imm: v << shift },
        ("sub", Some(a), None, Some(v)) => Op::AddImm { dest, a, imm: (v << shift).wrapping_neg() },
        ("add", Some(a), Some(b), _) => Op::Add { dest, a, b, shift },
        ("sub", Some(a), Some(b), _) => Op::Sub { dest, a, b },
        ("lsl", Some(a), None, Some(v)) => Op::Shl { dest, a, shift: v as u32 },
        _ => Op::Other { writes: vec![dest] },
    }
}
