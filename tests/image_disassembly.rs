//! Checks on the machine code of the images that running them on these strongly ordered hosts
//! (and under qemu, which runs guest code with the host's ordering) cannot make: the riscv64
//! reader's barriers are real `fence r,r` instructions, the aarch64 reader's real `dmb ishld`,
//! the loongarch64 reader's real `dbar 0x15` around each `rdtime.d`,
//! and aarch64's counter read is bracketed as Linux brackets it (`isb` before, a load that
//! depends on the value after).

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

// ---- aarch64 ----

/// `dmb ishld`.
const DMB_ISHLD: u32 = 0xd503_39bf;
/// `isb`.
const ISB: u32 = 0xd503_3fdf;
/// `mrs Xt, cntvct_el0` without its register field.
const MRS_CNTVCT: u32 = 0xd53b_e040;

/// The aligned 4-byte words of `code` (every aarch64 instruction is one).
fn words(code: &[u8]) -> Vec<u32> {
    code.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect()
}

/// Every `dmb ishld` of the aarch64 image: two per seqlock read loop (after its first `seq`
/// load, before its second). The HRES and COARSE loops inlined in `__kernel_clock_gettime` (4),
/// the HRES loop inlined in `__kernel_gettimeofday` (2), and the out-of-line slow paths' wide
/// HRES and COARSE loops (8). A change of this number means a loop was added, removed or lost a
/// barrier: read the disassembly (`aarch64-linux-gnu-objdump -d images/aarch64/linux-vdso.so.1`)
/// before updating it. The modern profile's image has the same loops (its auxiliary clocks share
/// the slow path's wide HRES loop), so the same count.
const AARCH64_DMBS: usize = 14;

/// Every aarch64 image of the variant table (the classic default and the modern row).
fn aarch64_images() -> impl Iterator<Item = &'static Image> {
    Image::all().iter().filter(|i| i.arch() == Arch::Aarch64)
}

fn image_words(image: &Image) -> Vec<u32> {
    words(&image.bytes()[..image.load_size()])
}

fn aarch64_image_words() -> Vec<u32> {
    image_words(&Image::get(Arch::Aarch64))
}

#[test]
fn aarch64_clock_readers_fence_before_and_after_their_loads() {
    assert!(aarch64_images().count() >= 2, "the classic and the modern aarch64 image");
    for image in aarch64_images() {
        let v = image.variant();
        for name in ["__kernel_clock_gettime", "__kernel_gettimeofday"] {
            let sym = image.symbol(name).expect("symbol");
            let w = words(&image.bytes()[sym.offset as usize..(sym.offset + sym.size) as usize]);
            let n = w.iter().filter(|&&i| i == DMB_ISHLD).count();
            assert!(n >= 2, "{v}: {name} has {n} `dmb ishld`");
        }
        let all = image_words(image).iter().filter(|&&i| i == DMB_ISHLD).count();
        assert_eq!(all, AARCH64_DMBS, "{v}: `dmb ishld` in the whole image");
        assert_eq!(all % 2, 0, "barriers come in pairs, one on each side of a read");
    }
}

/// Whether the counter read at `w[i]` is bracketed: `isb` just before, and just after it
/// `eor Xz, Xt, Xt; add Xz, sp, Xz; ldr xzr, [Xz]` (a load whose address depends on the value,
/// which orders the read before the loads that follow the next `dmb ishld`).
fn bracketed(w: &[u32], i: usize) -> bool {
    let t = w[i] & 0x1f;
    let Some(&[before]) = w.get(i.wrapping_sub(1)..i) else { return false };
    let Some(&[eor, add, ldr]) = w.get(i + 1..i + 4) else { return false };
    let z = eor & 0x1f;
    before == ISB
        && eor == 0xca00_0000 | t << 16 | t << 5 | z
        && add == 0x8b20_63e0 | z << 16 | z
        && ldr == 0xf940_001f | z << 5
}

#[test]
fn aarch64_counter_reads_are_ordered_as_linux_orders_them() {
    for image in aarch64_images() {
        let w = image_words(image);
        let reads: Vec<usize> = (0..w.len()).filter(|&i| w[i] & !0x1f == MRS_CNTVCT).collect();
        assert!(
            reads.len() >= 2,
            "{}: counter reads in the fast and the wide paths: {reads:?}",
            image.variant()
        );
        for &i in &reads {
            assert!(
                bracketed(&w, i),
                "{}: the counter read at {:#x} is not bracketed",
                image.variant(),
                4 * i
            );
        }
    }
}

#[test]
fn aarch64_rt_sigreturn_is_exactly_mov_x8_139_svc_0_after_a_nop() {
    for image in aarch64_images() {
        let sym = image.symbol("__kernel_rt_sigreturn").expect("symbol");
        assert_eq!(sym.size, 8);
        let w = words(&image.bytes()[sym.offset as usize - 4..sym.offset as usize + 8]);
        assert_eq!(
            w,
            [0xd503_201f, 0xd280_1168, 0xd400_0001],
            "{}: nop; mov x8, #139; svc #0",
            image.variant()
        );
    }
}

#[test]
fn an_aarch64_barrier_or_bracket_that_is_missing_is_noticed() {
    // Controls: a copy with one `dmb ishld` turned into a `nop` fails the count, and a copy with
    // the `isb` before a counter read (or the dependent load after it) removed is not bracketed.
    let w = aarch64_image_words();
    let mut copy = w.clone();
    let at = copy.iter().rposition(|&i| i == DMB_ISHLD).expect("a barrier to remove");
    copy[at] = 0xd503_201f;
    assert_ne!(copy.iter().filter(|&&i| i == DMB_ISHLD).count(), AARCH64_DMBS);
    let read = w.iter().position(|&i| i & !0x1f == MRS_CNTVCT).expect("a counter read");
    assert!(bracketed(&w, read));
    for remove in [read - 1, read + 3] {
        let mut copy = w.clone();
        copy[remove] = 0xd503_201f;
        assert!(!bracketed(&copy, read), "removing the word at {:#x} goes unnoticed", 4 * remove);
    }
}

/// x86_64 `getcpu` reads its mode byte first, one RIP-relative `movzx` (`0f b6 05 disp32` or
/// another register's ModRM): the byte it loads must be the one the image's variant names
/// (byte 0 of the classic page, byte 2368 of the modern time page), `DATA_PAGES` pages before it.
#[test]
fn x86_64_getcpu_reads_the_mode_byte_where_each_variant_keeps_it() {
    let images: Vec<&Image> = Image::all().iter().filter(|i| i.arch() == Arch::X86_64).collect();
    assert!(images.len() >= 2, "the classic and the modern x86_64 image");
    for image in images {
        let v = image.variant();
        let sym = image.symbol("__vdso_getcpu").expect("getcpu");
        let code = &image.bytes()[sym.offset as usize..];
        // movzx r32, byte [rip + disp32]: 0f b6, ModRM with mod 00 and r/m 101.
        assert_eq!((code[0], code[1], code[2] & 0xc7), (0x0f, 0xb6, 0x05), "{v}: {:02x?}", &code[..7]);
        let disp = i32::from_le_bytes(code[3..7].try_into().unwrap()) as i64;
        let target = sym.offset as i64 + 7 + disp;
        let want = -((v.data_pages() * v.page_size) as i64) + v.getcpu_mode_offset().expect("x86_64") as i64;
        assert_eq!(target, want, "{v}: the mode byte is read at {target:#x} from the image start");
    }
}

// ---- loongarch64 ----

/// `dbar 0x15` (Linux's `smp_rmb` on loongarch: "load before load").
const DBAR_LD_LD: u32 = 0x3872_0015;
/// `rdtime.d rd, rj` without its register fields.
const RDTIME_D: u32 = 0x0000_6800;
/// `nop` (`andi $zero, $zero, 0`).
const LA_NOP: u32 = 0x0340_0000;

/// Every `dbar 0x15` of the loongarch64 image: two per seqlock read loop, as on aarch64 (the HRES
/// and COARSE loops inlined in `__vdso_clock_gettime` (4), the HRES loop inlined in
/// `__vdso_gettimeofday` (2), the out-of-line slow path's wide HRES and COARSE loops (4)). A change
/// of this number means a loop was added, removed or lost a barrier: read the disassembly
/// (`llvm-objdump -d images/loongarch64/linux-vdso.so.1`) before updating it.
const LOONGARCH64_DBARS: usize = 10;

fn loongarch64_image_words() -> Vec<u32> {
    let image = Image::get(Arch::Loongarch64);
    words(&image.bytes()[..image.load_size()])
}

/// Index of every counter read (`rdtime.d rd, $zero`, rd not zero) among `w`.
fn loongarch64_counter_reads(w: &[u32]) -> Vec<usize> {
    (0..w.len())
        .filter(|&i| w[i] & !0x3ff == RDTIME_D && (w[i] >> 5) & 0x1f == 0 && w[i] & 0x1f != 0)
        .collect()
}

#[test]
fn loongarch64_clock_readers_fence_before_and_after_their_loads() {
    let image = Image::get(Arch::Loongarch64);
    for name in ["__vdso_clock_gettime", "__vdso_gettimeofday"] {
        let sym = image.symbol(name).expect("symbol");
        let w = words(&image.bytes()[sym.offset as usize..(sym.offset + sym.size) as usize]);
        let n = w.iter().filter(|&&i| i == DBAR_LD_LD).count();
        assert!(n >= 2, "{name} has {n} `dbar 0x15`");
    }
    let w = loongarch64_image_words();
    let all = w.iter().filter(|&&i| i == DBAR_LD_LD).count();
    assert_eq!(all, LOONGARCH64_DBARS, "`dbar 0x15` in the whole image");
    // Every counter read sits between the barrier after the first `seq` load and the one before
    // the second.
    let reads = loongarch64_counter_reads(&w);
    assert!(reads.len() >= 3, "counter reads in clock_gettime, gettimeofday and the wide path: {reads:?}");
    for &i in &reads {
        let before = w[..i].iter().rposition(|&x| x == DBAR_LD_LD).expect("a barrier before");
        let after = i + w[i..].iter().position(|&x| x == DBAR_LD_LD).expect("a barrier after");
        assert!(i - before < 32 && after - i < 32, "counter read at {:#x} is not inside a loop", 4 * i);
    }
}

#[test]
fn loongarch64_getcpu_reads_the_counter_id_and_no_counter() {
    let image = Image::get(Arch::Loongarch64);
    let sym = image.symbol("__vdso_getcpu").expect("symbol");
    let w = words(&image.bytes()[sym.offset as usize..(sym.offset + sym.size) as usize]);
    // `rdtime.d $zero, rj`: the counter discarded, its ID (CSR.TID) in rj.
    let ids = w.iter().filter(|&&i| i & !0x3ff == RDTIME_D && i & 0x1f == 0 && (i >> 5) & 0x1f != 0).count();
    assert_eq!(ids, 1, "one counter-ID read");
    assert!(loongarch64_counter_reads(&w).is_empty());
    // The fast path makes no syscall (the fallback for a CPU past the page's slots is out of line).
    assert!(!w.contains(&0x002b_0000), "`syscall 0` inside __vdso_getcpu");
}

#[test]
fn loongarch64_rt_sigreturn_is_exactly_li_w_a7_139_syscall_0_after_a_nop() {
    let image = Image::get(Arch::Loongarch64);
    let sym = image.symbol("__vdso_rt_sigreturn").expect("symbol");
    assert_eq!(sym.size, 8);
    let w = words(&image.bytes()[sym.offset as usize - 4..sym.offset as usize + 8]);
    assert_eq!(w, [LA_NOP, 0x0382_2c0b, 0x002b_0000], "nop; li.w a7, 139; syscall 0");
}

#[test]
fn a_loongarch64_barrier_that_is_missing_is_noticed() {
    // Control: a copy with one `dbar 0x15` turned into a `nop` fails the count.
    let mut w = loongarch64_image_words();
    let at = w.iter().rposition(|&i| i == DBAR_LD_LD).expect("a barrier to remove");
    w[at] = LA_NOP;
    assert_ne!(w.iter().filter(|&&i| i == DBAR_LD_LD).count(), LOONGARCH64_DBARS);
}
