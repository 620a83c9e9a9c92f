//! The documents quote facts the code owns: the README's `objdump -T` output of every image and
//! docs/abi.md's layout table. These tests fail when an image or a constant changes and the
//! documents were not brought along (regenerate the README blocks from `images/`).

use linux_vdso::{Arch, Image};

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

/// `(name, offset, size)` of every symbol line of the `objdump -T` block for `arch`'s image.
fn objdump_block(readme: &str, arch: Arch) -> Vec<(String, u64, u64)> {
    let marker = format!("-T target/vdso/{}/linux-vdso.so.1\n", arch.name());
    let start = readme.find(&marker).unwrap_or_else(|| panic!("README has no objdump block for {arch:?}"));
    let block = &readme[start..];
    let block = &block[..block.find("```").expect("end of block")];
    block
        .lines()
        .filter(|l| l.contains(" DF .text"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let offset = u64::from_str_radix(f[0], 16).expect("offset");
            let size = u64::from_str_radix(f[f.len() - 3], 16).expect("size");
            (f[f.len() - 1].to_string(), offset, size)
        })
        .collect()
}

#[test]
fn the_readme_objdump_output_is_that_of_the_committed_images() {
    let readme = read("README.md");
    for arch in Arch::ALL {
        let image = Image::get(arch);
        let rows = objdump_block(&readme, arch);
        assert_eq!(rows.len(), image.symbols().len(), "{arch:?}: one line per symbol");
        for (name, offset, size) in rows {
            let sym =
                image.symbol(&name).unwrap_or_else(|| panic!("README names {name}, the image does not"));
            assert_eq!((offset, size), (sym.offset, sym.size), "{arch:?} {name}: README is stale");
        }
    }
}

#[test]
fn the_abi_document_states_the_constants_the_code_asserts() {
    let abi = read("docs/abi.md");
    let row = |name: &str| -> Vec<String> {
        let line = abi
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("{name} row"));
        line.split('|').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
    };
    // The table's columns, in the document's order.
    let header = abi.lines().find(|l| l.starts_with("| constant (`vdso_abi::<arch>::`)")).expect("header");
    let arches: Vec<Arch> = header
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .skip(1)
        .map(|name| Arch::from_name(name).unwrap_or_else(|| panic!("column {name}")))
        .collect();
    assert_eq!(arches.len(), Arch::ALL.len(), "one column per architecture");
    let values = |f: fn(Arch) -> usize| arches.iter().map(|&a| f(a).to_string()).collect::<Vec<_>>();
    assert_eq!(row("DATA_PAGES")[1..], values(Arch::data_pages));
    assert_eq!(row("VDSO_DATA_OFFSET")[1..], values(Arch::vdso_data_offset));
    assert_eq!(row("TIMENS_PAGE")[1..], values(Arch::timens_page));
    assert_eq!(row("size_of::<VdsoData>()")[1..], values(Arch::vdso_data_size));
}

#[test]
fn the_abi_document_states_the_modern_profiles_constants() {
    use linux_vdso::abi::modern;
    let abi = read("docs/abi.md");
    let header = "| constant (`vdso_abi::modern::<arch>::`) | x86_64 | aarch64 | riscv64 | loongarch64 |";
    let table = &abi[abi.find(header).expect("the modern constants table")..];
    let row = |name: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .unwrap_or_else(|| panic!("{name} row"));
        line.split('|').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).skip(1).collect()
    };
    let cols = [Arch::X86_64, Arch::Aarch64, Arch::Riscv64, Arch::Loongarch64].map(modern::of);
    let pair =
        |f: fn(&modern::ModernLayout) -> usize| cols.iter().map(|m| f(m).to_string()).collect::<Vec<_>>();
    assert_eq!(row("DATA_PAGES"), pair(|m| m.data_pages));
    assert_eq!(row("size_of::<Clock>()"), pair(|m| m.vdso_data_size));
    assert_eq!(row("offset_of!(TimeData, hrtimer_res)"), pair(|m| m.hrtimer_res_offset));
    assert_eq!(row("size_of::<TimeData>()"), pair(|m| m.time_data_size));
    // Every modern row of the variant table is in the document's table.
    for v in linux_vdso::abi::VARIANTS.iter().filter(|v| v.profile == linux_vdso::Profile::Modern) {
        assert!(abi.contains(&format!("| `{}` | {} | modern |", v.dir, v.arch.name())), "{v}");
    }
}

/// Section numbers cited as `abi.md section N` or `abi.md §N` in `text`.
fn abi_citations(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    for marker in ["abi.md section ", "abi.md §"] {
        for (at, _) in lower.match_indices(marker) {
            let rest = &lower[at + marker.len()..];
            let n: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            found.push(n);
        }
    }
    found
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_verifier_and_the_cli_cite_sections_docs_abi_md_has() {
    let abi = read("docs/abi.md");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("build.rs")];
    rust_files(&root.join("src"), &mut files);
    let mut cited = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for n in abi_citations(&text) {
            cited += 1;
            assert!(
                abi.lines().any(|l| l.starts_with(&format!("## {n}. "))),
                "{} cites section {n:?} of docs/abi.md, which has no such section",
                file.display()
            );
        }
    }
    assert!(cited > 0, "the citations were not found at all");
    // The verifier's own message names the section about the notes.
    let mut b = Image::get(Arch::X86_64).bytes().to_vec();
    let owner = b.windows(8).position(|w| w == b"rs-vdso\0").expect("layout note");
    b[owner] = b'R';
    let parsed = linux_vdso::elf::ElfImage::parse(&b).unwrap();
    let v = linux_vdso::verify::verify(
        &parsed,
        linux_vdso::Variant::default_for(Arch::X86_64),
        linux_vdso::verify::Stage::Stripped,
    );
    let msg = v.iter().find(|m| m.0.contains("layout note")).expect("a layout-note violation");
    assert!(msg.0.contains("docs/abi.md section 6"), "{msg}");
    assert!(abi.contains("## 6. The image describes itself"), "docs/abi.md section 6 is the notes");
}
