//! The library selects images by row of the variant table (architecture, profile, page size),
//! and each embedded image says its row: in its layout note, its `p_align`, and its C header.

use linux_vdso::elf::ElfImage;
use linux_vdso::{abi, Arch, Image, Profile, Variant};

#[test]
fn one_image_per_row_in_table_order() {
    let all = Image::all();
    assert_eq!(all.len(), abi::VARIANTS.len());
    for (image, row) in all.iter().zip(abi::VARIANTS) {
        assert_eq!(image.variant(), row);
        assert_eq!(
            (image.arch(), image.profile(), image.page_size()),
            (row.arch, row.profile, row.page_size)
        );
        // Mappable in place with pages of its own size.
        assert_eq!(image.bytes().as_ptr() as usize % image.page_size(), 0, "{row}");
        assert_eq!(image.pages(), image.load_size().div_ceil(row.page_size));
        assert_eq!(image.data_pages(), row.data_pages());
    }
}

#[test]
fn find_returns_the_row_asked_for_and_none_for_an_unbuilt_one() {
    for arch in Arch::ALL {
        let d = Image::get(arch);
        assert_eq!(d.variant(), Variant::default_for(arch));
        let found = Image::find(arch, Profile::Classic, d.page_size()).expect("the default row");
        assert_eq!(found.bytes().as_ptr(), d.bytes().as_ptr());
        // No row has 8 KiB pages: nothing is returned rather than a wrong image.
        assert!(Image::find(arch, Profile::Classic, 8192).is_none());
    }
}

#[test]
fn each_image_states_its_page_size_and_profile() {
    for image in Image::all() {
        let v = image.variant();
        let parsed = ElfImage::parse(image.bytes()).unwrap();
        let note = parsed.layout_note().expect("our note");
        assert_eq!((note.page_size as usize, note.profile), (v.page_size, v.profile.note_value()), "{v}");
        assert!(parsed.loads().all(|l| l.align == v.page_size as u64), "{v}");
        let h = image.c_header();
        assert!(h.contains(&format!("#define VDSO_PAGE_SIZE {}\n", v.page_size)), "{h}");
        assert!(h.contains(&format!("#define VDSO_PROFILE \"{}\"\n", v.profile)), "{h}");
    }
}

// Run from the x86_64 build (the host's gcc): the headers are plain LP64 C, the same on every
// architecture of the table.
#[cfg(target_arch = "x86_64")]
#[test]
fn every_c_header_compiles_and_its_layout_asserts_hold() {
    use std::io::Write;
    for image in Image::all() {
        let mut gcc = std::process::Command::new("gcc")
            .args(["-fsyntax-only", "-std=c11", "-Wall", "-Werror", "-x", "c", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("gcc");
        gcc.stdin.take().unwrap().write_all(image.c_header().as_bytes()).unwrap();
        assert!(
            gcc.wait().unwrap().success(),
            "{}: the C header does not compile:\n{}",
            image.variant(),
            image.c_header()
        );
        if image.variant().profile == Profile::Modern {
            assert!(image.c_header().contains("struct vdso_time_data"), "{}", image.variant());
        }
        // riscv64's hwprobe answers: 6.8's 7 inside `vdso_data`, 6.18's 15 on the arch page.
        let keys = image.variant().hwprobe_keys();
        assert!(
            image.c_header().contains(&format!("#define VDSO_HWPROBE_KEYS {keys}\n")),
            "{}",
            image.variant()
        );
        assert_eq!(
            image.c_header().contains("struct vdso_arch_data {"),
            keys > 0 && image.variant().profile == Profile::Modern,
            "{}",
            image.variant()
        );
        // loongarch64's per-CPU page (getcpu's nodes), in every profile and page size: its page,
        // how many CPUs it serves, and the stride.
        let pcpu = image.variant().pcpu_page().map(|p| format!("#define VDSO_PCPU_PAGE {p} "));
        assert_eq!(
            image.c_header().contains("#define VDSO_PCPU_PAGE"),
            pcpu.is_some(),
            "{}",
            image.variant()
        );
        if let Some(line) = pcpu {
            let header = image.c_header();
            assert!(header.contains(&line), "{}: {header}", image.variant());
            assert!(header.contains(&format!("#define VDSO_NR_CPUS {} ", abi::loongarch64::NR_CPUS)));
            assert!(header.contains("struct vdso_pcpu_data { uint32_t node; }"), "{}", image.variant());
        }
    }
    let la = Image::find(Arch::Loongarch64, Profile::Modern, 16384).expect("loongarch64-modern");
    assert!(la.c_header().contains("#define VDSO_PCPU_PAGE 3 "), "{}", la.c_header());
    for page_size in [16384, 4096] {
        let la = Image::find(Arch::Loongarch64, Profile::Classic, page_size).expect("loongarch64 classic");
        assert!(la.c_header().contains("#define VDSO_PCPU_PAGE 2 "), "{}", la.c_header());
    }
    let riscv = Image::find(Arch::Riscv64, Profile::Modern, 4096).expect("riscv64-modern");
    assert_eq!(riscv.variant().hwprobe_keys(), 15, "Linux 6.18: RISCV_HWPROBE_MAX_KEY 14");
}

/// `.cargo/config.toml` runs each emulated row's test binaries under the row's qemu, and under
/// `setarch -R` exactly where the row says `fixed_layout` (the runner is not read from the table,
/// so this keeps the two in step).
#[test]
fn each_emulated_rows_cargo_runner_is_its_qemu_as_the_row_says() {
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.cargo/config.toml")).unwrap();
    for arch in Arch::ALL.into_iter().filter(|a| *a != Arch::X86_64) {
        let emu = arch.info().emulation;
        let section = format!("[target.{}]", arch.linux_target());
        let body =
            config.split(&section).nth(1).unwrap_or_else(|| panic!("no {section} in .cargo/config.toml"));
        let body = body.split("\n[").next().unwrap();
        let runner = body.lines().find_map(|l| l.strip_prefix("runner = ")).expect("a runner");
        let fixed = runner.starts_with(r#"["setarch", "-R", "#);
        assert_eq!(fixed, emu.fixed_layout, "{arch:?}: runner {runner}");
        assert!(runner.contains(&format!("\"{}", emu.qemu)), "{arch:?}: runner {runner} runs {}", emu.qemu);
    }
}
