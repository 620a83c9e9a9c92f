//! Checks on the machine code of the images that running them on these strongly ordered hosts
//! cannot make: the riscv64 reader's barriers are real `fence r,r` instructions.

use linux_vdso::{Arch, Image};

/// `fence r,r`: MISC-MEM opcode, pred = succ = R.
const FENCE_R_R: u32 = 0x0220_000f;

/// How often `insn` occurs in `code`. riscv64gc mixes 2- and 4-byte instructions: look at every
/// 2-byte boundary.
fn count(code: &[u8], insn: u32) -> usize {
    (0..code.len().saturating_sub(3))
        .step_by(2)
        .filter(|&i| u32::from_le_bytes([code[i], code[i + 1], code[i + 2], code[i + 3]]) == insn)
        .count()
}

fn count_in_symbol(image: &Image, name: &str, insn: u32) -> usize {
    let sym = image.symbol(name).expect("symbol");
    count(&image.bytes()[sym.offset as usize..(sym.offset + sym.size) as usize], insn)
}

/// Every `fence r,r` of the riscv64 image. Each seqlock read loop has two (after its first `seq`
/// load, before its second): the HRES and COARSE loops inlined in `__vdso_clock_gettime` (4),
/// the HRES loop inlined in `__vdso_gettimeofday` (2), and the wide HRES and the COARSE loop of
/// the out-of-line `clock_gettime_slow`, which serves RAW's wide path and time namespaces (4).
/// A change of this number means a loop was added, removed or lost a barrier: read the
/// disassembly (`rust-objdump -d images/riscv64/linux-vdso.so.1`) before updating it.
const RISCV64_FENCES: usize = 10;

#[test]
fn riscv64_clock_readers_fence_before_and_after_their_loads() {
    let image = Image::get(Arch::Riscv64);
    for name in ["__vdso_clock_gettime", "__vdso_gettimeofday"] {
        let n = count_in_symbol(&image, name, FENCE_R_R);
        assert!(n >= 2, "{name} has {n} `fence r,r`");
    }
    assert!(count_in_symbol(&image, "__vdso_clock_gettime", FENCE_R_R) >= 4, "HRES and COARSE loops");
    // The out-of-line readers (RAW and namespace paths) have no symbol: count over the image.
    let all = count(&image.bytes()[..image.load_size()], FENCE_R_R);
    assert_eq!(all, RISCV64_FENCES, "`fence r,r` in the whole image");
    assert_eq!(all % 2, 0, "fences come in pairs, one on each side of a read");
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
    // Controls: no `fence r,r` where there is none, and a copy of the image with one of its
    // fences turned into a `nop` fails the whole-image count.
    let image = Image::get(Arch::Riscv64);
    assert_eq!(count_in_symbol(&image, "__vdso_getcpu", FENCE_R_R), 0);
    let mut copy = image.bytes()[..image.load_size()].to_vec();
    let at = (0..copy.len() - 3)
        .step_by(2)
        .rfind(|&i| u32::from_le_bytes([copy[i], copy[i + 1], copy[i + 2], copy[i + 3]]) == FENCE_R_R)
        .expect("a fence to remove");
    copy[at..at + 4].copy_from_slice(&0x0000_0013u32.to_le_bytes()); // addi x0, x0, 0
    assert_ne!(count(&copy, FENCE_R_R), RISCV64_FENCES);
}
