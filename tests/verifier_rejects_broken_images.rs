//! The build's verifier is itself tested: each deliberately broken copy of a good image must be
//! rejected with a message naming what broke, and no input, however mangled, may panic it.

mod common;

use goblin::elf::Elf;
use linux_vdso::elf::ElfImage;
use linux_vdso::elf::StaticSymbol;
use linux_vdso::verify::{verify, Stage};
use linux_vdso::HashStyles;
use linux_vdso::{Arch, Image, Profile, Variant};
use proptest::prelude::*;

fn violations(bytes: &[u8], arch: Arch, stage: Stage) -> Vec<String> {
    let parsed = ElfImage::parse(bytes).expect("still parses");
    verify(&parsed, Variant::default_for(arch), stage).into_iter().map(|v| v.0).collect()
}

fn assert_rejected(bytes: &[u8], arch: Arch, needle: &str) {
    let v = violations(bytes, arch, Stage::Stripped);
    assert!(
        v.iter().any(|m| m.contains(needle)),
        "{arch:?}: expected a violation mentioning {needle:?}, got {v:#?}"
    );
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// File offsets of the program headers (e_phoff, e_phentsize, e_phnum).
fn phdrs(b: &[u8]) -> Vec<usize> {
    let (off, size, num) = (u64_at(b, 0x20) as usize, u16_at(b, 0x36) as usize, u16_at(b, 0x38) as usize);
    (0..num).map(|i| off + i * size).collect()
}

fn phdr_of_type(b: &[u8], ty: u32) -> usize {
    phdrs(b).into_iter().find(|&p| u32_at(b, p) == ty).expect("segment")
}

/// Rewrites the tag of the dynamic entry `from` into `to`.
fn patch_dyn_tag(b: &mut [u8], from: u64, to: u64) {
    let dynamic = u64_at(b, phdr_of_type(b, 2) + 8) as usize;
    let mut at = dynamic;
    loop {
        let tag = u64_at(b, at);
        assert_ne!(tag, 0, "tag {from} not found");
        if tag == from {
            b[at..at + 8].copy_from_slice(&to.to_le_bytes());
            return;
        }
        at += 16;
    }
}

fn find(b: &[u8], needle: &[u8]) -> usize {
    b.windows(needle.len()).position(|w| w == needle).expect("bytes present")
}

/// Offset of the `.dynsym` entry named `name`.
fn dynsym_entry(b: &[u8], name: &str) -> usize {
    let elf = Elf::parse(b).expect("parse");
    let sh =
        elf.section_headers.iter().find(|s| s.sh_type == goblin::elf::section_header::SHT_DYNSYM).unwrap();
    let i = elf.dynsyms.iter().position(|s| elf.dynstrtab.get_at(s.st_name) == Some(name)).expect("symbol");
    sh.sh_offset as usize + i * 24
}

/// The exported name of entry point `base` (`clock_gettime`) in `arch`'s image, from the table.
fn name(arch: Arch, base: &str) -> String {
    format!("{}{base}", arch.info().symbol_prefix)
}

fn each_image(f: impl Fn(Arch, Vec<u8>)) {
    for arch in Arch::ALL {
        f(arch, Image::get(arch).bytes().to_vec());
    }
}

/// `each_image` over the images that carry `DT_GNU_HASH`. An architecture whose row says
/// `HashStyles::SysvOnly` (aarch64, linked as Linux links arm64's vDSO) has no GNU table to
/// mutate: its lookups all go through `DT_HASH`, whose mutations run on every image, and
/// `the_hash_tables_are_exactly_the_rows` proves a GNU table there is refused.
fn each_image_with_gnu_hash(f: impl Fn(Arch, Vec<u8>)) {
    each_image(|arch, b| {
        if arch.hash_style().has_gnu() {
            f(arch, b);
        }
    });
}

#[test]
fn the_shipped_images_pass() {
    each_image(|arch, b| assert_eq!(violations(&b, arch, Stage::Stripped), Vec::<String>::new(), "{arch:?}"));
}

#[test]
fn a_patched_in_dt_rela_is_rejected() {
    each_image(|arch, mut b| {
        patch_dyn_tag(&mut b, 0x1e /* DT_FLAGS */, 7 /* DT_RELA */);
        assert_rejected(&b, arch, "DT_RELA");
    });
}

#[test]
fn relr_textrel_and_jmprel_are_rejected() {
    for (tag, name) in [(36, "DT_RELR"), (22, "DT_TEXTREL"), (23, "DT_JMPREL")] {
        each_image(|arch, mut b| {
            patch_dyn_tag(&mut b, 0x1e, tag);
            assert_rejected(&b, arch, name);
        });
    }
}

#[test]
fn the_hash_tables_are_exactly_the_rows() {
    for style in [HashStyles::Both, HashStyles::SysvOnly] {
        assert!(Arch::ALL.iter().any(|a| a.hash_style() == style), "no image to test {style:?} on");
    }
    each_image(|arch, mut b| match arch.hash_style() {
        HashStyles::Both => {
            // glibc prefers DT_GNU_HASH, and Linux's x86_64 and riscv64 vDSOs carry one.
            patch_dyn_tag(&mut b, 0x6fff_fef5 /* DT_GNU_HASH */, 21 /* DT_DEBUG */);
            assert_rejected(&b, arch, "no DT_GNU_HASH");
        }
        HashStyles::SysvOnly => {
            // The shipped image has none (it passes); one patched in is refused, naming why.
            assert!(Elf::parse(&b).unwrap().dynamic.unwrap().dyns.iter().all(|d| d.d_tag != 0x6fff_fef5));
            patch_dyn_tag(&mut b, 0x1e /* DT_FLAGS */, 0x6fff_fef5 /* DT_GNU_HASH */);
            assert_rejected(
                &b,
                arch,
                &format!("DT_GNU_HASH present, but {} images carry DT_HASH only", arch.name()),
            );
            assert_rejected(&b, arch, "golang/go#62309");
        }
    });
}

#[test]
fn a_missing_sysv_hash_is_rejected() {
    each_image(|arch, mut b| {
        patch_dyn_tag(&mut b, 4 /* DT_HASH */, 21 /* DT_DEBUG */);
        assert_rejected(&b, arch, "no DT_HASH");
    });
}

#[test]
fn a_writable_load_segment_is_rejected() {
    each_image(|arch, mut b| {
        let load = phdr_of_type(&b, 1);
        b[load + 4] |= 2; // PF_W
        assert_rejected(&b, arch, "writable");
    });
}

#[test]
fn a_load_segment_over_two_pages_is_rejected() {
    each_image(|arch, mut b| {
        let load = phdr_of_type(&b, 1);
        let big = 8193u64.to_le_bytes();
        b[load + 32..load + 40].copy_from_slice(&big); // p_filesz
        b[load + 40..load + 48].copy_from_slice(&big); // p_memsz
        assert_rejected(&b, arch, "more than two pages");
    });
}

#[test]
fn a_bss_style_load_segment_is_rejected() {
    each_image(|arch, mut b| {
        let load = phdr_of_type(&b, 1);
        let memsz = u64_at(&b, load + 40) + 16;
        b[load + 40..load + 48].copy_from_slice(&memsz.to_le_bytes());
        assert_rejected(&b, arch, "filesz");
    });
}

#[test]
fn an_interp_segment_is_rejected() {
    each_image(|arch, mut b| {
        let note = phdr_of_type(&b, 4);
        b[note..note + 4].copy_from_slice(&3u32.to_le_bytes()); // PT_INTERP
        assert_rejected(&b, arch, "PT_INTERP");
        assert_rejected(&b, arch, "no PT_NOTE");
    });
}

#[test]
fn the_wrong_machine_is_rejected() {
    each_image(|arch, b| {
        let other = if arch == Arch::X86_64 { Arch::Riscv64 } else { Arch::X86_64 };
        let v = violations(&b, other, Stage::Stripped);
        assert!(v.iter().any(|m| m.contains("e_machine")), "{v:?}");
    });
}

#[test]
fn a_wrong_version_hash_is_rejected() {
    each_image(|arch, mut b| {
        let elf = Elf::parse(&b).unwrap();
        let sh = elf
            .section_headers
            .iter()
            .find(|s| s.sh_type == goblin::elf::section_header::SHT_GNU_VERDEF)
            .unwrap();
        let first = sh.sh_offset as usize;
        let second = first + u32_at(&b, first + 16) as usize; // vd_next
        drop(elf);
        b[second + 8] ^= 1; // vd_hash
        assert_rejected(&b, arch, "has hash");
    });
}

#[test]
fn a_renamed_symbol_is_rejected_as_missing_and_unexpected() {
    each_image(|arch, mut b| {
        let getres = name(arch, "clock_getres");
        let at = find(&b, format!("{getres}\0").as_bytes());
        b[at + getres.len() - 1] = b'z';
        assert_rejected(&b, arch, &format!("missing exported symbol {getres}"));
        assert_rejected(&b, arch, &format!("unexpected dynamic symbol \"{}z\"", &getres[..getres.len() - 1]));
    });
}

#[test]
fn a_weak_or_object_symbol_where_a_global_function_belongs_is_rejected() {
    each_image(|arch, mut b| {
        let sym = dynsym_entry(&b, &name(arch, "clock_gettime"));
        b[sym + 4] = (2 << 4) | 2; // st_info: WEAK FUNC
        assert_rejected(&b, arch, "binding");
        b[sym + 4] = (1 << 4) | 1; // GLOBAL OBJECT
        assert_rejected(&b, arch, "STT_FUNC");
    });
}

#[test]
fn an_unversioned_symbol_is_rejected() {
    each_image(|arch, mut b| {
        let elf = Elf::parse(&b).unwrap();
        let sh = elf
            .section_headers
            .iter()
            .find(|s| s.sh_type == goblin::elf::section_header::SHT_GNU_VERSYM)
            .unwrap();
        let at = sh.sh_offset as usize + 2;
        drop(elf);
        b[at..at + 2].copy_from_slice(&1u16.to_le_bytes());
        assert_rejected(&b, arch, "expected LINUX_");
    });
}

#[test]
fn a_wrong_linux_version_note_is_rejected() {
    each_image(|arch, mut b| {
        let at = find(&b, b"Linux\0\0\0") + 8;
        b[at] ^= 0xff;
        assert_rejected(&b, arch, "\"Linux\" note says");
    });
}

#[test]
fn a_layout_note_for_another_layout_is_rejected() {
    each_image(|arch, mut b| {
        let at = find(&b, b"rs-vdso\0") + 8 + 4; // descriptor word 1: data pages
        b[at] += 1;
        assert_rejected(&b, arch, "layout note");
    });
}

/// Offset of the value of the dynamic entry `tag`.
fn dyn_value_at(b: &[u8], tag: u64) -> usize {
    let mut at = u64_at(b, phdr_of_type(b, 2) + 8) as usize;
    while u64_at(b, at) != tag {
        assert_ne!(u64_at(b, at), 0, "tag {tag} not found");
        at += 16;
    }
    at + 8
}

#[test]
fn dynamic_tags_that_point_elsewhere_are_rejected() {
    // A libc reads the tables through these tags, not the section headers.
    for (tag, name) in [
        (6, "DT_SYMTAB"),
        (5, "DT_STRTAB"),
        (4, "DT_HASH"),
        (0x6fff_fef5, "DT_GNU_HASH"),
        (0x6fff_fff0, "DT_VERSYM"),
        (0x6fff_fffc, "DT_VERDEF"),
    ] {
        each_image(|arch, mut b| {
            if tag == 0x6fff_fef5 && !arch.hash_style().has_gnu() {
                return; // no DT_GNU_HASH to move (see each_image_with_gnu_hash)
            }
            let at = dyn_value_at(&b, tag);
            let moved = u64_at(&b, at) + 8;
            b[at..at + 8].copy_from_slice(&moved.to_le_bytes());
            assert_rejected(&b, arch, &format!("{name} is {moved:#x}, which is no section of its kind"));
        });
    }
    each_image(|arch, mut b| {
        let at = dyn_value_at(&b, 10); // DT_STRSZ
        b[at] ^= 1;
        assert_rejected(&b, arch, "DT_STRSZ is");
    });
    each_image(|arch, mut b| {
        let at = dyn_value_at(&b, 0x6fff_fffd); // DT_VERDEFNUM
        b[at..at + 8].copy_from_slice(&0u64.to_le_bytes());
        assert_rejected(&b, arch, "DT_VERDEFNUM is 0, but there are 2 version definitions");
    });
}

#[test]
fn a_dynamic_section_without_dt_null_is_rejected() {
    each_image(|arch, mut b| {
        let dynamic = phdr_of_type(&b, 2);
        let (start, size) = (u64_at(&b, dynamic + 8) as usize, u64_at(&b, dynamic + 32) as usize);
        // Every entry from the first DT_NULL to the end of PT_DYNAMIC becomes DT_DEBUG (21).
        let mut at = start;
        while at < start + size {
            if u64_at(&b, at) == 0 {
                b[at..at + 8].copy_from_slice(&21u64.to_le_bytes());
            }
            at += 16;
        }
        assert_rejected(&b, arch, "no DT_NULL inside PT_DYNAMIC");
    });
}

#[test]
fn sizes_and_addresses_near_two_to_the_64_are_rejected_not_wrapped() {
    each_image(|arch, b| {
        let load = phdr_of_type(&b, 1);
        let mut vaddr = b.clone();
        vaddr[load + 16..load + 24].copy_from_slice(&(u64::MAX - 0xff).to_le_bytes());
        assert_rejected(&vaddr, arch, "PT_LOAD at offset 0x0");

        let eh_frame = phdr_of_type(&b, 0x6474_e550);
        let mut offset = b.clone();
        offset[eh_frame + 8..eh_frame + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_rejected(&offset, arch, "lies outside the loaded segment");

        let gettime = name(arch, "clock_gettime");
        let sym = dynsym_entry(&b, &gettime);
        let mut size = b.clone();
        size[sym + 16..sym + 24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_rejected(&size, arch, &format!("{gettime} at"));
        let mut value = b.clone();
        value[sym + 8..sym + 16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_rejected(&value, arch, "is empty or outside the image");
    });
}

/// Every image is judged against its own row of the variant table: the same bytes judged as a
/// 16 KiB image fail on `p_align` and on the layout note's page size, and each shipped image is
/// its row's (found back from its own note).
#[test]
fn an_image_of_another_page_size_than_its_row_is_rejected() {
    for image in Image::all() {
        let parsed = ElfImage::parse(image.bytes()).unwrap();
        assert_eq!(parsed.variant(), Some(image.variant()), "{}", image.variant());
        assert_eq!(parsed.page_size() as usize, image.page_size());
        let other = Variant { page_size: image.page_size() * 4, ..*image.variant() };
        let v: Vec<String> = verify(&parsed, &other, Stage::Stripped).into_iter().map(|v| v.0).collect();
        let align = format!(
            "PT_LOAD p_align is {:#x}, expected the page size {:#x}",
            image.page_size(),
            other.page_size
        );
        let note = format!("layout note gives page size {}, expected {}", image.page_size(), other.page_size);
        assert!(v.iter().any(|m| m.contains(&align)) && v.iter().any(|m| m.contains(&note)), "{v:#?}");
        // The modern profile's RNG page moves with the page size, and the note says where it is.
        let rng_moves = usize::from(image.variant().rng_data_offset() != other.rng_data_offset());
        assert_eq!(v.len(), 2 + rng_moves, "nothing else differs: {v:#?}");
    }
    // And an image whose p_align was changed fails against its own row.
    each_image(|arch, mut b| {
        let load = phdr_of_type(&b, 1);
        let own = Variant::default_for(arch).page_size as u64;
        put_u64(&mut b, load + 48, own * 4);
        assert_rejected(
            &b,
            arch,
            &format!("PT_LOAD p_align is {:#x}, expected the page size {own:#x}", own * 4),
        );
    });
}

/// The layout note's profile word must name the row's profile.
#[test]
fn a_layout_note_naming_another_profile_is_rejected() {
    each_image(|arch, mut b| {
        let at = find(&b, b"rs-vdso\0") + 8 + 4 * 7; // descriptor word 7: profile
        assert_eq!(u32_at(&b, at), Profile::Classic.note_value());
        put_u32(&mut b, at, 0);
        assert_rejected(&b, arch, "layout note gives profile 0, expected 1 (classic)");
    });
}

/// `vvar_start` (checked on the unstripped link) must be `data_pages` pages *of the row's page
/// size* before the image: the linker's `VDSO_PAGE_SIZE` must follow the row.
#[test]
fn a_data_page_symbol_for_another_page_size_is_rejected() {
    for image in Image::all() {
        let mut parsed = ElfImage::parse(image.bytes()).unwrap();
        let v = image.variant();
        let at = |page: usize| StaticSymbol {
            name: "vvar_start".into(),
            value: -((v.data_pages() * page) as i64),
        };
        parsed.static_symbols = vec![at(v.page_size)];
        let ok: Vec<String> = verify(&parsed, v, Stage::Unstripped).into_iter().map(|v| v.0).collect();
        assert!(!ok.iter().any(|m| m.contains("vvar_start")), "{ok:#?}");
        parsed.static_symbols = vec![at(v.page_size * 4)];
        let bad: Vec<String> = verify(&parsed, v, Stage::Unstripped).into_iter().map(|v| v.0).collect();
        let want = format!(
            "vvar_start is at {}, expected {} ({} pages of {} bytes before the image)",
            -((v.data_pages() * v.page_size * 4) as i64),
            -(v.data_size() as i64),
            v.data_pages(),
            v.page_size
        );
        assert!(bad.iter().any(|m| m == &want), "{want}: {bad:#?}");
    }
}

#[test]
fn the_unstripped_check_demands_the_data_page_symbol() {
    each_image(|arch, b| {
        let v = violations(&b, arch, Stage::Unstripped);
        assert!(v.iter().any(|m| m.contains("vvar_start")), "{v:?}");
    });
}

#[test]
fn not_elf_truncated_and_32_bit_files_get_one_line_errors() {
    let good = Image::get(Arch::X86_64).bytes();
    let e = ElfImage::parse(b"#!/bin/sh\necho hi\n").unwrap_err().0;
    assert!(e.contains("not an ELF file"), "{e}");
    let e = ElfImage::parse(&good[..40]).unwrap_err().0;
    assert!(e.contains("truncated"), "{e}");
    let e = ElfImage::parse(&good[..1000]).unwrap_err().0;
    assert!(e.contains("truncated") || e.contains("malformed"), "{e}");
    let mut class32 = good.to_vec();
    class32[4] = 1;
    let e = ElfImage::parse(&class32).unwrap_err().0;
    assert!(e.contains("32-bit"), "{e}");
    let mut class7 = good.to_vec();
    class7[4] = 7;
    let e = ElfImage::parse(&class7).unwrap_err().0;
    assert!(e.contains("unknown class (EI_CLASS 7)"), "{e}");
    let mut exec = good.to_vec();
    exec[16] = 2; // ET_EXEC
    let e = ElfImage::parse(&exec).unwrap_err().0;
    assert!(e.contains("not a shared object"), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::slow_under_emulation(512, 64), ..ProptestConfig::default() })]

    /// Random corruption anywhere: parse and verify answer, they never panic.
    #[test]
    fn corrupted_images_never_panic(arch in prop::sample::select(Arch::ALL.to_vec()),
                                     flips in prop::collection::vec((0usize..8192, any::<u8>()), 1..16),
                                     cut in 0usize..8192) {
        let mut b = Image::get(arch).bytes().to_vec();
        for (at, x) in flips {
            let len = b.len();
            b[at % len] ^= x;
        }
        b.truncate(cut.max(1).min(b.len()));
        if let Ok(parsed) = ElfImage::parse(&b) {
            let _ = verify(&parsed, linux_vdso::Variant::default_for(arch), Stage::Stripped);
        }
    }

    /// Whole 8-byte words of extreme values over the headers and tables (where bit flips rarely
    /// reach the values that make sums wrap): parse and verify still answer without panicking.
    #[test]
    fn extreme_words_never_panic(arch in prop::sample::select(Arch::ALL.to_vec()),
                                 words in prop::collection::vec(
                                     (0usize..0x700, prop::sample::select(vec![u64::MAX, u64::MAX - 0xff, 1 << 63, 1 << 32, 0])),
                                     1..6)) {
        let mut b = Image::get(arch).bytes().to_vec();
        for (at, v) in words {
            let at = at & !7;
            b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        if let Ok(parsed) = ElfImage::parse(&b) {
            let _ = verify(&parsed, linux_vdso::Variant::default_for(arch), Stage::Stripped);
            let _ = (parsed.load_size(), parsed.pages());
        }
    }
}

// --- The loader's view: each case below was once "valid" to the verifier, which read the
// --- symbols through the section headers only, while glibc, musl or Go read something else.

/// The value (an address = file offset here) of the dynamic entry `tag`.
fn dyn_value(b: &[u8], tag: u64) -> usize {
    u64_at(b, dyn_value_at(b, tag)) as usize
}

/// File offset of the section header of the first section of type `sh_type`.
fn section_header(b: &[u8], sh_type: u32) -> usize {
    let (shoff, shentsize, shnum) =
        (u64_at(b, 0x28) as usize, u16_at(b, 0x3a) as usize, u16_at(b, 0x3c) as usize);
    (0..shnum).map(|i| shoff + i * shentsize).find(|&h| u32_at(b, h + 4) == sh_type).expect("section")
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn a_good_section_dynsym_over_a_corrupt_dt_symtab_one_is_rejected() {
    each_image(|arch, mut b| {
        // A good copy of .dynsym at the end of the file for the section header; in the table
        // DT_SYMTAB points at, entries 1 and 2 swap values: glibc then returns one function's
        // code for the other's name.
        let sh = section_header(&b, 11 /* SHT_DYNSYM */);
        let (off, size) = (u64_at(&b, sh + 0x18) as usize, u64_at(&b, sh + 0x20) as usize);
        let copy = b.len();
        b.extend_from_within(off..off + size);
        b[sh + 0x18..sh + 0x20].copy_from_slice(&(copy as u64).to_le_bytes());
        let symtab = dyn_value(&b, 6);
        let (one, two) = (symtab + 24 + 8, symtab + 48 + 8);
        let (v1, v2) = (u64_at(&b, one), u64_at(&b, two));
        b[one..one + 8].copy_from_slice(&v2.to_le_bytes());
        b[two..two + 8].copy_from_slice(&v1.to_le_bytes());
        // The section headers' view is unchanged: what the old verifier saw.
        let parsed = ElfImage::parse(&b).unwrap();
        assert_eq!(parsed.symbols, ElfImage::parse(Image::get(arch).bytes()).unwrap().symbols);
        assert_rejected(&b, arch, "differs from the section headers' .dynsym");
        assert_rejected(&b, arch, &format!("value {v2:#x} vs {v1:#x}"));
        assert_rejected(&b, arch, "section .dynsym is at file offset");
    });
}

#[test]
fn a_gnu_bloom_filter_of_huge_size_is_rejected() {
    each_image_with_gnu_hash(|arch, b| {
        let gnu = dyn_value(&b, 0x6fff_fef5);
        // Not a power of two: glibc asserts in _dl_setup_hash.
        let mut odd = b.clone();
        put_u32(&mut odd, gnu + 8, 0x7fff_ffff);
        assert_rejected(&odd, arch, "Bloom filter size is not a power of two (glibc asserts)");
        // A power of two: the filter and buckets would lie far past the image.
        let mut huge = b.clone();
        put_u32(&mut huge, gnu + 8, 1 << 30);
        assert_rejected(&huge, arch, "DT_GNU_HASH Bloom filter or buckets lies outside the mapped image");
    });
}

#[test]
fn hash_tables_without_buckets_are_rejected() {
    each_image_with_gnu_hash(|arch, b| {
        let mut gnu = b.clone();
        let at = dyn_value(&gnu, 0x6fff_fef5);
        put_u32(&mut gnu, at, 0);
        assert_rejected(&gnu, arch, "empty DT_GNU_HASH");
    });
    each_image(|arch, b| {
        let mut sysv = b.clone();
        let at = dyn_value(&sysv, 4);
        put_u32(&mut sysv, at, 0);
        assert_rejected(&sysv, arch, "DT_HASH has 0 buckets");
    });
}

#[test]
fn a_zeroed_or_thinned_bloom_filter_is_rejected() {
    each_image_with_gnu_hash(|arch, b| {
        let gnu = dyn_value(&b, 0x6fff_fef5);
        let words = u32_at(&b, gnu + 8) as usize;
        let mut zeroed = b.clone();
        zeroed[gnu + 16..gnu + 16 + 8 * words].fill(0);
        for e in arch.exports() {
            assert_rejected(
                &zeroed,
                arch,
                &format!("{}@{}: the Bloom filter of DT_GNU_HASH rejects it", e.name, arch.version_node()),
            );
        }
        // One bit fewer: only the names that needed it go missing, which is what glibc shows.
        let mut thinned = b.clone();
        let first = (gnu + 16..gnu + 16 + 8 * words).find(|&i| thinned[i] != 0).unwrap();
        thinned[first] &= thinned[first] - 1; // clears the lowest set bit
        assert_rejected(&thinned, arch, "the Bloom filter of DT_GNU_HASH rejects");
    });
}

#[test]
fn a_sysv_hash_with_nchain_zero_is_rejected() {
    each_image(|arch, mut b| {
        let hash = dyn_value(&b, 4);
        put_u32(&mut b, hash + 4, 0);
        assert_rejected(&b, arch, "DT_HASH's nchain is 0, but .dynsym has");
        assert_rejected(&b, arch, "is not found among DT_HASH's nchain entries (as musl and Zig do)");
    });
}

#[test]
fn a_dynamic_segment_whose_address_is_not_its_offset_is_rejected() {
    each_image(|arch, mut b| {
        // glibc follows p_vaddr (here into the hash tables: it died with SIGSEGV), musl and Go
        // p_offset, the section-header view neither.
        let dynamic = phdr_of_type(&b, 2);
        let offset = u64_at(&b, dynamic + 8);
        b[dynamic + 16..dynamic + 24].copy_from_slice(&0x120u64.to_le_bytes());
        assert_rejected(
            &b,
            arch,
            &format!(
                "PT_DYNAMIC is at file offset {offset:#x} but address 0x120: glibc reads it at the address"
            ),
        );
    });
}

#[test]
fn an_exported_symbol_with_hidden_visibility_is_rejected() {
    each_image(|arch, mut b| {
        let gettime = name(arch, "clock_gettime");
        let sym = dynsym_entry(&b, &gettime);
        b[sym + 5] = 2; // STV_HIDDEN
        assert_rejected(&b, arch, &format!("{gettime} has visibility HIDDEN (st_other 0x2)"));
    });
}

#[test]
fn an_exported_absolute_symbol_is_rejected() {
    each_image(|arch, mut b| {
        let gettimeofday = name(arch, "gettimeofday");
        let sym = dynsym_entry(&b, &gettimeofday);
        b[sym + 6..sym + 8].copy_from_slice(&0xfff1u16.to_le_bytes()); // SHN_ABS
        assert_rejected(&b, arch, &format!("{gettimeofday} has section index SHN_ABS"));
        // In a real section that is not code: rejected too.
        b[sym + 6..sym + 8].copy_from_slice(&1u16.to_le_bytes()); // .hash
        assert_rejected(&b, arch, "which is not executable code");
    });
}

#[test]
fn tags_and_segments_a_loader_would_act_on_are_rejected() {
    each_image(|arch, b| {
        let mut init = b.clone();
        patch_dyn_tag(&mut init, 0x1e /* DT_FLAGS */, 12 /* DT_INIT */);
        assert_rejected(&init, arch, "unexpected dynamic tag 0xc");
        let mut flags = b.clone();
        let at = dyn_value_at(&flags, 0x1e);
        flags[at] |= 0x10; // DF_STATIC_TLS
        assert_rejected(&flags, arch, "DT_FLAGS is 0x12");
        let mut twice = b.clone();
        patch_dyn_tag(&mut twice, 0x1e, 0xe /* a second DT_SONAME */);
        assert_rejected(&twice, arch, "dynamic tag DT_SONAME appears 2 times");
        let mut stack = b.clone();
        let note = phdr_of_type(&stack, 4);
        stack[note..note + 4].copy_from_slice(&0x6474_e551u32.to_le_bytes()); // PT_GNU_STACK
        assert_rejected(&stack, arch, "unexpected program header PT_GNU_STACK");
        let mut align = b.clone();
        let load = phdr_of_type(&align, 1);
        align[load + 48..load + 56].copy_from_slice(&0x1001u64.to_le_bytes());
        assert_rejected(&align, arch, "PT_LOAD p_align is 0x1001");
        let mut osabi = b.clone();
        osabi[7] = 9; // ELFOSABI_FREEBSD
        assert_rejected(&osabi, arch, "EI_OSABI 9");
        // riscv64 glibc refuses an object of another float ABI ("cannot open shared object").
        let mut flags = b.clone();
        flags[0x30] ^= 0x4; // EF_RISCV_FLOAT_ABI_DOUBLE, or a stray bit on x86_64
        assert_rejected(&flags, arch, "e_flags is");
    });
}

#[test]
fn broken_hash_chains_are_rejected() {
    each_image(|arch, b| {
        let hash = dyn_value(&b, 4);
        let nbucket = u32_at(&b, hash) as usize;
        let chains = hash + 8 + 4 * nbucket;
        // A chain that loops back on itself: Go's lookup of a name on it never ends.
        let mut looped = b.clone();
        let first = (0..nbucket).map(|k| u32_at(&b, hash + 8 + 4 * k)).find(|&i| i != 0).unwrap() as usize;
        put_u32(&mut looped, chains + 4 * first, first as u32);
        assert_rejected(&looped, arch, "DT_HASH's chains loop or cross");
        // A GNU chain word that is not the name's hash: glibc skips the symbol (only where the
        // image has DT_GNU_HASH; see each_image_with_gnu_hash).
        if arch.hash_style().has_gnu() {
            let gnu = dyn_value(&b, 0x6fff_fef5);
            let (nb, symoffset, words) =
                (u32_at(&b, gnu) as usize, u32_at(&b, gnu + 4) as usize, u32_at(&b, gnu + 8) as usize);
            let mut word = b.clone();
            let at = gnu + 16 + 8 * words + 4 * nb + 4 * (1 - symoffset.min(1)); // entry max(symoffset, 1)
            word[at + 1] ^= 0x10;
            assert_rejected(&word, arch, "DT_GNU_HASH chain word");
        }
        // A version chain longer than DT_VERDEFNUM says.
        let mut num = b.clone();
        let at = dyn_value_at(&num, 0x6fff_fffd);
        num[at..at + 8].copy_from_slice(&1u64.to_le_bytes());
        assert_rejected(&num, arch, "walking vd_next from DT_VERDEF (as glibc, musl and Go do) finds 2");
    });
}

// --- What the exported symbols point at: disjoint code, the exact sigreturn words, and unwind
// --- tables an unwinder can use (each mutation is of the committed image's bytes).

/// The message of the one violation that contains every one of `needles`.
fn assert_rejected_naming(bytes: &[u8], arch: Arch, needles: &[&str]) {
    let v = violations(bytes, arch, Stage::Stripped);
    assert!(
        v.iter().any(|m| needles.iter().all(|n| m.contains(n))),
        "{arch:?}: expected a violation naming all of {needles:?}, got {v:#?}"
    );
}

/// `(st_value, st_size)` of the `.dynsym` entry named `name`.
fn symbol(b: &[u8], name: &str) -> (u64, u64) {
    let at = dynsym_entry(b, name);
    (u64_at(b, at + 8), u64_at(b, at + 16))
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn overlapping_exports_are_rejected() {
    each_image(|arch, b| {
        let (gtod_name, getres_name) = (name(arch, "gettimeofday"), name(arch, "clock_getres"));
        // The reviewer's case: __vdso_clock_getres moved onto __vdso_gettimeofday (in the
        // riscv64 image of ABI revision 1 one flipped bit of st_value, 0x9c0 -> 0x8c0; since
        // revision 2 the ChaCha20 function before them moves both, 0x300 apart).
        let (gtod, _) = symbol(&b, &gtod_name);
        let (getres, getres_size) = symbol(&b, &getres_name);
        assert_ne!(getres, gtod);
        let mut moved = b.clone();
        put_u64(&mut moved, dynsym_entry(&b, &getres_name) + 8, gtod);
        assert_rejected_naming(&moved, arch, &[&gtod_name, &getres_name, "overlaps"]);

        // A size grown 8 bytes into the next export by address.
        let next = Image::get(arch)
            .symbols()
            .iter()
            .filter(|s| s.offset > getres)
            .min_by_key(|s| s.offset)
            .copied()
            .expect("an export after __vdso_clock_getres");
        let mut grown = b.clone();
        let size = next.offset - getres + 8;
        assert!(size > getres_size);
        put_u64(&mut grown, dynsym_entry(&b, &getres_name) + 16, size);
        assert_rejected_naming(&grown, arch, &[&getres_name, next.name, "overlaps"]);
    });
}

#[test]
fn an_alias_with_another_size_is_an_overlap() {
    // Only x86_64 exports aliases (riscv64 has none); the shipped x86_64 image, whose aliases
    // share value and size with their __vdso_ names, passes `the_shipped_images_pass`.
    let mut b = Image::get(Arch::X86_64).bytes().to_vec();
    let alias = dynsym_entry(&b, "clock_gettime");
    let (value, size) = symbol(&b, "__vdso_clock_gettime");
    assert_eq!(symbol(&b, "clock_gettime"), (value, size));
    put_u64(&mut b, alias + 16, size - 1);
    assert_rejected_naming(&b, Arch::X86_64, &["__vdso_clock_gettime", "clock_gettime at", "overlaps"]);
}

#[test]
fn the_riscv64_sigreturn_words_are_li_a7_139_and_ecall() {
    let s = Arch::Riscv64.info().sigreturn.expect("riscv64 exports __vdso_rt_sigreturn");
    // addi rd, rs1, imm (I-type, opcode OP-IMM 0x13, funct3 0): `li a7, 139` is addi x17, x0, 139.
    let addi = |rd: u32, rs1: u32, imm: u32| (imm << 20) | (rs1 << 15) | (rd << 7) | 0x13;
    assert_eq!(s.words, [addi(17, 0, 139), 0x73 /* ecall: SYSTEM opcode, all else 0 */]);
    assert!(Arch::X86_64.info().sigreturn.is_none(), "x86_64's C library supplies its own restorer");
}

#[test]
fn a_sigreturn_other_than_the_exact_words_is_rejected() {
    let checked = std::cell::Cell::new(0);
    each_image(|arch, b| {
        // The replacements below are riscv64 encodings (aarch64's trampoline has its own test).
        if arch != Arch::Riscv64 {
            return;
        }
        let want = arch.info().sigreturn.expect("riscv64 exports a sigreturn");
        let (value, _) = symbol(&b, want.symbol);
        let at = value as usize;
        assert_eq!(u32_at(&b, at), want.words[0], "the committed image has the words at the symbol");
        for (word, replacement, what) in [
            (0, 0x08c0_0893, "li a7, 140"),
            (0, 0x0000_0013, "nop"),
            (1, 0x0000_0013, "nop for ecall"),
            (1, 0x0010_0073, "ebreak"),
        ] {
            let mut patched = b.clone();
            put_u32(&mut patched, at + 4 * word, replacement);
            let mut shown = want.words.to_vec();
            shown[word] = replacement;
            let shown = format!("{:#010x} {:#010x}", shown[0], shown[1]);
            assert!(
                violations(&patched, arch, Stage::Stripped)
                    .iter()
                    .any(|m| m.contains(want.symbol) && m.contains(&shown) && m.contains("expected exactly")),
                "{arch:?}: {what} not rejected"
            );
        }
        // The symbol moved one instruction back, onto the nop before the words (inside its FDE).
        let mut moved = b.clone();
        put_u64(&mut moved, dynsym_entry(&b, want.symbol) + 8, value - 4);
        assert_rejected_naming(&moved, arch, &[want.symbol, "expected exactly"]);
        checked.set(checked.get() + 1);
    });
    assert_eq!(checked.get(), 1, "riscv64's sigreturn was checked");
}

/// `(file offset = address, size)` of the section named `name`.
fn section_named(b: &[u8], name: &str) -> (usize, usize) {
    let elf = Elf::parse(b).expect("parse");
    let sh =
        elf.section_headers.iter().find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name)).expect(name);
    assert_eq!(sh.sh_offset, sh.sh_addr);
    (sh.sh_offset as usize, sh.sh_size as usize)
}

/// The `.eh_frame_hdr` of the committed image, checked to use the encodings lld writes (which
/// the mutations below rely on): version 1, eh_frame_ptr `pcrel|sdata4`, fde_count `udata4`,
/// table `datarel|sdata4`; entries of (initial location, FDE address) start at byte 12.
fn eh_frame_hdr(b: &[u8]) -> usize {
    let (hdr, _) = section_named(b, ".eh_frame_hdr");
    assert_eq!(hdr, u64_at(b, phdr_of_type(b, 0x6474_e550) + 16) as usize, "PT_GNU_EH_FRAME");
    assert_eq!(b[hdr..hdr + 4], [1, 0x1b, 0x03, 0x3b]);
    hdr
}

#[test]
fn a_broken_eh_frame_hdr_is_rejected() {
    each_image(|arch, b| {
        let hdr = eh_frame_hdr(&b);
        // The reviewer's image: version 7 and a zeroed eh_frame_ptr.
        let mut both = b.clone();
        both[hdr] = 7;
        put_u32(&mut both, hdr + 4, 0);
        assert_rejected(&both, arch, ".eh_frame_hdr at");
        assert_rejected(&both, arch, "has version 7, expected 1");
        // Each alone.
        let mut ptr = b.clone();
        put_u32(&mut ptr, hdr + 4, 0);
        assert_rejected_naming(&ptr, arch, &["eh_frame_ptr", "but .eh_frame is at"]);
        let mut enc = b.clone();
        enc[hdr + 1] = 0x1c; // pcrel|sdata8: reads 8 bytes, not the section's address
        assert_rejected(&enc, arch, "eh_frame_ptr (encoding 0x1c)");
    });
}

#[test]
fn an_eh_frame_hdr_table_that_misleads_an_unwinder_is_rejected() {
    each_image(|arch, b| {
        let hdr = eh_frame_hdr(&b);
        let (eh, _) = section_named(&b, ".eh_frame");
        let count = u32_at(&b, hdr + 8);
        let entry = |i: usize| hdr + 12 + 8 * i;

        let mut fewer = b.clone();
        put_u32(&mut fewer, hdr + 8, count - 1);
        assert_rejected(
            &fewer,
            arch,
            &format!("fde_count is {}, but .eh_frame holds {count} FDEs", count - 1),
        );
        assert_rejected(&fewer, arch, "is not in .eh_frame_hdr's table");

        let mut more = b.clone();
        put_u32(&mut more, hdr + 8, count + 1); // past the end of PT_GNU_EH_FRAME
        assert_rejected(&more, arch, "cannot be read inside PT_GNU_EH_FRAME");

        let mut unsorted = b.clone();
        unsorted.copy_within(entry(0)..entry(1), entry(count as usize)); // scratch past the table
        unsorted.copy_within(entry(1)..entry(2), entry(0));
        unsorted.copy_within(entry(count as usize)..entry(count as usize + 1), entry(1));
        unsorted[entry(count as usize)..entry(count as usize + 1)]
            .copy_from_slice(&b[entry(count as usize)..entry(count as usize + 1)]);
        assert_rejected(&unsorted, arch, "table is not sorted by initial location");

        let mut outside = b.clone();
        put_u32(&mut outside, entry(0) + 4, 0); // datarel: the header itself
        assert_rejected(&outside, arch, &format!("points at {hdr:#x}, outside .eh_frame"));

        let mut inside = b.clone();
        let fde = u32_at(&b, entry(0) + 4) as i32 as i64 + hdr as i64;
        assert!(fde as usize > eh);
        put_u32(&mut inside, entry(0) + 4, u32_at(&b, entry(0) + 4) + 4);
        assert_rejected(&inside, arch, &format!("points at {:#x}, which is no FDE", fde + 4));

        let mut location = b.clone();
        put_u32(&mut location, entry(0), u32_at(&b, entry(0)) - 2);
        assert_rejected(&location, arch, "entry 0 of .eh_frame_hdr's table gives initial location");
    });
}

#[test]
fn an_export_outside_every_fde_is_rejected() {
    use gimli::{BaseAddresses, CieOrFde, EhFrame, LittleEndian, UnwindSection};
    each_image(|arch, b| {
        // The sigreturn above all (libgcc needs its signal-frame FDE); x86_64 has none.
        let name = arch.info().sigreturn.map_or("__vdso_clock_gettime", |s| s.symbol);
        let (value, _) = symbol(&b, name);
        let (eh, size) = section_named(&b, ".eh_frame");
        let bases = BaseAddresses::default().set_eh_frame(eh as u64);
        let frame = EhFrame::new(&b[eh..eh + size], LittleEndian);
        let mut entries = frame.entries(&bases);
        let mut range_at = None;
        while let Some(entry) = entries.next().expect("the committed .eh_frame decodes") {
            if let CieOrFde::Fde(partial) = entry {
                let fde = partial.parse(|s, b, o| s.cie_from_offset(b, o)).expect("FDE");
                if fde.contains(value) {
                    // length, CIE pointer, pc_begin (pcrel|sdata4), then pc_range (sdata4).
                    let at = eh + fde.offset() + 12;
                    assert_eq!(u32_at(&b, at) as u64, fde.len(), "pc_range where expected");
                    range_at = Some((at, value - fde.initial_address()));
                }
            }
        }
        let (at, before) = range_at.expect("an FDE covers the export in the committed image");
        let mut shrunk = b.clone();
        put_u32(&mut shrunk, at, before as u32 + 2); // ends inside the function
        assert_rejected_naming(&shrunk, arch, &[name, "is not covered by an FDE in .eh_frame"]);
    });
}

#[test]
fn an_empty_export_or_one_running_out_of_the_code_is_rejected() {
    each_image(|arch, b| {
        let export = name(arch, "clock_getres");
        let at = dynsym_entry(&b, &export);
        let (value, _) = symbol(&b, &export);
        let mut empty = b.clone();
        put_u64(&mut empty, at + 16, 0);
        assert_rejected(&empty, arch, &format!("{export} at {value:#x}+0 is empty"));
        // Grown to run past the end of .text (still inside the file).
        let (text, text_size) = section_named(&b, ".text");
        let mut long = b.clone();
        put_u64(&mut long, at + 16, (text + text_size) as u64 - value + 4);
        assert_rejected_naming(&long, arch, &[&export, "lies outside its section .text"]);
    });
}

#[test]
fn other_valid_eh_frame_hdr_encodings_are_decoded_not_refused() {
    // The header rewritten with absolute `udata4` pointers (0x03) for eh_frame_ptr and the
    // table: the same addresses in another encoding, which an unwinder reads just as well.
    each_image(|arch, mut b| {
        let hdr = eh_frame_hdr(&b);
        let (eh, _) = section_named(&b, ".eh_frame");
        let count = u32_at(&b, hdr + 8) as usize;
        b[hdr + 1] = 0x03;
        put_u32(&mut b, hdr + 4, eh as u32);
        b[hdr + 3] = 0x03;
        for i in 0..2 * count {
            let at = hdr + 12 + 4 * i;
            let absolute = (u32_at(&b, at) as i32 as i64 + hdr as i64) as u32;
            put_u32(&mut b, at, absolute);
        }
        assert_eq!(violations(&b, arch, Stage::Stripped), Vec::<String>::new(), "{arch:?}");
    });
}

#[test]
fn a_signal_trampoline_that_is_not_exactly_its_words_is_rejected() {
    each_image(|arch, mut b| {
        let Some(tramp) = arch.info().sigreturn else { return };
        let sym = Image::get(arch).symbol(tramp.symbol).expect("trampoline");
        let at = sym.offset as usize + 4;
        b[at] ^= 1; // the syscall instruction's first byte
        assert_rejected(&b, arch, &format!("{} is ", tramp.symbol));
        assert_rejected(&b, arch, "unwinders recognise these words");
    });
    // riscv64 and aarch64 have trampolines, so the loop above checked both.
    assert!(Arch::ALL.iter().filter(|a| a.info().sigreturn.is_some()).count() >= 2);
}
