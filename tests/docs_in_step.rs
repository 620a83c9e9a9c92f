//! The documents quote facts the code owns: the README's `objdump -T` output of both images and
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
    let (rv, x86) = (Arch::Riscv64, Arch::X86_64);
    assert_eq!(row("DATA_PAGES")[1..], [rv.data_pages().to_string(), x86.data_pages().to_string()]);
    assert_eq!(
        row("VDSO_DATA_OFFSET")[1..],
        [rv.vdso_data_offset().to_string(), x86.vdso_data_offset().to_string()]
    );
    assert_eq!(row("TIMENS_PAGE")[1..], [rv.timens_page().to_string(), x86.timens_page().to_string()]);
    assert_eq!(
        row("size_of::<VdsoData>()")[1..],
        [rv.vdso_data_size().to_string(), x86.vdso_data_size().to_string()]
    );
}
