//! loongarch64 as LLVM's objdump prints it (decimal immediates): `st.d\t$a4, $sp, 8`,
//! `stx.d\t$a0, $t0, $a1`, `move\t$t0, $sp`, `addi.d\t$sp, $sp, -48`, `pcalau12i\t$a0, -16`,
//! `lu12i.w\t$a2, 12`, `slli.d\t$a2, $a3, 6`, `ld.w\t$a0, $a0, 0`.

use super::{find_reg, parse_int, sign_extend, Mem, Op, Reg, Syntax};

pub static SYNTAX: Syntax = Syntax { sp: "$sp", fp: "$fp", comment: "#", decode };

const REGS: &[(&str, &[&str])] = &[
    ("$zero", &["$zero", "$r0"]),
    ("$ra", &["$ra", "$r1"]),
    ("$tp", &["$tp", "$r2"]),
    ("$sp", &["$sp", "$r3"]),
    ("$a0", &["$a0", "$v0", "$r4"]),
    ("$a1", &["$a1", "$v1", "$r5"]),
    ("$a2", &["$a2", "$r6"]),
    ("$a3", &["$a3", "$r7"]),
    ("$a4", &["$a4", "$r8"]),
    ("$a5", &["$a5", "$r9"]),
    ("$a6", &["$a6", "$r10"]),
    ("$a7", &["$a7", "$r11"]),
    ("$t0", &["$t0", "$r12"]),
    ("$t1", &["$t1", "$r13"]),
    ("$t2", &["$t2", "$r14"]),
    ("$t3", &["$t3", "$r15"]),
    ("$t4", &["$t4", "$r16"]),
    ("$t5", &["$t5", "$r17"]),
    ("$t6", &["$t6", "$r18"]),
    ("$t7", &["$t7", "$r19"]),
    ("$t8", &["$t8", "$r20"]),
    ("$r21", &["$r21"]),
    ("$fp", &["$fp", "$s9", "$r22"]),
    ("$s0", &["$s0", "$r23"]),
    ("$s1", &["$s1", "$r24"]),
    ("$s2", &["$s2", "$r25"]),
    ("$s3", &["$s3", "$r26"]),
    ("$s4", &["$s4", "$r27"]),
    ("$s5", &["$s5", "$r28"]),
    ("$s6", &["$s6", "$r29"]),
    ("$s7", &["$s7", "$r30"]),
    ("$s8", &["$s8", "$r31"]),
];

fn reg(s: &str) -> Option<Reg> {
    find_reg(REGS, s.trim())
}

/// Bytes a load or store of this suffix (`.d`, `.wu`, `x.b`, `ptr.w`) moves.
fn width(suffix: &str) -> Option<u32> {
    let s = suffix.strip_prefix("ptr").or_else(|| suffix.strip_prefix('x')).unwrap_or(suffix);
    match s.trim_end_matches('u') {
        ".b" => Some(1),
        ".h" => Some(2),
        ".w" | ".s" => Some(4),
        ".d" => Some(8),
        _ => None,
    }
}

fn decode(addr: u64, m: &str, ops: &[String]) -> Op {
    let none = Op::Other { writes: vec![] };
    let r = |k: usize| ops.get(k).and_then(|o| reg(o));
    let imm = |k: usize| ops.get(k).and_then(|o| parse_int(o));
    // `stx.d rd, rj, rk` / `st.d rd, rj, si12`: the address is rj + rk or rj + si12.
    let mem = |w: u32| -> Option<Mem> {
        Some(Mem { base: r(1)?, index: r(2), offset: imm(2).unwrap_or(0), width: w })
    };
    // `amswap.d rd, rk, rj` and `sc.d rd, rj, si14`: memory written, rd too.
    if m.starts_with("am") {
        let Some(base) = r(2) else { return none };
        let mem = Mem { base, index: None, offset: 0, width: 0 };
        return Op::Store { mem, writeback: false, writes: r(0).into_iter().collect() };
    }
    if m.starts_with("sc.") {
        let Some(mem) = mem(0) else { return none };
        return Op::Store { mem, writeback: false, writes: r(0).into_iter().collect() };
    }
    // st.*, stx.*, stptr.*, fst.*, fstx.*, vst, vstx, xvst, xvstx, stgt.*, stle.*
    if let Some(suffix) = m.strip_prefix("st").or_else(|| m.strip_prefix("fst")) {
        let Some(mem) = mem(width(suffix).unwrap_or(0)) else { return none };
        return Op::Store { mem, writeback: false, writes: vec![] };
    }
    if m.starts_with("vst") || m.starts_with("xvst") {
        let Some(mem) = mem(0) else { return none };
        return Op::Store { mem, writeback: false, writes: vec![] };
    }
    if let Some(suffix) = m.strip_prefix("ld").or_else(|| m.strip_prefix("fld")) {
        if m.starts_with("ld")
            && !suffix.starts_with('.')
            && !suffix.starts_with('x')
            && !suffix.starts_with("ptr")
        {
            return Op::Other { writes: r(0).into_iter().collect() }; // lddir, ldpte (kernel only)
        }
        let Some(mem) = mem(width(suffix).unwrap_or(0)) else { return none };
        return Op::Load { dests: r(0).into_iter().collect(), mem, writeback: false };
    }
    let branch = ["b", "bl", "beq", "bne", "blt", "bge", "bltu", "bgeu", "beqz", "bnez", "bceqz", "bcnez"];
    if branch.contains(&m) || ["dbar", "ibar", "syscall", "break", "nop"].contains(&m) {
        return none;
    }
    let Some(dest) = r(0) else { return none };
    let other = Op::Other { writes: vec![dest] };
    let (a, b) = (r(1), r(2));
    match (m, a, b) {
        // `rdtime.d rd, rj`: the counter in rd, its ID in rj.
        ("rdtime.d" | "rdtimel.w" | "rdtimeh.w", _, _) => {
            Op::Other { writes: r(1).into_iter().chain([dest]).collect() }
        }
        ("pcalau12i", _, _) => match imm(1) {
            Some(v) => {
                Op::Address { dest, value: (addr as i64 & !0xfff).wrapping_add(sign_extend(v, 20) << 12) }
            }
            None => other,
        },
        ("pcaddu12i", _, _) => match imm(1) {
            Some(v) => Op::Address { dest, value: (addr as i64).wrapping_add(sign_extend(v, 20) << 12) },
            None => other,
        },
        ("pcaddi", _, _) => match imm(1) {
            Some(v) => Op::Address { dest, value: (addr as i64).wrapping_add(sign_extend(v, 20) << 2) },
            None => other,
        },
        ("lu12i.w", _, _) => match imm(1) {
            Some(v) => Op::Const { dest, value: sign_extend(v << 12, 32) },
            None => other,
        },
        ("move", Some(a), _) => Op::AddImm { dest, a, imm: 0 },
        ("or", Some(a), Some("$zero")) | ("or", Some("$zero"), Some(a)) => Op::AddImm { dest, a, imm: 0 },
        ("addi.d", Some(a), None) => match imm(2) {
            Some(imm) => Op::AddImm { dest, a, imm },
            None => other,
        },
        ("ori", Some(a), None) => match imm(2) {
            Some(imm) => Op::OrImm { dest, a, imm },
            None => other,
        },
        ("add.d", Some(a), Some(b)) => Op::Add { dest, a, b, shift: 0 },
        ("sub.d", Some(a), Some(b)) => Op::Sub { dest, a, b },
        // `alsl.d rd, rj, rk, sa`: (rj << sa) + rk.
        ("alsl.d", Some(a), Some(b)) => match imm(3) {
            Some(sa) => Op::Add { dest, a: b, b: a, shift: sa as u32 },
            None => other,
        },
        ("slli.d", Some(a), None) => match imm(2) {
            Some(v) => Op::Shl { dest, a, shift: v as u32 },
            None => other,
        },
        _ => other,
    }
}
