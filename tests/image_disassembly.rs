//! Checks on the machine code of the images that running them on these strongly ordered hosts
//! (and under qemu, which runs guest code with the host's ordering) cannot make: the riscv64
//! reader's barriers are real `fence r,r` instructions, the aarch64 reader's real `dmb ishld`,
//! the loongarch64 reader's real `dbar 0x15` around each `rdtime.d`,
//! and aarch64's counter read is bracketed as Linux brackets it (`isb` before, a load that
//! depends on the value after); getrandom's ChaCha20 block function stores nothing to the stack
//! after its prologue, through the stack pointer or any register holding a stack address
//! (`disasm/stack.rs`); and the data-page reads that only a kernel of the right layout would
//! catch land on the page each row keeps their data on: x86_64's `getcpu` mode byte, riscv64's
//! hwprobe answers (the arch page in the modern layout), loongarch64's per-CPU node (its
//! per-CPU page: the arch page in the modern layout), followed through link-time addresses
//! (`disasm/address.rs`).

mod disasm;

use disasm::address::{linked_loads, LinkedLoad};
use disasm::stack::{stack_stores, suspicious_stack_stores};
use disasm::Insn;
use linux_vdso::{Arch, Image, Profile, Variant};

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

/// The loaded bytes with `getrandom`'s code blanked: what the seqlock readers' counts are over
/// (`getrandom` has barriers of its own, checked separately).
fn without_getrandom(image: &Image) -> Vec<u8> {
    let mut code = image.bytes()[..image.load_size()].to_vec();
    let name = format!("{}getrandom", image.arch().info().symbol_prefix);
    let sym = image.symbol(&name).expect("getrandom");
    code[sym.offset as usize..(sym.offset + sym.size) as usize].fill(0);
    code
}

/// Every `fence r,r` of the riscv64 image. Each seqlock read loop has two (after its first `seq`
/// load, before its second): the HRES and COARSE loops inlined in `__vdso_clock_gettime` (4),
/// the HRES loop inlined in `__vdso_gettimeofday` (2), and the wide HRES and the COARSE loop of
/// the out-of-line `clock_gettime_slow`, which serves RAW's wide path and time namespaces (4).
/// A change of this number means a loop was added, removed or lost a barrier: read the
/// disassembly (`rust-objdump -d images/riscv64/linux-vdso.so.1`) before updating it. The modern
/// profile's image has the same loops (its auxiliary clocks share the slow path's wide HRES
/// loop), so the same count.
/// `__vdso_getrandom`'s own barrier (between storing the state's generation and the key
/// refresh, Linux's `smp_rmb`) is not counted here.
const RISCV64_FENCES: usize = 10;

/// Every riscv64 image of the variant table (the classic default and the modern row).
fn riscv64_images() -> impl Iterator<Item = &'static Image> {
    Image::all().iter().filter(|i| i.arch() == Arch::Riscv64)
}

#[test]
fn riscv64_clock_readers_fence_before_and_after_their_loads() {
    assert!(riscv64_images().count() >= 2, "the classic and the modern riscv64 image");
    for image in riscv64_images() {
        let v = image.variant();
        for name in ["__vdso_clock_gettime", "__vdso_gettimeofday"] {
            let n = count_in_symbol(image, name, FENCE_R_R);
            assert!(n >= 2, "{v}: {name} has {n} `fence r,r`");
        }
        assert!(count_in_symbol(image, "__vdso_clock_gettime", FENCE_R_R) >= 4, "{v}: HRES and COARSE loops");
        // The out-of-line readers (RAW and namespace paths) have no symbol: count over the image.
        let all = count(&without_getrandom(image), FENCE_R_R);
        assert_eq!(all, RISCV64_FENCES, "{v}: `fence r,r` in the whole image but getrandom");
        assert_eq!(all % 2, 0, "{v}: fences come in pairs, one on each side of a read");
    }
}

#[test]
fn riscv64_rt_sigreturn_is_exactly_li_a7_139_ecall() {
    for image in riscv64_images() {
        let sym = image.symbol("__vdso_rt_sigreturn").expect("symbol");
        assert_eq!(sym.size, 8);
        let code = &image.bytes()[sym.offset as usize..sym.offset as usize + 8];
        // addi a7, zero, 139 ; ecall — both uncompressed.
        assert_eq!(code, [0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00], "{}", image.variant());
        // One instruction (a 4-byte nop) before the label, inside the same FDE.
        let before = &image.bytes()[sym.offset as usize - 4..sym.offset as usize];
        assert_eq!(before, [0x13, 0x00, 0x00, 0x00], "{}", image.variant());
    }
}

#[test]
fn a_fence_that_is_missing_is_noticed() {
    // Controls: no `fence r,r` where there is none, and a copy of the image with one of its
    // fences turned into a `nop` fails the whole-image count.
    let image = Image::get(Arch::Riscv64);
    assert_eq!(count_in_symbol(&image, "__vdso_getcpu", FENCE_R_R), 0);
    let mut copy = without_getrandom(&image);
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
/// the slow path's wide HRES loop), so the same count. `__kernel_getrandom`'s own barriers are not counted here.
const AARCH64_DMBS: usize = 14;

/// Every aarch64 image of the variant table (the classic default and the modern row).
fn aarch64_images() -> impl Iterator<Item = &'static Image> {
    Image::all().iter().filter(|i| i.arch() == Arch::Aarch64)
}

/// An image's loaded words with its `getrandom` blanked (its own barriers are not the
/// seqlock readers').
fn image_words(image: &Image) -> Vec<u32> {
    words(&without_getrandom(image))
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

// ---- getrandom's ChaCha20 block function keeps key material off the stack ----

/// The architectures whose images export `getrandom` (their rows say where its data is).
fn getrandom_arches() -> Vec<Arch> {
    Arch::ALL.into_iter().filter(|a| a.rng_data_offset().is_some()).collect()
}

/// The architecture's objdump: Debian's cross binutils, named like the row's cross compiler;
/// loongarch64 has none on Debian 12 (its row's compiler is a Zig wrapper), so the LLVM
/// objdump of the Rust toolchain (its `llvm-tools` component, rust-toolchain.toml) reads it.
fn objdump(arch: Arch) -> String {
    if arch == Arch::Loongarch64 {
        return toolchain_llvm_objdump();
    }
    arch.info().emulation.cross_gcc.replace("gcc", "objdump")
}

/// `<sysroot>/lib/rustlib/<host>/bin/llvm-objdump` of the toolchain that builds the tests.
fn toolchain_llvm_objdump() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&rustc).args(args).output().expect("run rustc");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let sysroot = run(&["--print", "sysroot"]);
    let host =
        run(&["-vV"]).lines().find_map(|l| l.strip_prefix("host: ").map(str::to_string)).expect("host");
    format!("{}/lib/rustlib/{host}/bin/llvm-objdump", sysroot.trim())
}

/// Disassembles `[start, stop)` of `arch`'s default image (Intel syntax on x86_64).
fn disassemble(arch: Arch, start: u64, stop: u64) -> Vec<Insn> {
    disassemble_image(&Image::get(arch), start, stop)
}

/// Disassembles `[start, stop)` of `image`.
fn disassemble_image(image: &Image, start: u64, stop: u64) -> Vec<Insn> {
    let arch = image.arch();
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "disasm-{}-{}-{n}.so",
        image.variant().name(),
        std::process::id()
    ));
    std::fs::write(&path, image.bytes()).expect("write the image");
    let mut cmd = std::process::Command::new(objdump(arch));
    cmd.arg("-d").arg(format!("--start-address={start:#x}")).arg(format!("--stop-address={stop:#x}"));
    if arch == Arch::X86_64 {
        cmd.arg("-M").arg("intel");
    }
    let out = cmd.arg(&path).output().unwrap_or_else(|e| panic!("{}: {e}", objdump(arch)));
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // "     8c0:\t48 b8 ...\tmovabs rax,0x...": address, bytes, then the instruction
            // (aarch64 and riscv64 put a tab between mnemonic and operands); LLVM's objdump
            // puts the bytes in the address's column: "     5c0: 06 30 80 03 \tori\t$a2, ...".
            let mut cols = l.split('\t');
            let (addr, bytes) = cols.next()?.split_once(':')?;
            let addr = u64::from_str_radix(addr.trim(), 16).ok()?;
            let insn = cols.skip(usize::from(bytes.trim().is_empty())).collect::<Vec<_>>().join(" ");
            let insn = insn.trim();
            let (mnemonic, operands) = insn.split_once(char::is_whitespace).unwrap_or((insn, ""));
            Some(Insn { addr, mnemonic: mnemonic.to_string(), operands: operands.trim().to_string() })
        })
        .collect()
}

/// The ChaCha20 block function of `arch`'s image: linker/vdso.lds puts it first in `.text`, on
/// a 64-byte boundary; it ends at its first return.
fn chacha_function(arch: Arch) -> Vec<Insn> {
    let image = Image::get(arch);
    let elf = goblin::elf::Elf::parse(image.bytes()).expect("parse");
    let text = elf
        .section_headers
        .iter()
        .find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".text"))
        .expect(".text");
    let start = text.sh_addr.next_multiple_of(64);
    let code = disassemble(arch, start, text.sh_addr + text.sh_size);
    let end = code.iter().position(|i| i.mnemonic == "ret").expect("a return");
    code[..=end].to_vec()
}

/// Where a loongarch64 call goes: `bl off`, or the medium code model's `pcaddu18i $ra, hi;
/// jirl $ra, $ra, off` pair (target: the `pcaddu18i`'s address + `hi << 18` + `off`; LLVM's
/// objdump prints the offsets in decimal, in bytes). `None` elsewhere.
fn la_call_target(arch: Arch, first: &Insn, second: &Insn) -> Option<u64> {
    let imm = |i: &Insn, k: usize| -> Option<i64> {
        i.operands.split(", ").nth(k)?.split_whitespace().next()?.parse().ok()
    };
    if arch != Arch::Loongarch64 {
        return None;
    }
    if first.mnemonic == "bl" {
        return Some(first.addr.wrapping_add_signed(imm(first, 0)?));
    }
    let pair = first.mnemonic == "pcaddu18i"
        && first.operands.starts_with("$ra,")
        && second.mnemonic == "jirl"
        && second.operands.starts_with("$ra, $ra,");
    pair.then(|| Some(first.addr.wrapping_add_signed((imm(first, 1)? << 18) + imm(second, 2)?)))?
}

/// The disassembly of the exported `getrandom`.
fn getrandom_function(arch: Arch) -> Vec<Insn> {
    let image = Image::get(arch);
    let sym = image.symbol(&format!("{}getrandom", arch.info().symbol_prefix)).expect("getrandom");
    disassemble(arch, sym.offset, sym.offset + sym.size)
}

#[test]
fn the_chacha_block_function_never_stores_to_the_stack_but_to_save_callee_saved_registers() {
    for arch in getrandom_arches() {
        let code = chacha_function(arch);
        let start = code[0].addr;
        // It is the function getrandom calls (`call`, `bl`, `jal`, or `auipc` plus `jalr`, which
        // objdump annotates with the target).
        let g = getrandom_function(arch);
        let called = g.iter().any(|i| {
            matches!(i.mnemonic.as_str(), "call" | "bl" | "jal" | "jalr")
                && i.operands.contains(&format!("{start:x}"))
        }) || g.windows(2).any(|w| la_call_target(arch, &w[0], &w[1]) == Some(start));
        assert!(called, "{arch:?}: getrandom does not call the function at {start:#x}");
        // It is ChaCha20: its constant "expa" (0x61707865, in part on aarch64) is in it;
        let text: String = code.iter().map(|i| format!("{} {}\n", i.mnemonic, i.operands)).collect();
        // loongarch64 builds it with `lu12i.w rd, 0x61707` (LLVM prints it in decimal).
        let expa = if arch == Arch::Loongarch64 {
            format!(", {}", 0x6170_7865u32 >> 12)
        } else {
            "7865".to_string()
        };
        assert!(text.contains(&expa), "{arch:?}: no ChaCha constant at {start:#x}:\n{text}");
        let bad = suspicious_stack_stores(arch, &code);
        assert!(bad.is_empty(), "{arch:?}: stack stores after the prologue: {bad:?}");
        let all = stack_stores(arch, &code);
        match arch {
            // Enough caller-saved vector registers: no stack store at all.
            Arch::X86_64 | Arch::Aarch64 => assert!(all.is_empty(), "{arch:?}: {all:?}"),
            // Sixteen caller-saved registers cannot hold the state: s0..s11 are saved, each
            // exactly once, before the first load, and nothing else is (Linux's riscv64 code
            // does the same).
            Arch::Riscv64 => {
                let saved: Vec<&str> = all.iter().map(|i| i.operands.split(',').next().unwrap()).collect();
                let want: Vec<String> = (0..12).map(|k| format!("s{k}")).collect();
                assert_eq!(saved, want, "riscv64: only s0..s11, once each");
            }
            // Seventeen caller-saved registers cannot hold the state and four arguments:
            // s0..s5 are saved, each exactly once, before the first load, and nothing else is.
            Arch::Loongarch64 => {
                let saved: Vec<&str> = all.iter().map(|i| i.operands.split(',').next().unwrap()).collect();
                let want: Vec<String> = (0..6).map(|k| format!("$s{k}")).collect();
                assert_eq!(saved, want, "loongarch64: only s0..s5, once each");
            }
        }
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
    let all = words(&without_getrandom(&image)).iter().filter(|&&i| i == DBAR_LD_LD).count();
    assert_eq!(all, LOONGARCH64_DBARS, "`dbar 0x15` in the whole image but getrandom");
    let w = loongarch64_image_words();
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
fn a_stack_store_after_the_prologue_is_noticed() {
    // Controls: the check flags the Rust-compiled getrandom, which keeps values on its stack
    // frame, and the block function with one spill of a state register added after its
    // prologue.
    for arch in getrandom_arches() {
        assert!(!suspicious_stack_stores(arch, &getrandom_function(arch)).is_empty(), "{arch:?}");
        let mut code = chacha_function(arch);
        let spill = match arch {
            Arch::X86_64 => ("movdqa", "XMMWORD PTR [rsp-0x18],xmm9"),
            Arch::Aarch64 => ("str", "q17, [sp, #16]"),
            Arch::Riscv64 => ("sd", "a4,8(sp)"),
            Arch::Loongarch64 => ("st.d", "$a4, $sp, 8"),
        };
        let at = code.len() / 2;
        code.insert(at, Insn { addr: 0, mnemonic: spill.0.into(), operands: spill.1.into() });
        assert_eq!(suspicious_stack_stores(arch, &code).len(), 1, "{arch:?}");
    }
}

/// A synthetic instruction sequence: (mnemonic, operands) pairs.
type Sequence = &'static [(&'static str, &'static str)];

/// Stores through a copy of the stack pointer, as each architecture's objdump spells them (moved,
/// added to, `lea`'d, copied again, a frame pointer set from it; on x86_64 also an unknown amount
/// added and a byte written, which leave an address in it), each the whole of a sequence
/// the check must flag once; and the same copies overwritten before the store, which it must not.
fn stores_through_copies_of_sp(arch: Arch) -> (Vec<Vec<Insn>>, Vec<Vec<Insn>>) {
    let seq = |s: &[(&str, &str)]| s.iter().map(|(m, o)| Insn::new(m, o)).collect::<Vec<_>>();
    let (flagged, not): (Vec<Sequence>, Vec<Sequence>) = match arch {
        Arch::X86_64 => (
            vec![
                &[("mov", "r9,rsp"), ("mov", "QWORD PTR [r9],rdi")],
                &[("lea", "r9,[rsp-0x8]"), ("mov", "QWORD PTR [r9],rdi")],
                &[
                    ("lea", "r10,[rsp+0x10]"),
                    ("add", "r10,0x8"),
                    ("mov", "r11,r10"),
                    ("mov", "DWORD PTR [rsi+r11*1],eax"),
                ],
                &[("mov", "rbp,rax"), ("mov", "rbp,rsp"), ("movdqa", "XMMWORD PTR [rbp-0x20],xmm9")],
                &[
                    ("mov", "r9,rsp"),
                    ("add", "r9,QWORD PTR [rsi]"),
                    ("mov", "r9b,0x1"),
                    ("mov", "QWORD PTR [r9],rdi"),
                ],
            ],
            vec![
                &[("mov", "r9,rsp"), ("mov", "r9,QWORD PTR [rsi]"), ("mov", "QWORD PTR [r9],rdi")],
                &[
                    ("lea", "r9,[rsp-0x8]"),
                    ("movabs", "r9,0x3320646e61707865"),
                    ("mov", "QWORD PTR [r9],rdi"),
                ],
                &[("mov", "rbp,rsp"), ("mov", "rbp,rax"), ("movdqa", "XMMWORD PTR [rbp-0x20],xmm9")],
                &[("mov", "r9,rsp"), ("mov", "r9d,0x1"), ("mov", "QWORD PTR [r9],rdi")],
            ],
        ),
        Arch::Aarch64 => (
            vec![
                &[("mov", "x9, sp"), ("str", "x0, [x9]")],
                &[("add", "x9, sp, #0x10"), ("stp", "x0, x1, [x9, #16]")],
                &[("sub", "x10, sp, #0x20"), ("mov", "x11, x10"), ("str", "q17, [x2, x11]")],
                &[("mov", "x29, x3"), ("mov", "x29, sp"), ("str", "w4, [x29, #8]")],
            ],
            vec![
                &[("mov", "x9, sp"), ("ldr", "x9, [x1]"), ("str", "x0, [x9]")],
                &[("add", "x9, sp, #0x10"), ("mov", "x9, #0x1"), ("str", "x0, [x9]")],
                &[("mov", "x29, sp"), ("mov", "x29, x3"), ("str", "w4, [x29, #8]")],
            ],
        ),
        Arch::Riscv64 => (
            vec![
                &[("mv", "t0,sp"), ("sd", "a0,0(t0)")],
                &[("add", "t1,sp,16"), ("sw", "a4,8(t1)")],
                &[("add", "t1,sp,16"), ("add", "t2,t1,a1"), ("sd", "a4,0(t2)")],
                &[("mv", "s0,t3"), ("add", "s0,sp,96"), ("sd", "a4,-8(s0)")],
            ],
            vec![
                &[("mv", "t0,sp"), ("ld", "t0,0(a1)"), ("sd", "a0,0(t0)")],
                &[("add", "t1,sp,16"), ("li", "t1,1"), ("sw", "a4,8(t1)")],
                &[("add", "s0,sp,96"), ("mv", "s0,t3"), ("sd", "a4,-8(s0)")],
            ],
        ),
        Arch::Loongarch64 => (
            vec![
                &[("move", "$t0, $sp"), ("st.d", "$a0, $t0, 0")],
                &[("addi.d", "$t1, $sp, 16"), ("stx.d", "$a4, $a1, $t1")],
                &[("or", "$t2, $sp, $zero"), ("sub.d", "$t3, $t2, $a2"), ("st.w", "$a4, $t3, 0")],
                &[("move", "$fp, $a0"), ("addi.d", "$fp, $sp, 48"), ("st.w", "$a2, $fp, -4")],
            ],
            vec![
                &[("move", "$t0, $sp"), ("ld.d", "$t0, $a1, 0"), ("st.d", "$a0, $t0, 0")],
                &[("addi.d", "$t1, $sp, 16"), ("lu12i.w", "$t1, 12"), ("stx.d", "$a4, $a1, $t1")],
                &[("move", "$fp, $sp"), ("move", "$fp, $a0"), ("st.w", "$a2, $fp, -4")],
            ],
        ),
    };
    (flagged.into_iter().map(seq).collect(), not.into_iter().map(seq).collect())
}

#[test]
fn a_stack_store_through_a_copy_of_sp_is_noticed_and_one_through_an_overwritten_copy_is_not() {
    // Controls: each sequence spliced into the middle of the block function (after its
    // prologue), which has no suspicious store of its own.
    for arch in getrandom_arches() {
        let chacha = chacha_function(arch);
        assert!(suspicious_stack_stores(arch, &chacha).is_empty(), "{arch:?}");
        let splice = |s: &[Insn]| {
            let mut code = chacha.clone();
            let at = code.len() / 2;
            code.splice(at..at, s.iter().cloned());
            suspicious_stack_stores(arch, &code)
        };
        let (flagged, not) = stores_through_copies_of_sp(arch);
        for s in &flagged {
            let found = splice(s);
            assert_eq!(found.len(), 1, "{arch:?}: {s:?} gives {found:?}");
            assert_eq!(found[0].operands, s.last().unwrap().operands, "{arch:?}");
        }
        for s in &not {
            assert_eq!(splice(s), vec![], "{arch:?}: the copy is overwritten in {s:?}");
        }
    }
}

/// The disassembly of `image`'s exported function `name`.
fn function(image: &Image, name: &str) -> Vec<Insn> {
    let sym = image.symbol(name).unwrap_or_else(|| panic!("{}: no {name}", image.variant()));
    disassemble_image(image, sym.offset, sym.offset + sym.size)
}

/// The data pages' start, from the image's start (they are mapped just before it).
fn data_start(v: &Variant) -> i64 {
    -((v.data_pages() * v.page_size) as i64)
}

/// Where riscv64's hwprobe answers (`all_cpu_hwprobe_values[0]`, `homogeneous_cpus` just after
/// the array) are, from the data pages' start, on the real page: at the end of the vvar page's
/// first `vdso_data` in the classic profile (Linux 6.8), at the start of the arch page in the
/// modern one (6.18's `struct vdso_arch_data`). As `vdso/src/data/{classic,modern}.rs` say.
fn hwprobe_answers(v: &Variant) -> usize {
    match v.profile {
        Profile::Classic => {
            v.vvar_page() * v.page_size
                + v.vdso_data_offset()
                + std::mem::offset_of!(linux_vdso::abi::riscv64::VdsoData, arch_data)
        }
        Profile::Modern => linux_vdso::abi::modern::riscv64::ARCH_PAGE * v.page_size,
    }
}

/// A check of one function's link-time loads against a row's layout.
type LoadCheck = fn(&Variant, &[LinkedLoad]) -> Result<(), String>;

/// Whether the link-time loads of `v`'s `__vdso_riscv_hwprobe` read its answers where `v`
/// keeps them: every one on that page, `homogeneous_cpus` as a byte, the values as an array of
/// 8-byte elements (the classic image may add the namespace page's distance: `timens_page`).
fn hwprobe_reads_where_kept(v: &Variant, loads: &[LinkedLoad]) -> Result<(), String> {
    let values = data_start(v) + hwprobe_answers(v) as i64;
    let homogeneous = values + (v.hwprobe_keys() * size_of::<u64>()) as i64;
    let page = data_start(v) + (hwprobe_answers(v) / v.page_size * v.page_size) as i64;
    let off_page: Vec<_> =
        loads.iter().filter(|l| !(page..page + v.page_size as i64).contains(&l.base)).collect();
    if !off_page.is_empty() {
        return Err(format!("loads off the page at {page:#x}: {off_page:x?}"));
    }
    if !loads.iter().any(|l| l.base == homogeneous && l.width == 1) {
        return Err(format!("no byte load of homogeneous_cpus at {homogeneous:#x}: {loads:x?}"));
    }
    if !loads.iter().any(|l| l.base == values && l.width == 8 && l.strides.contains(&8)) {
        return Err(format!("no indexed load of the values at {values:#x}: {loads:x?}"));
    }
    Ok(())
}

#[test]
fn riscv64_hwprobe_reads_its_answers_on_the_page_each_variant_keeps_them() {
    let images: Vec<&Image> = riscv64_images().collect();
    assert!(images.iter().any(|i| i.profile() == Profile::Modern), "the riscv64-modern row");
    for image in images {
        let v = image.variant();
        let loads = linked_loads(Arch::Riscv64, &function(image, "__vdso_riscv_hwprobe"));
        hwprobe_reads_where_kept(v, &loads).unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}

/// Whether `v`'s loongarch64 `__vdso_getcpu` reads the node of the CPU it runs on where `v` keeps
/// it: one 4-byte load from the per-CPU array on its page, indexed by the CPU in steps of
/// `PCPU_STRIDE`, and no other link-time load.
fn getcpu_node_read_where_kept(v: &Variant, loads: &[LinkedLoad]) -> Result<(), String> {
    use linux_vdso::abi::loongarch64::{PcpuData, PCPU_STRIDE};
    let pcpu_page = v.pcpu_page().ok_or("no per-CPU page")?;
    let node = data_start(v) + (pcpu_page * v.page_size + std::mem::offset_of!(PcpuData, node)) as i64;
    let want = LinkedLoad { at: 0, base: node, strides: vec![PCPU_STRIDE as u64], width: 4 };
    match loads {
        [l] if LinkedLoad { at: 0, ..l.clone() } == want => Ok(()),
        _ => Err(format!("want one load of {want:x?}, got {loads:x?}")),
    }
}

#[test]
fn loongarch64_getcpu_reads_the_node_on_the_per_cpu_page_of_each_variant() {
    let images: Vec<&Image> = Image::all().iter().filter(|i| i.arch() == Arch::Loongarch64).collect();
    assert!(images.iter().any(|i| i.profile() == Profile::Modern), "the loongarch64-modern row");
    for image in images {
        let v = image.variant();
        let loads = linked_loads(Arch::Loongarch64, &function(image, "__vdso_getcpu"));
        getcpu_node_read_where_kept(v, &loads).unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}

/// `code` with the constant that selects the data page (`lui`/`lu12i.w` of a whole number of
/// pages) one page lower, spelled as `arch`'s objdump would print it.
fn one_page_lower(arch: Arch, code: &[Insn], page_size: usize) -> Vec<Insn> {
    let mut code = code.to_vec();
    let units = (page_size >> 12) as i64;
    let i =
        code.iter_mut().find(|i| matches!(i.mnemonic.as_str(), "lui" | "lu12i.w")).expect("a page constant");
    let (reg, imm) = i.operands.rsplit_once(',').expect("two operands");
    let imm = imm.trim();
    i.operands = match arch {
        Arch::Riscv64 => {
            format!("{reg},{:#x}", i64::from_str_radix(imm.trim_start_matches("0x"), 16).unwrap() - units)
        }
        _ => format!("{reg}, {}", imm.parse::<i64>().unwrap() - units),
    };
    code
}

#[test]
fn a_read_of_the_wrong_data_page_is_noticed() {
    // Controls: the modern images' functions with the page constant one page lower (the RNG page
    // instead of the arch page) fail. (Checking one row's code against another row is no
    // control on loongarch64: the per-CPU page is the last data page in both layouts, so the
    // classic and modern images read the node at the same distance before the image.)
    for image in Image::all().iter().filter(|i| i.profile() == Profile::Modern) {
        let v = image.variant();
        let (name, check): (&str, LoadCheck) = match v.arch {
            Arch::Riscv64 => ("__vdso_riscv_hwprobe", hwprobe_reads_where_kept),
            Arch::Loongarch64 => ("__vdso_getcpu", getcpu_node_read_where_kept),
            _ => continue,
        };
        let code = function(image, name);
        assert_eq!(check(v, &linked_loads(v.arch, &code)), Ok(()), "{v}");
        let lower = one_page_lower(v.arch, &code, v.page_size);
        assert!(check(v, &linked_loads(v.arch, &lower)).is_err(), "{v}: one page lower goes unnoticed");
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
