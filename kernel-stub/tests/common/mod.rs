//! Shared test helpers: a tiny hand-made vDSO-like ELF image.
#![allow(dead_code)]

use vdso_kernel_stub::symbols::{elf_hash, gnu_hash};

#[path = "../../../support/emulation.rs"]
mod emulation;
#[allow(unused_imports)]
pub use emulation::{slow_under_emulation, EMULATED};

/// Version node the synthetic image defines its functions in.
pub const VERSION: &str = "LINUX_TEST";
/// A second version node, for "wrong version" lookups.
pub const OLD_VERSION: &str = "OLD_1";

/// What to leave out of the synthetic image.
#[derive(Clone, Copy, Default)]
pub struct ElfOptions {
    pub no_sysv_hash: bool,
    pub no_gnu_hash: bool,
    pub no_versions: bool,
}

/// A function body returning `value` in the native ABI.
pub fn ret_const(value: u32) -> Vec<u8> {
    if cfg!(target_arch = "riscv64") {
        // addi a0, zero, value; ret (jalr zero, 0(ra))
        let addi = (value & 0xfff) << 20 | 10 << 7 | 0x13;
        [addi.to_le_bytes(), 0x0000_8067u32.to_le_bytes()].concat()
    } else if cfg!(target_arch = "aarch64") {
        // movz w0, #value; ret
        let movz = 0x5280_0000 | (value & 0xffff) << 5;
        [movz.to_le_bytes(), 0xd65f_03c0u32.to_le_bytes()].concat()
    } else if cfg!(target_arch = "loongarch64") {
        // ori a0, zero, value; ret (jirl zero, ra, 0)
        let ori = 0x0380_0000 | (value & 0xfff) << 10 | 4;
        [ori.to_le_bytes(), 0x4c00_0020u32.to_le_bytes()].concat()
    } else {
        // mov eax, value; ret
        let mut v = vec![0xb8];
        v.extend_from_slice(&value.to_le_bytes());
        v.push(0xc3);
        v
    }
}

fn put(buf: &mut [u8], off: usize, bytes: &[u8]) {
    buf[off..off + bytes.len()].copy_from_slice(bytes);
}

/// A one-page shared object with a `PT_LOAD` (R+X) and a `PT_DYNAMIC`, defining
/// `__vdso_answer` (returns 42) and its weak alias `answer`, `__vdso_seven` (returns 7) at
/// [`VERSION`], `__vdso_old` at [`OLD_VERSION`], and referencing an undefined `__vdso_undef`.
pub fn synthetic_image(opts: ElfOptions) -> Vec<u8> {
    synthetic_image_for(opts, vdso_kernel_stub::ArchLayout::native())
}

/// [`synthetic_image`] with the ELF machine and layout note of `layout` (its code is still the
/// host's: map it for another layout only to look at it, never to call it).
pub fn synthetic_image_for(opts: ElfOptions, layout: vdso_kernel_stub::ArchLayout) -> Vec<u8> {
    const TEXT: usize = 0x100;
    const DYNSYM: usize = 0x200;
    const DYNSTR: usize = 0x300;
    const VERSYM: usize = 0x400;
    const VERDEF: usize = 0x420;
    const HASH: usize = 0x480;
    const GNU: usize = 0x500;
    const DYNAMIC: usize = 0x600;
    const NOTE: usize = 0x6c0;
    let mut img = vec![0u8; 0x700];

    // Strings.
    let mut strtab = vec![0u8];
    let mut add_str = |s: &str| {
        let off = strtab.len() as u32;
        strtab.extend_from_slice(s.as_bytes());
        strtab.push(0);
        off
    };
    let soname = add_str("linux-vdso.so.1");
    let ver = add_str(VERSION);
    let old = add_str(OLD_VERSION);
    // (name, value, info, version index, defined)
    let funcs: Vec<(&str, u64, u8, u16)> = vec![
        ("__vdso_answer", TEXT as u64, 1 << 4 | 2, 2),
        ("answer", TEXT as u64, 2 << 4 | 2, 2),
        ("__vdso_seven", TEXT as u64 + 16, 1 << 4 | 2, 2),
        ("__vdso_old", TEXT as u64 + 32, 1 << 4 | 2, 3),
    ];
    // GNU hash: undefined symbols first (below symoffset), then defined ones grouped by bucket.
    let nbuckets = 2u32;
    let mut defined = funcs.clone();
    defined.sort_by_key(|f| gnu_hash(f.0.as_bytes()) % nbuckets);
    let undef_name = add_str("__vdso_undef");
    let names: Vec<u32> = defined.iter().map(|f| add_str(f.0)).collect();
    put(&mut img, DYNSTR, &strtab);

    // Code.
    put(&mut img, TEXT, &ret_const(42));
    put(&mut img, TEXT + 16, &ret_const(7));
    put(&mut img, TEXT + 32, &ret_const(1));

    // Symbols: 0 null, 1 undefined, 2.. defined.
    let nsyms = 2 + defined.len();
    let sym = |img: &mut Vec<u8>, i: usize, name: u32, info: u8, shndx: u16, value: u64, size: u64| {
        let o = DYNSYM + 24 * i;
        put(img, o, &name.to_le_bytes());
        img[o + 4] = info;
        put(img, o + 6, &shndx.to_le_bytes());
        put(img, o + 8, &value.to_le_bytes());
        put(img, o + 16, &size.to_le_bytes());
    };
    sym(&mut img, 1, undef_name, 1 << 4 | 2, 0, 0, 0);
    let mut versym = vec![0u16, 1];
    for (k, f) in defined.iter().enumerate() {
        sym(&mut img, 2 + k, names[k], f.2, 7, f.1, 6);
        versym.push(f.3);
    }
    for (i, v) in versym.iter().enumerate() {
        put(&mut img, VERSYM + 2 * i, &v.to_le_bytes());
    }

    // Version definitions: base (the soname), VERSION (2), OLD_VERSION (3).
    let defs = [(1u16, 1u16, soname, "linux-vdso.so.1"), (0, 2, ver, VERSION), (0, 3, old, OLD_VERSION)];
    for (k, (flags, ndx, name, s)) in defs.iter().enumerate() {
        let o = VERDEF + 28 * k;
        put(&mut img, o, &1u16.to_le_bytes());
        put(&mut img, o + 2, &flags.to_le_bytes());
        put(&mut img, o + 4, &ndx.to_le_bytes());
        put(&mut img, o + 6, &1u16.to_le_bytes());
        put(&mut img, o + 8, &elf_hash(s.as_bytes()).to_le_bytes());
        put(&mut img, o + 12, &20u32.to_le_bytes());
        put(&mut img, o + 16, &(if k + 1 < defs.len() { 28u32 } else { 0 }).to_le_bytes());
        put(&mut img, o + 20, &name.to_le_bytes());
    }

    // DT_HASH.
    let nbucket = 3usize;
    let mut buckets = vec![0u32; nbucket];
    let mut chains = vec![0u32; nsyms];
    for i in 1..nsyms {
        let name_off = u32::from_le_bytes(img[DYNSYM + 24 * i..][..4].try_into().unwrap()) as usize;
        let name = &strtab[name_off..strtab[name_off..].iter().position(|&b| b == 0).unwrap() + name_off];
        let b = elf_hash(name) as usize % nbucket;
        chains[i] = buckets[b];
        buckets[b] = i as u32;
    }
    put(&mut img, HASH, &(nbucket as u32).to_le_bytes());
    put(&mut img, HASH + 4, &(nsyms as u32).to_le_bytes());
    for (k, b) in buckets.iter().chain(chains.iter()).enumerate() {
        put(&mut img, HASH + 8 + 4 * k, &b.to_le_bytes());
    }

    // DT_GNU_HASH: symoffset 2, one bloom word, shift 6.
    let symoffset = 2u32;
    let shift = 6u32;
    let mut bloom = 0u64;
    let mut gbuckets = vec![0u32; nbuckets as usize];
    let mut gchains = vec![0u32; defined.len()];
    for (k, f) in defined.iter().enumerate() {
        let h = gnu_hash(f.0.as_bytes());
        bloom |= 1 << (h % 64) | 1 << ((h >> shift) % 64);
        let b = (h % nbuckets) as usize;
        if gbuckets[b] == 0 {
            gbuckets[b] = symoffset + k as u32;
        }
        let last_in_bucket =
            defined.get(k + 1).is_none_or(|n| gnu_hash(n.0.as_bytes()) % nbuckets != b as u32);
        gchains[k] = (h & !1) | last_in_bucket as u32;
    }
    put(&mut img, GNU, &nbuckets.to_le_bytes());
    put(&mut img, GNU + 4, &symoffset.to_le_bytes());
    put(&mut img, GNU + 8, &1u32.to_le_bytes());
    put(&mut img, GNU + 12, &shift.to_le_bytes());
    put(&mut img, GNU + 16, &bloom.to_le_bytes());
    for (k, v) in gbuckets.iter().chain(gchains.iter()).enumerate() {
        put(&mut img, GNU + 24 + 4 * k, &v.to_le_bytes());
    }

    // Dynamic section.
    let mut dynamic: Vec<(i64, u64)> =
        vec![(5, DYNSTR as u64), (6, DYNSYM as u64), (10, strtab.len() as u64), (11, 24)];
    if !opts.no_sysv_hash {
        dynamic.push((4, HASH as u64));
    }
    if !opts.no_gnu_hash {
        dynamic.push((0x6fff_fef5, GNU as u64));
    }
    if !opts.no_versions {
        dynamic.push((0x6fff_fff0, VERSYM as u64));
        dynamic.push((0x6fff_fffc, VERDEF as u64));
        dynamic.push((0x6fff_fffd, defs.len() as u64));
    }
    dynamic.push((0, 0));
    for (k, (tag, val)) in dynamic.iter().enumerate() {
        put(&mut img, DYNAMIC + 16 * k, &tag.to_le_bytes());
        put(&mut img, DYNAMIC + 16 * k + 8, &val.to_le_bytes());
    }

    // ELF header and program headers.
    let len = img.len() as u64;
    put(&mut img, 0, b"\x7fELF\x02\x01\x01");
    put(&mut img, 16, &3u16.to_le_bytes());
    put(&mut img, 18, &layout.elf_machine().to_le_bytes());
    put(&mut img, 20, &1u32.to_le_bytes());
    put(&mut img, 32, &64u64.to_le_bytes());
    put(&mut img, 52, &64u16.to_le_bytes());
    put(&mut img, 54, &56u16.to_le_bytes());
    put(&mut img, 56, &3u16.to_le_bytes());
    let phdr = |img: &mut Vec<u8>, i: usize, ty: u32, flags: u32, off: u64, size: u64, align: u64| {
        let o = 64 + 56 * i;
        put(img, o, &ty.to_le_bytes());
        put(img, o + 4, &flags.to_le_bytes());
        for (k, v) in [off, off, off, size, size, align].iter().enumerate() {
            put(img, o + 8 + 8 * k, &v.to_le_bytes());
        }
    };
    phdr(&mut img, 0, 1, 5, 0, len, 4096);
    phdr(&mut img, 1, 2, 4, DYNAMIC as u64, 16 * dynamic.len() as u64, 8);
    let note = vdso_kernel_stub::mapping::layout_note_entry(layout);
    put(&mut img, NOTE, &note);
    phdr(&mut img, 2, 4, 4, NOTE as u64, note.len() as u64, 4);
    img
}
