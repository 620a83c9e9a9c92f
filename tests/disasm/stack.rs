//! Which instructions of a function write to the stack: stores through the stack pointer, and
//! through any register that holds a stack address. Such a register is the frame pointer at
//! entry (the caller's frame) and any register set from one of them by a move, an add, a
//! subtract or a `lea`, until something else overwrites it (`mv t0, sp; sd a0, 0(t0)` is a stack
//! store, `mv t0, sp; li t0, 1; sd a0, 0(t0)` is not). The scan follows the code in address
//! order, which is how the straight-line block functions it checks run.

use std::collections::BTreeSet;

use linux_vdso::Arch;

use super::{decode, syntax, Insn, Op, Reg};

/// What one instruction does with the stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackUse {
    /// It stores to the stack.
    pub store: bool,
    /// It moves the stack pointer down (allocates a frame) or copies a stack address into
    /// another register (sets up a frame pointer).
    pub frame: bool,
}

/// [`StackUse`] of every instruction of `code` (one function, in address order).
pub fn stack_uses(arch: Arch, code: &[Insn]) -> Vec<StackUse> {
    let s = syntax(arch);
    let mut stack: BTreeSet<Reg> = [s.sp, s.fp].into();
    code.iter()
        .map(|i| {
            let op = decode(arch, i);
            let holds = |r: &Reg| stack.contains(r);
            let store = matches!(&op, Op::Store { mem, .. } if holds(&mem.base) || mem.index.as_ref().is_some_and(holds));
            let frame = match &op {
                Op::AddImm { dest, a, imm } if *dest == s.sp => *a == s.sp && *imm < 0,
                Op::AddImm { a, .. } | Op::Add { a, .. } => holds(a),
                _ => false,
            };
            follow(&mut stack, &op);
            StackUse { store, frame }
        })
        .collect()
}

/// Updates the set of registers holding stack addresses after `op`.
fn follow(stack: &mut BTreeSet<Reg>, op: &Op) {
    let derived = match op {
        Op::AddImm { dest, a, .. } | Op::OrImm { dest, a, .. } => vec![(*dest, stack.contains(a))],
        Op::Add { dest, a, b, .. } | Op::Sub { dest, a, b } => {
            vec![(*dest, stack.contains(a) || stack.contains(b))]
        }
        Op::Offset { .. } => vec![],
        Op::Address { dest, .. } | Op::Const { dest, .. } | Op::Shl { dest, .. } => vec![(*dest, false)],
        Op::Load { dests, .. } => dests.iter().map(|d| (*d, false)).collect(),
        Op::Store { writes, .. } | Op::Other { writes } => writes.iter().map(|d| (*d, false)).collect(),
    };
    for (r, holds) in derived {
        if holds {
            stack.insert(r);
        } else {
            stack.remove(r);
        }
    }
}

/// Every stack store of `code`.
pub fn stack_stores(arch: Arch, code: &[Insn]) -> Vec<Insn> {
    code.iter().zip(stack_uses(arch, code)).filter(|(_, u)| u.store).map(|(i, _)| i.clone()).collect()
}

/// The stack stores of `code` that could hold data the function computed or loaded: every one
/// after the prologue (the leading run of frame allocation, frame-pointer setup and stack
/// stores). Prologue stores hold the caller's callee-saved registers, before the function has
/// loaded anything.
pub fn suspicious_stack_stores(arch: Arch, code: &[Insn]) -> Vec<Insn> {
    let uses = stack_uses(arch, code);
    let prologue = uses.iter().take_while(|u| u.store || u.frame).count();
    code.iter().zip(uses).skip(prologue).filter(|(_, u)| u.store).map(|(i, _)| i.clone()).collect()
}
