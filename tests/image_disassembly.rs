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

/// One disassembled instruction: address, mnemonic, operands (objdump's spelling).
#[derive(Clone, Debug)]
struct Insn {
    addr: u64,
    mnemonic: String,
    operands: String,
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

/// Disassembles `[start, stop)` of `arch`'s image (Intel syntax on x86_64).
fn disassemble(arch: Arch, start: u64, stop: u64) -> Vec<Insn> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "disasm-{}-{}-{n}.so",
        arch.name(),
        std::process::id()
    ));
    std::fs::write(&path, Image::get(arch).bytes()).expect("write the image");
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

/// Whether `i` stores to the stack.
fn stores_to_stack(arch: Arch, i: &Insn) -> bool {
    let m = i.mnemonic.as_str();
    let first_operand = i.operands.split(',').next().unwrap_or("");
    match arch {
        Arch::X86_64 => {
            m.starts_with("push")
                || m.starts_with("call")
                || first_operand.contains("[rsp")
                || first_operand.contains("[rbp")
        }
        // Through the stack or the frame pointer (which points into the stack).
        Arch::Aarch64 => m.starts_with("st") && (i.operands.contains("[sp") || i.operands.contains("[x29")),
        Arch::Riscv64 => {
            matches!(m, "sd" | "sw" | "sh" | "sb" | "fsd" | "fsw")
                && (i.operands.ends_with("(sp)") || i.operands.ends_with("(s0)"))
        }
        // `st.d $rd, $sp, off` and friends, through the stack or the frame pointer.
        Arch::Loongarch64 => {
            (m.starts_with("st") || m.starts_with("fst"))
                && (i.operands.contains("$sp") || i.operands.contains("$fp"))
        }
    }
}

/// Whether `i` only moves the stack pointer (a prologue's frame allocation).
fn adjusts_sp(arch: Arch, i: &Insn) -> bool {
    match arch {
        Arch::X86_64 => i.mnemonic == "sub" && i.operands.starts_with("rsp,"),
        Arch::Aarch64 => i.mnemonic == "sub" && i.operands.starts_with("sp, sp,"),
        // objdump spells `c.addi16sp sp, -96` as `add sp,sp,-96`.
        Arch::Riscv64 => matches!(i.mnemonic.as_str(), "addi" | "add") && i.operands.starts_with("sp,sp,-"),
        Arch::Loongarch64 => i.mnemonic == "addi.d" && i.operands.starts_with("$sp, $sp, -"),
    }
}

/// The stack stores of `code` that could hold data the function computed or loaded: every one
/// after the prologue (the leading run of frame allocation and stores). Prologue stores hold
/// the caller's callee-saved registers, before the function has loaded anything.
fn suspicious_stack_stores(arch: Arch, code: &[Insn]) -> Vec<Insn> {
    let prologue = code.iter().take_while(|i| adjusts_sp(arch, i) || stores_to_stack(arch, i)).count();
    code[prologue..].iter().filter(|i| stores_to_stack(arch, i)).cloned().collect()
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
        let all: Vec<&Insn> = code.iter().filter(|i| stores_to_stack(arch, i)).collect();
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
