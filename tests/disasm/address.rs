//! Which loads of a function read at link-time addresses (the data pages before the image):
//! registers are followed from `auipc`/`pcalau12i` (an address relative to the image's start)
//! and constants (`lui`, `lu12i.w`, `li`) through moves, adds and shifts (an address plus an
//! unknown index stays an address, with the index's scale as a stride), so that
//! `auipc t2, ..; lui a5, 0x3; add t2, t2, a5; lb a7, 120(t2)` is a byte load at a known offset
//! from the image, and `sll a5, a1, 3; add a5, a5, t2; ld a5, 0(a5)` one of an array of 8-byte
//! elements there. The scan follows the code in address order: a register a loop sets further
//! on is seen with the value it had before the loop, which at worst takes an index for a
//! constant (the checks ask that every such load stays on its page and that the expected loads
//! are among them).

use std::collections::BTreeMap;

use linux_vdso::Arch;

use super::{decode, Insn, Op, Reg};

/// What a register holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    /// `base` (relative to the image's start) plus unknown multiples of each of `strides` (an
    /// index scaled by an element size).
    Addr { base: i64, strides: Vec<u64> },
    /// A constant.
    Num(i64),
    /// An unknown multiple of `scale`.
    Unknown { scale: u64 },
}

const UNKNOWN: Value = Value::Unknown { scale: 1 };

/// A load from a link-time address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedLoad {
    /// Where the instruction is.
    pub at: u64,
    /// The address of its first element, relative to the image's start (negative: a data page).
    pub base: i64,
    /// The element sizes of the indexes added to it, in the order they were added.
    pub strides: Vec<u64>,
    /// Bytes loaded.
    pub width: u32,
}

fn add(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => Value::Num(x.wrapping_add(y)),
        (Value::Addr { base, strides }, Value::Num(n)) | (Value::Num(n), Value::Addr { base, strides }) => {
            Value::Addr { base: base.wrapping_add(n), strides }
        }
        (Value::Addr { base, mut strides }, Value::Unknown { scale })
        | (Value::Unknown { scale }, Value::Addr { base, mut strides }) => {
            strides.push(scale);
            Value::Addr { base, strides }
        }
        _ => UNKNOWN,
    }
}

fn shl(v: Value, shift: u32) -> Value {
    match v {
        Value::Num(n) => Value::Num(n << shift),
        Value::Unknown { scale } => Value::Unknown { scale: scale << shift },
        Value::Addr { .. } if shift == 0 => v,
        Value::Addr { .. } => UNKNOWN,
    }
}

fn sub(a: Value, b: Value) -> Value {
    match (a, b) {
        (a, Value::Num(n)) => add(a, Value::Num(n.wrapping_neg())),
        _ => UNKNOWN,
    }
}

/// Every load of `code` (one function) whose address is known at link time up to scaled
/// indexes.
pub fn linked_loads(arch: Arch, code: &[Insn]) -> Vec<LinkedLoad> {
    let mut regs: BTreeMap<Reg, Value> = BTreeMap::new();
    let get = |regs: &BTreeMap<Reg, Value>, r: Reg| match r {
        "zero" | "xzr" | "$zero" => Value::Num(0),
        _ => regs.get(r).cloned().unwrap_or(UNKNOWN),
    };
    let mut loads = vec![];
    for i in code {
        let set: Vec<(Reg, Value)> = match decode(arch, i) {
            Op::Address { dest, value } => vec![(dest, Value::Addr { base: value, strides: vec![] })],
            Op::Const { dest, value } => vec![(dest, Value::Num(value))],
            Op::AddImm { dest, a, imm } => vec![(dest, add(get(&regs, a), Value::Num(imm)))],
            Op::Add { dest, a, b, shift } => vec![(dest, add(get(&regs, a), shl(get(&regs, b), shift)))],
            Op::Offset { dest } => vec![(dest, add(get(&regs, dest), UNKNOWN))],
            Op::Sub { dest, a, b } => vec![(dest, sub(get(&regs, a), get(&regs, b)))],
            Op::OrImm { dest, a, imm } => match get(&regs, a) {
                Value::Num(n) => vec![(dest, Value::Num(n | imm))],
                _ => vec![(dest, UNKNOWN)],
            },
            Op::Shl { dest, a, shift } => vec![(dest, shl(get(&regs, a), shift))],
            Op::Load { dests, mem, writeback } => {
                let mut addr = add(get(&regs, mem.base), Value::Num(mem.offset));
                if let Some(index) = mem.index {
                    addr = add(addr, get(&regs, index));
                }
                if let Value::Addr { base, strides } = addr {
                    loads.push(LinkedLoad { at: i.addr, base, strides, width: mem.width });
                }
                let base = writeback.then_some(mem.base);
                dests.into_iter().chain(base).map(|d| (d, UNKNOWN)).collect()
            }
            Op::Store { writes, .. } | Op::Other { writes } => {
                writes.into_iter().map(|d| (d, UNKNOWN)).collect()
            }
        };
        regs.extend(set);
    }
    loads
}
