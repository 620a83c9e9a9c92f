//! Re-checks every structural promise of the shipped images with `goblin`, an ELF reader
//! independent of the `object`-based verifier the build uses: if the build's verifier had a
//! blind spot, this would catch it.

use goblin::elf::dynamic::*;
use goblin::elf::header::ET_DYN;
use goblin::elf::program_header::*;
use goblin::elf::sym::{STB_GLOBAL, STB_WEAK, STT_FUNC};
use goblin::elf::Elf;
use linux_vdso::{Arch, Image};

fn parse(arch: Arch) -> Elf<'static> {
    Elf::parse(Image::get(arch).bytes()).expect("goblin parses the image")
}

#[test]
fn images_are_64_bit_little_endian_shared_objects_for_their_machine() {
    for arch in Arch::ALL {
        let elf = parse(arch);
        assert!(elf.is_64, "{arch:?}");
        assert!(elf.little_endian, "{arch:?}");
        assert_eq!(elf.header.e_type, ET_DYN, "{arch:?}");
        assert_eq!(elf.header.e_machine, arch.e_machine(), "{arch:?}");
    }
}

#[test]
fn exactly_one_read_execute_load_at_zero_fitting_two_pages() {
    for arch in Arch::ALL {
        let elf = parse(arch);
        let loads: Vec<_> = elf.program_headers.iter().filter(|p| p.p_type == PT_LOAD).collect();
        assert_eq!(loads.len(), 1, "{arch:?}");
        let l = loads[0];
        assert_eq!((l.p_offset, l.p_vaddr), (0, 0), "{arch:?}");
        assert_eq!(l.p_filesz, l.p_memsz, "{arch:?}");
        assert_eq!(l.p_flags, PF_R | PF_X, "{arch:?}");
        // Two pages since getrandom (ABI revision 2; Linux's own x86_64 image is two).
        assert!(l.p_memsz <= 2 * 4096, "{arch:?}: {} bytes", l.p_memsz);
        assert_eq!(l.p_memsz as usize, Image::get(arch).load_size(), "{arch:?}");
        assert!(elf.program_headers.iter().all(|p| p.p_flags & PF_W == 0), "{arch:?}: writable segment");
    }
}

#[test]
fn dynamic_note_and_eh_frame_segments_present_interp_tls_relro_absent() {
    for arch in Arch::ALL {
        let elf = parse(arch);
        let has = |t| elf.program_headers.iter().any(|p| p.p_type == t);
        assert!(has(PT_DYNAMIC) && has(PT_NOTE) && has(PT_GNU_EH_FRAME), "{arch:?}");
        assert!(!has(PT_INTERP) && !has(PT_TLS) && !has(PT_GNU_RELRO), "{arch:?}");
    }
}

#[test]
fn no_relocations_of_any_kind_and_the_rows_hash_tables() {
    for arch in Arch::ALL {
        let elf = parse(arch);
        let dynamic = elf.dynamic.as_ref().expect("dynamic section");
        let tags: Vec<u64> = dynamic.dyns.iter().map(|d| d.d_tag).collect();
        for bad in [DT_REL, DT_RELA, DT_RELSZ, DT_RELASZ, DT_JMPREL, DT_PLTRELSZ, DT_TEXTREL, 35, 36, 37] {
            assert!(!tags.contains(&bad), "{arch:?} has dynamic tag {bad}");
        }
        // DT_HASH always; DT_GNU_HASH exactly where the row says both (aarch64 links
        // --hash-style=sysv, as Linux's arm64 vDSO, so Go 1.19 finds its symbols: golang/go#62309).
        assert!(tags.contains(&DT_HASH), "{arch:?}");
        assert_eq!(tags.contains(&DT_GNU_HASH), arch.hash_style().has_gnu(), "{arch:?}");
        assert!(elf.dynrelas.is_empty() && elf.dynrels.is_empty() && elf.pltrelocs.is_empty(), "{arch:?}");
        assert_eq!(elf.soname, Some("linux-vdso.so.1"), "{arch:?}");
    }
}

/// Where the row says DT_HASH only, the table has one bucket: Go 1.19's arm64 runtime brings the
/// SysV hash of another name (golang/go#62309) and compares names only along that hash's chain,
/// so with more buckets it can miss `__kernel_clock_gettime` (lld's one bucket per symbol did).
#[test]
fn a_sysv_only_image_has_one_hash_bucket_so_any_hash_finds_every_name() {
    for arch in Arch::ALL.into_iter().filter(|a| !a.hash_style().has_gnu()) {
        let elf = parse(arch);
        let hash =
            elf.dynamic.as_ref().unwrap().dyns.iter().find(|d| d.d_tag == DT_HASH).unwrap().d_val as usize;
        let bytes = Image::get(arch).bytes();
        let nbucket = u32::from_le_bytes(bytes[hash..hash + 4].try_into().unwrap());
        assert_eq!(nbucket, 1, "{arch:?}");
    }
}

#[test]
fn verdef_has_soname_base_then_the_arch_version_with_its_elf_hash() {
    for (arch, hash) in [(Arch::X86_64, 0x03ae_75f6u32), (Arch::Riscv64, 0x0ae7_7f75)] {
        let elf = parse(arch);
        let verdef = elf.verdef.as_ref().expect("verdef");
        let defs: Vec<_> = verdef.iter().collect();
        assert_eq!(defs.len(), 2, "{arch:?}");
        let name = |d: &goblin::elf::symver::Verdef| {
            let aux = d.iter().next().expect("verdaux");
            elf.dynstrtab.get_at(aux.vda_name).expect("name").to_string()
        };
        assert_eq!(defs[0].vd_flags & 1, 1, "{arch:?}: base flag");
        assert_eq!(name(&defs[0]), "linux-vdso.so.1");
        assert_eq!(name(&defs[1]), arch.version_node());
        assert_eq!((defs[1].vd_ndx, defs[1].vd_hash, defs[1].vd_version), (2, hash, 1), "{arch:?}");
    }
}

#[test]
fn dynsym_is_exactly_the_abi_symbol_set_functions_at_version_2() {
    for arch in Arch::ALL {
        let elf = parse(arch);
        let versym = elf.versym.as_ref().expect("versym");
        let mut seen = Vec::new();
        for (i, sym) in elf.dynsyms.iter().enumerate().skip(1) {
            let name = elf.dynstrtab.get_at(sym.st_name).expect("name");
            let export = arch.exports().iter().find(|e| e.name == name);
            let export = export.unwrap_or_else(|| panic!("{arch:?}: unexpected symbol {name}"));
            assert_eq!(sym.st_type(), STT_FUNC, "{name}");
            assert_eq!(sym.st_bind(), if export.weak { STB_WEAK } else { STB_GLOBAL }, "{name}");
            assert_ne!(sym.st_shndx, 0, "{name} undefined");
            assert!(sym.st_size > 0, "{name}");
            assert_eq!(versym.get_at(i).expect("versym entry").vs_val, 2, "{name}");
            let table = Image::get(arch).symbol(name).expect("generated table has it");
            assert_eq!((table.offset, table.size), (sym.st_value, sym.st_size), "{name}");
            seen.push(name.to_string());
        }
        let mut want: Vec<_> = arch.exports().iter().map(|e| e.name.to_string()).collect();
        seen.sort();
        want.sort();
        assert_eq!(seen, want, "{arch:?}");
    }
}

#[test]
fn x86_64_weak_aliases_point_at_their_prefixed_functions() {
    let image = Image::get(Arch::X86_64);
    let aliases: Vec<_> = Arch::X86_64.exports().iter().filter(|e| e.weak).collect();
    assert_eq!(aliases.len(), 6, "clock_gettime, gettimeofday, time, clock_getres, getcpu, getrandom");
    for e in aliases {
        let alias = image.symbol(e.name).expect("alias");
        let target = image.symbol(&format!("__vdso_{}", e.name)).expect("target");
        assert_eq!(alias.offset, target.offset, "{}", e.name);
        assert!(alias.weak && !target.weak, "{}: the alias weak, the function global", e.name);
    }
}

#[test]
fn notes_linux_version_build_id_and_layout() {
    for arch in Arch::ALL {
        let elf = parse(arch);
        let bytes = Image::get(arch).bytes();
        let notes: Vec<_> =
            elf.iter_note_headers(bytes).expect("notes").map(|n| n.expect("well-formed note")).collect();
        let linux = notes.iter().find(|n| n.name == "Linux" && n.n_type == 0).expect("Linux note");
        let code = u32::from_le_bytes(linux.desc.try_into().expect("4-byte Linux note"));
        assert_eq!(code, arch.linux_version_code(), "{arch:?}");
        let build_id = notes.iter().find(|n| n.name == "GNU" && n.n_type == 3).expect("build-id");
        assert_eq!(build_id.desc.len(), 20, "sha1 build-id");
        let ours = notes.iter().find(|n| n.name == "rs-vdso" && n.n_type == 1).expect("layout note");
        let words: Vec<u32> =
            ours.desc.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("word"))).collect();
        assert_eq!(
            words[..5],
            [
                vdso_abi::ABI_REVISION,
                arch.data_pages() as u32,
                arch.vdso_data_offset() as u32,
                arch.vdso_data_size() as u32,
                arch.hwprobe_keys() as u32
            ],
            "{arch:?}"
        );
        assert_eq!(words[5], Image::get(arch).hz());
        assert_eq!(words.len(), 9, "{arch:?}: revision 2's nine words");
        assert_eq!(words[6], Image::get(arch).page_size() as u32, "{arch:?}: page size");
        // From the data start: the row's RNG page (loongarch64: its per-CPU page 2) in pages of
        // the image's size, plus the offset in it.
        let page_size = Image::get(arch).page_size();
        assert_eq!(
            words[8],
            arch.rng_data_offset().map_or(0, |o| (arch.rng_data_page() * page_size + o) as u32),
            "{arch:?}: vdso_rng_data offset"
        );
    }
}

#[test]
fn section_headers_kept_and_nothing_writable_or_relocating() {
    use goblin::elf::section_header::*;
    for arch in Arch::ALL {
        let elf = parse(arch);
        assert!(elf.section_headers.len() > 5, "{arch:?}: section headers kept");
        for sh in &elf.section_headers {
            let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?");
            assert_ne!(sh.sh_type, SHT_NOBITS, "{arch:?}: {name}");
            assert!(![SHT_REL, SHT_RELA].contains(&sh.sh_type), "{arch:?}: {name}");
            if sh.sh_type != SHT_DYNAMIC {
                assert!(sh.sh_flags & u64::from(SHF_WRITE) == 0, "{arch:?}: {name} writable");
            }
        }
        assert!(elf.syms.is_empty(), "{arch:?}: shipped image is stripped");
    }
}

#[test]
fn embedded_bytes_are_page_aligned_and_layout_constants_match_the_abi() {
    for arch in Arch::ALL {
        let image = Image::get(arch);
        assert_eq!(image.bytes().as_ptr() as usize % 4096, 0);
        // Revision 2's getrandom took the 4 KiB images past one page (Linux's x86_64 image is
        // two); loongarch64's 16 KiB page holds all of its image, getrandom included.
        let want = (image.load_size()).div_ceil(image.page_size());
        assert!(want <= 2, "{arch:?}: {want} pages");
        assert_eq!(want, if image.page_size() == 4096 { 2 } else { 1 }, "{arch:?}");
        assert_eq!(image.pages(), want, "{arch:?}");
        assert_eq!(image.pages(), want, "{arch:?}");
    }
    assert_eq!(
        (Image::get(Arch::X86_64).data_pages(), Image::get(Arch::X86_64).vdso_data_offset()),
        (4, 128)
    );
    assert_eq!(
        (Image::get(Arch::Riscv64).data_pages(), Image::get(Arch::Riscv64).vdso_data_offset()),
        (2, 0)
    );
    assert_eq!((Image::get(Arch::X86_64).timens_page(), Image::get(Arch::Riscv64).timens_page()), (3, 1));
}
