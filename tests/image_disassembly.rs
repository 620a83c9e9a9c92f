//! Checks on the machine code of the images that running them on these strongly ordered hosts
//! cannot make: the riscv64 reader's barriers are real `fence r,r` instructions.

use linux_vdso::{Arch, Image};

/// `fence r,r`: MISC-MEM opcode, pred = succ = R.
const FENCE_R_R: u32 = 0x0220_000f;

fn count_in_symbol(image: &Image, name: &str, insn: u32) -> usize {
    let sym = image.symbol(name).expect("symbol");
    let code = &image.bytes()[sym.offset as usize..(sym.offset + sym.size) as usize];
    // riscv64gc mixes 2- and 4-byte instructions: look at every 2-byte boundary.
    (0..code.len().saturating_sub(3))
        .step_by(2)
        .filter(|&i| u32::from_le_bytes([code[i], code[i + 1], code[i + 2], code[i + 3]]) == insn)
        .count()
}

#[test]
fn riscv64_clock_readers_fence_before_and_after_their_loads() {
    let image = Image::get(Arch::Riscv64);
    // HRES and COARSE loops each need a fence after the first `seq` load and one before the
    // second (the RAW and namespace paths are out of line).
    for name in ["__vdso_clock_gettime", "__vdso_gettimeofday"] {
        let n = count_in_symbol(&image, name, FENCE_R_R);
        assert!(n >= 2, "{name} has {n} `fence r,r`");
    }
    assert!(count_in_symbol(&image, "__vdso_clock_gettime", FENCE_R_R) >= 4, "HRES and COARSE loops");
}

#[test]
fn riscv64_rt_sigreturn_is_exactly_li_a7_139_ecall() {
    let image = Image::get(Arch::Riscv64);
    let sym = image.symbol("__vdso_rt_sigreturn").expect("symbol");
    assert_eq!(sym.size, 8);
    let code = &image.bytes()[sym.offset as usize..sym.offset as usize + 8];
    // addi a7, zero, 139 ; ecall — both uncompressed.
    assert_eq!(code, [0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00]);
    // One instruction (a 4-byte nop) before the label, inside the same FDE.
    let before = &image.bytes()[sym.offset as usize - 4..sym.offset as usize];
    assert_eq!(before, [0x13, 0x00, 0x00, 0x00]);
}

#[test]
fn a_fence_that_is_missing_is_noticed() {
    // Control: the same search finds no `fence r,r` where there is none.
    let image = Image::get(Arch::Riscv64);
    assert_eq!(count_in_symbol(&image, "__vdso_getcpu", FENCE_R_R), 0);
}
