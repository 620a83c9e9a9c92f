//! The image verifier: every structural promise of ABI.md checked on the linked ELF.
//!
//! The linker cannot be told "no relocations" or "one read+execute segment"; it can only be
//! checked afterwards, as Linux's `vdso2c` does. The build script runs [`verify`] after every link
//! and fails the build naming each violation; tests run it on deliberately broken images to prove
//! each check can fail.

use std::fmt;
#[allow(unused_imports)] // the crate is no_std; the build script that includes this file is not
use std::{format, prelude::rust_2021::*, vec};

use object::elf;

use crate::elf::{ElfImage, PT_LOAD};
use crate::spec::{elf_hash, Arch, MAX_LOAD_SIZE, SONAME};

/// One broken promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the file still has its static symbol table (the build verifies the unstripped link,
/// then ships the stripped copy of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Straight from the linker: `.symtab` present, `vvar_start` checked.
    Unstripped,
    /// The shipped image: `.symtab` gone.
    Stripped,
}

/// Dynamic tags that mean the loader would have to relocate the image.
const RELOCATION_TAGS: &[(u32, &str)] = &[
    (elf::DT_REL, "DT_REL"),
    (elf::DT_RELA, "DT_RELA"),
    (elf::DT_RELSZ, "DT_RELSZ"),
    (elf::DT_RELASZ, "DT_RELASZ"),
    (elf::DT_RELENT, "DT_RELENT"),
    (elf::DT_RELAENT, "DT_RELAENT"),
    (elf::DT_RELCOUNT, "DT_RELCOUNT"),
    (elf::DT_RELACOUNT, "DT_RELACOUNT"),
    (36, "DT_RELR"),
    (35, "DT_RELRSZ"),
    (37, "DT_RELRENT"),
    (elf::DT_JMPREL, "DT_JMPREL"),
    (elf::DT_PLTRELSZ, "DT_PLTRELSZ"),
    (elf::DT_PLTREL, "DT_PLTREL"),
    (elf::DT_PLTGOT, "DT_PLTGOT"),
    (elf::DT_TEXTREL, "DT_TEXTREL"),
    (elf::DT_NEEDED, "DT_NEEDED"),
];

/// Checks `image` (the bytes of `parsed`) against everything ABI.md promises for `arch`.
/// Returns every violation found, empty when the image is good.
pub fn verify(parsed: &ElfImage, arch: Arch, stage: Stage) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut fail = |msg: String| v.push(Violation(msg));

    if parsed.machine != arch.e_machine() {
        fail(format!(
            "e_machine is {} ({}), expected {} for {}",
            parsed.machine,
            parsed.machine_name(),
            arch.e_machine(),
            arch.name()
        ));
    }

    // --- Program headers -------------------------------------------------------------------
    let loads: Vec<_> = parsed.loads().collect();
    if loads.len() != 1 {
        fail(format!("{} PT_LOAD segments, expected exactly one", loads.len()));
    }
    if let Some(load) = loads.first() {
        if load.offset != 0 || load.vaddr != 0 {
            fail(format!("PT_LOAD at offset {:#x}, vaddr {:#x}: expected both 0", load.offset, load.vaddr));
        }
        if load.filesz != load.memsz {
            fail(format!(
                "PT_LOAD filesz {:#x} != memsz {:#x} (a .bss would need zeroing)",
                load.filesz, load.memsz
            ));
        }
        if load.flags != elf::PF_R | elf::PF_X {
            fail(format!("PT_LOAD flags {:#x}, expected read+execute (5)", load.flags));
        }
        if load.memsz > MAX_LOAD_SIZE {
            fail(format!("loaded segment is {} bytes, more than one page ({MAX_LOAD_SIZE})", load.memsz));
        }
    }
    for s in &parsed.segments {
        if s.flags & elf::PF_W != 0 {
            fail(format!("segment of type {:#x} is writable", s.kind));
        }
    }
    let has = |kind: u32| parsed.segments.iter().any(|s| s.kind == kind);
    for (kind, name) in [
        (elf::PT_DYNAMIC, "PT_DYNAMIC"),
        (elf::PT_NOTE, "PT_NOTE"),
        (elf::PT_GNU_EH_FRAME, "PT_GNU_EH_FRAME"),
    ] {
        if !has(kind) {
            fail(format!("no {name} segment"));
        }
    }
    for (kind, name) in
        [(elf::PT_INTERP, "PT_INTERP"), (elf::PT_TLS, "PT_TLS"), (elf::PT_GNU_RELRO, "PT_GNU_RELRO")]
    {
        if has(kind) {
            fail(format!("{name} segment present"));
        }
    }
    for s in &parsed.segments {
        if s.kind != PT_LOAD && s.filesz > 0 {
            // Saturating: a corrupt offset or size near 2^64 must count as outside, not wrap.
            let inside = loads.iter().any(|l| {
                s.offset >= l.offset && s.offset.saturating_add(s.filesz) <= l.offset.saturating_add(l.filesz)
            });
            if !inside {
                fail(format!(
                    "segment of type {:#x} at {:#x} lies outside the loaded segment",
                    s.kind, s.offset
                ));
            }
        }
    }

    // --- Dynamic section ---------------------------------------------------------------------
    for &(tag, name) in RELOCATION_TAGS {
        if parsed.dyn_value(tag).is_some() {
            fail(format!("dynamic tag {name} present: the image would need relocating"));
        }
    }
    if parsed.dyn_value(elf::DT_FLAGS).is_some_and(|f| f & u64::from(elf::DF_TEXTREL) != 0) {
        fail("DT_FLAGS has DF_TEXTREL".into());
    }
    for (tag, name) in [
        (elf::DT_HASH, "DT_HASH"),
        (elf::DT_GNU_HASH, "DT_GNU_HASH"),
        (elf::DT_VERSYM, "DT_VERSYM"),
        (elf::DT_VERDEF, "DT_VERDEF"),
    ] {
        if parsed.dyn_value(tag).is_none() {
            fail(format!("no {name} (musl and Zig need DT_HASH, glibc DT_GNU_HASH, Go DT_VERDEF)"));
        }
    }
    if !parsed.dynamic_terminated {
        fail("the dynamic section has no DT_NULL inside PT_DYNAMIC".into());
    }
    // A libc finds everything through these tags, not through the section headers this
    // verifier reads the symbols from: each must name exactly its section.
    for (tag, name, kind, size_tag) in [
        (elf::DT_SYMTAB, "DT_SYMTAB", elf::SHT_DYNSYM, None),
        (elf::DT_STRTAB, "DT_STRTAB", elf::SHT_STRTAB, Some((elf::DT_STRSZ, "DT_STRSZ"))),
        (elf::DT_HASH, "DT_HASH", elf::SHT_HASH, None),
        (elf::DT_GNU_HASH, "DT_GNU_HASH", elf::SHT_GNU_HASH, None),
        (elf::DT_VERSYM, "DT_VERSYM", elf::SHT_GNU_VERSYM, None),
        (elf::DT_VERDEF, "DT_VERDEF", elf::SHT_GNU_VERDEF, None),
    ] {
        let Some(value) = parsed.dyn_value(tag) else {
            if tag == elf::DT_SYMTAB || tag == elf::DT_STRTAB {
                fail(format!("no {name}"));
            }
            continue; // the missing ones that matter are reported above
        };
        // DT_STRTAB must be the dynamic string table, not `.shstrtab` or `.strtab`.
        let section = parsed.sections.iter().find(|s| s.kind == kind && s.addr == value && s.addr != 0);
        match (section, size_tag) {
            _ if parsed.sections.is_empty() => {} // nothing to compare with
            (None, _) => fail(format!("{name} is {value:#x}, which is no section of its kind")),
            (Some(s), Some((size_tag, size_name))) if parsed.dyn_value(size_tag) != Some(s.size) => {
                fail(format!(
                    "{size_name} is {}, but the string table at {value:#x} has {} bytes",
                    shown(parsed.dyn_value(size_tag)),
                    s.size
                ))
            }
            _ => {}
        }
        if value >= parsed.load_size() {
            fail(format!("{name} is {value:#x}, outside the loaded image"));
        }
    }
    if parsed.dyn_value(elf::DT_SYMENT).is_some_and(|n| n != 24) {
        fail(format!("DT_SYMENT is {}, expected 24", shown(parsed.dyn_value(elf::DT_SYMENT))));
    }
    let verdefs = parsed.version_defs.len() as u64;
    if parsed.dyn_value(elf::DT_VERDEFNUM) != Some(verdefs) {
        fail(format!(
            "DT_VERDEFNUM is {}, but there are {verdefs} version definitions",
            shown(parsed.dyn_value(elf::DT_VERDEFNUM))
        ));
    }
    match &parsed.soname {
        Some(s) if s == SONAME => {}
        Some(s) => fail(format!("DT_SONAME is {s:?}, expected {SONAME:?}")),
        None if parsed.dyn_value(elf::DT_SONAME).is_some() => {
            fail("DT_SONAME names no string inside DT_STRTAB/DT_STRSZ".into())
        }
        None => fail("no DT_SONAME".into()),
    }

    // --- Version definitions -----------------------------------------------------------------
    let node = arch.version_node();
    match parsed.version_defs.as_slice() {
        [base, def] => {
            if base.flags & elf::VER_FLG_BASE == 0 || base.index != 1 || base.name != SONAME {
                fail(format!(
                    "first verdef is {:?} (index {}, flags {}), expected the base entry {SONAME:?}",
                    base.name, base.index, base.flags
                ));
            }
            if base.hash != elf_hash(base.name.as_bytes()) {
                fail(format!(
                    "verdef {:?} has hash {:#x}, expected {:#x}",
                    base.name,
                    base.hash,
                    elf_hash(base.name.as_bytes())
                ));
            }
            if def.name != node || def.index != 2 || def.flags != 0 {
                fail(format!(
                    "second verdef is {:?} (index {}, flags {}), expected {node:?} index 2",
                    def.name, def.index, def.flags
                ));
            }
            if def.hash != elf_hash(node.as_bytes()) {
                fail(format!(
                    "verdef {:?} has hash {:#x}, expected {:#x}",
                    def.name,
                    def.hash,
                    elf_hash(node.as_bytes())
                ));
            }
            for d in [base, def] {
                if d.revision != 1 {
                    fail(format!("verdef {:?} has vd_version {}, expected 1", d.name, d.revision));
                }
            }
        }
        defs => {
            fail(format!("{} version definitions, expected 2 (base {SONAME:?} and {node:?})", defs.len()))
        }
    }

    // --- Dynamic symbols ---------------------------------------------------------------------
    for sym in &parsed.symbols {
        if sym.undefined {
            fail(format!("undefined symbol {:?}", sym.name));
            continue;
        }
        match arch.exports().iter().find(|e| e.name == sym.name) {
            None => fail(format!("unexpected dynamic symbol {:?}", sym.name)),
            Some(e) => {
                if sym.kind != elf::STT_FUNC {
                    fail(format!("{} has type {}, expected STT_FUNC", sym.name, sym.kind));
                }
                let want = if e.weak { elf::STB_WEAK } else { elf::STB_GLOBAL };
                if sym.binding != want {
                    fail(format!(
                        "{} has binding {}, expected {}",
                        sym.name,
                        sym.binding,
                        if e.weak { "WEAK" } else { "GLOBAL" }
                    ));
                }
                if sym.version_index != 2 || sym.version.as_deref() != Some(node) || sym.version_hidden {
                    fail(format!(
                        "{} has version {:?} (index {}), expected {node} (index 2)",
                        sym.name, sym.version, sym.version_index
                    ));
                }
                let load = parsed.load_size();
                if sym.size == 0 || sym.value.saturating_add(sym.size) > load {
                    fail(format!(
                        "{} at {:#x}+{} is empty or outside the image",
                        sym.name, sym.value, sym.size
                    ));
                }
            }
        }
    }
    for e in arch.exports() {
        match parsed.symbols.iter().filter(|s| s.name == e.name).count() {
            1 => {}
            0 => fail(format!("missing exported symbol {}", e.name)),
            n => fail(format!("symbol {} exported {n} times", e.name)),
        }
    }
    if arch == Arch::X86_64 {
        for e in arch.exports().iter().filter(|e| e.weak) {
            let alias = parsed.symbols.iter().find(|s| s.name == e.name);
            let target = parsed.symbols.iter().find(|s| s.name == format!("__vdso_{}", e.name));
            if let (Some(a), Some(t)) = (alias, target) {
                if a.value != t.value {
                    fail(format!(
                        "alias {} is at {:#x}, __vdso_{} at {:#x}",
                        e.name, a.value, e.name, t.value
                    ));
                }
            }
        }
    }

    // --- Notes -------------------------------------------------------------------------------
    match parsed.linux_version() {
        Some(code) if code == arch.linux_version_code() => {}
        Some(code) => {
            fail(format!("\"Linux\" note says {code:#08x}, expected {:#08x}", arch.linux_version_code()))
        }
        None => fail("no \"Linux\" version note (glibc up to 2.35 reads it)".into()),
    }
    if parsed.build_id().is_none_or(|id| id.is_empty()) {
        fail("no GNU build-id note".into());
    }
    match parsed.layout_note() {
        None => fail(format!(
            "no {:?} layout note (docs/abi.md §6, \"The image describes itself\")",
            vdso_abi::note::OWNER
        )),
        Some(l) => {
            let want = (
                vdso_abi::ABI_REVISION,
                arch.data_pages() as u32,
                arch.vdso_data_offset() as u32,
                arch.vdso_data_size() as u32,
                arch.hwprobe_keys() as u32,
            );
            let have = (l.revision, l.data_pages, l.vdso_data_offset, l.vdso_data_size, l.hwprobe_keys);
            if have != want {
                fail(format!(
                    "layout note (revision, pages, offset, size, keys) is {have:?}, expected {want:?}"
                ));
            }
            if l.hz == 0 {
                fail("layout note gives HZ 0".into());
            }
        }
    }

    // --- Sections ----------------------------------------------------------------------------
    if parsed.sections.is_empty() {
        fail("no section header table (old Go runtimes and binutils read it)".into());
    }
    for s in &parsed.sections {
        if s.kind == elf::SHT_NOBITS && s.size > 0 {
            fail(format!("section {} is NOBITS (.bss): the image must have no writable data", s.name));
        }
        let alloc_writable = u64::from(elf::SHF_ALLOC | elf::SHF_WRITE);
        if s.flags & alloc_writable == alloc_writable && s.kind != elf::SHT_DYNAMIC {
            fail(format!("section {} is writable", s.name));
        }
        if s.kind == elf::SHT_RELA || s.kind == elf::SHT_REL || s.kind == 19 {
            fail(format!("relocation section {} present", s.name));
        }
    }

    // --- Data pages ----------------------------------------------------------------------------
    let want_vvar = -((arch.data_pages() * vdso_abi::PAGE_SIZE) as i64);
    let vvar = parsed.static_symbols.iter().find(|s| s.name == "vvar_start");
    match stage {
        Stage::Unstripped => match vvar {
            Some(s) if s.value == want_vvar => {}
            Some(s) => fail(format!(
                "vvar_start is at {}, expected {want_vvar} ({} pages before the image)",
                s.value,
                arch.data_pages()
            )),
            None => fail("no vvar_start in the symbol table of the unstripped link".into()),
        },
        Stage::Stripped => {
            if !parsed.static_symbols.is_empty() {
                fail(format!(
                    "shipped image still has {} static symbols (not stripped)",
                    parsed.static_symbols.len()
                ));
            }
        }
    }
    v
}

/// A dynamic tag's value for a message: the number, or "absent".
fn shown(value: Option<u64>) -> String {
    value.map_or_else(|| "absent".to_string(), |v| v.to_string())
}
