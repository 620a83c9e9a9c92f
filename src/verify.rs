//! The image verifier: every structural promise of docs/abi.md checked on the linked ELF.
//!
//! The linker cannot be told "no relocations" or "one read+execute segment"; it can only be
//! checked afterwards, as Linux's `vdso2c` does. The build script runs [`verify`] after every link
//! and fails the build naming each violation; tests run it on deliberately broken images to prove
//! each check can fail.
//!
//! An image is judged the way its consumers read it, not only the way an ELF tool does. Tools
//! (and the first half of [`verify`]) read the section headers; a dynamic loader reads the
//! program headers, `PT_DYNAMIC` at its address, and the tables the dynamic tags point at, and
//! each loader looks symbols up its own way: glibc through `DT_GNU_HASH` and its Bloom filter
//! (through `DT_HASH` on an image without one: the row's `hash_style` says which tables an
//! architecture's image carries, and the verifier demands exactly those), the Go runtime through `DT_HASH`'s buckets and chains, musl and Zig by scanning `DT_HASH`'s
//! `nchain` entries; all of them check the version through `DT_VERSYM`/`DT_VERDEF` (glibc and Go
//! also `vd_hash`). The second half reads the image again through `vdso-kernel-stub`'s
//! [`symbols`](vdso_kernel_stub::symbols) reader, the one a kernel or test harness uses on a
//! mapped image, resolves every exported symbol in each of those ways, checks the tables'
//! structure (every chain ends, every symbol is on the chain its hash names, the Bloom filter
//! admits every name, the sizes glibc asserts on), and demands that every view gives the same
//! symbol with the same value, size, type, binding, visibility, section and version. Whatever
//! a loader would follow but no table describes (other dynamic tags, segment types, `PT_DYNAMIC`
//! at an address other than its offset) is refused outright.
//!
//! Finally what each export points at: exports own disjoint code unless they are aliases (the
//! same value and size, names differing only by `__vdso_`, as x86_64's weak names are), a
//! signal-return trampoline holds exactly the words unwinders recognise it by
//! (the `sigreturn` of its row in the architecture table), and `PT_GNU_EH_FRAME` leads an unwinder to an FDE for every export:
//! `.eh_frame_hdr` and `.eh_frame` are decoded with `gimli` (every DWARF pointer encoding and CIE
//! augmentation, no dependencies of its own, so the build script can use it too) rather than by
//! a second hand-written decoder.

use std::fmt;
#[allow(unused_imports)] // the crate is no_std; the build script that includes this file is not
use std::{format, prelude::rust_2021::*, vec};

use gimli::{BaseAddresses, CieOrFde, EhFrame, EhFrameHdr, LittleEndian, Pointer, UnwindSection};
use object::elf;

use vdso_kernel_stub::symbols::{gnu_hash, DynImage, HashStyle, Symbol};

use crate::elf::{DynSymbol, ElfImage, PT_LOAD};
use crate::spec::{elf_hash, Arch, Export, HashStyles, Profile, Variant, MAX_LOAD_SIZE, SONAME};

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

/// The only dynamic tags an image may have. A loader acts on others (glibc runs `DT_INIT` and
/// `DT_INIT_ARRAY` on dlopen, refuses `DF_1_NOOPEN` and `DF_1_PIE`, searches `DT_RUNPATH`), so
/// anything else is refused rather than judged.
const ALLOWED_TAGS: &[(u32, &str)] = &[
    (elf::DT_SONAME, "DT_SONAME"),
    (elf::DT_FLAGS, "DT_FLAGS"),
    (elf::DT_SYMTAB, "DT_SYMTAB"),
    (elf::DT_SYMENT, "DT_SYMENT"),
    (elf::DT_STRTAB, "DT_STRTAB"),
    (elf::DT_STRSZ, "DT_STRSZ"),
    (elf::DT_GNU_HASH, "DT_GNU_HASH"),
    (elf::DT_HASH, "DT_HASH"),
    (elf::DT_VERSYM, "DT_VERSYM"),
    (elf::DT_VERDEF, "DT_VERDEF"),
    (elf::DT_VERDEFNUM, "DT_VERDEFNUM"),
];

/// `DT_FLAGS` bits that change nothing for an image without relocations or dependencies.
const ALLOWED_DT_FLAGS: u64 = elf::DF_SYMBOLIC as u64 | elf::DF_BIND_NOW as u64;

/// The only program header types an image may have (the section "The mapping" of docs/abi.md).
const ALLOWED_SEGMENTS: &[(u32, &str)] = &[
    (elf::PT_LOAD, "PT_LOAD"),
    (elf::PT_DYNAMIC, "PT_DYNAMIC"),
    (elf::PT_NOTE, "PT_NOTE"),
    (elf::PT_GNU_EH_FRAME, "PT_GNU_EH_FRAME"),
];

/// Checks `image` (the bytes of `parsed`) against everything docs/abi.md promises for its row of
/// the variant table (architecture, profile, page size). Returns every violation found, empty
/// when the image is good.
pub fn verify(parsed: &ElfImage, variant: &Variant, stage: Stage) -> Vec<Violation> {
    let arch = variant.arch;
    // `PT_LOAD`'s `p_align` must state the row's page size.
    let page_align = variant.page_size as u64;
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

    elf_header(&parsed.data, arch, &mut fail);

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
            fail(format!("loaded segment is {} bytes, more than two pages ({MAX_LOAD_SIZE})", load.memsz));
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
        let name = segment_name(s.kind);
        if !ALLOWED_SEGMENTS.iter().any(|&(k, _)| k == s.kind) {
            fail(format!(
                "unexpected program header {name}: an image has only PT_LOAD, PT_DYNAMIC, PT_NOTE and \
                 PT_GNU_EH_FRAME"
            ));
        }
        // Loaders and unwinders find a segment at its address (glibc's PT_DYNAMIC, libgcc's
        // PT_GNU_EH_FRAME), musl and Go read PT_DYNAMIC at its file offset: in an image loaded
        // at offset 0 = address 0 the two must be one number.
        if s.vaddr != s.offset {
            fail(format!(
                "{name} is at file offset {:#x} but address {:#x}: glibc reads it at the address, \
                 musl and Go at the offset",
                s.offset, s.vaddr
            ));
        }
        if s.kind != PT_LOAD && s.filesz != s.memsz {
            fail(format!("{name} has filesz {:#x} but memsz {:#x}", s.filesz, s.memsz));
        }
        if s.kind == PT_LOAD && s.align != page_align {
            fail(format!(
                "PT_LOAD p_align is {:#x}, expected the page size {page_align:#x} of {variant}",
                s.align
            ));
        }
    }
    for kind in [elf::PT_DYNAMIC, elf::PT_GNU_EH_FRAME] {
        let n = parsed.segments.iter().filter(|s| s.kind == kind).count();
        if n > 1 {
            fail(format!("{n} {} segments: loaders disagree on which one counts", segment_name(kind)));
        }
    }
    if let Some(load) = loads.first() {
        if load.offset.saturating_add(load.filesz) > parsed.file_size as u64 {
            fail(format!(
                "PT_LOAD ends at file offset {:#x}, past the end of the {}-byte file",
                load.offset.saturating_add(load.filesz),
                parsed.file_size
            ));
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
    } else if let Some(flags) = parsed.dyn_value(elf::DT_FLAGS).filter(|f| f & !ALLOWED_DT_FLAGS != 0) {
        fail(format!("DT_FLAGS is {flags:#x}: only DF_SYMBOLIC and DF_BIND_NOW are allowed"));
    }
    for &(tag, _) in &parsed.dynamic {
        let known = |list: &[(u32, &str)]| list.iter().any(|&(t, _)| u64::from(t) == tag);
        if !known(ALLOWED_TAGS) && !known(RELOCATION_TAGS) {
            fail(format!(
                "unexpected dynamic tag {tag:#x}: an image has only DT_SONAME, DT_FLAGS, the symbol, \
                 string, hash and version tables (a loader acts on others, e.g. runs DT_INIT)"
            ));
        }
    }
    for &(tag, name) in ALLOWED_TAGS {
        let n = parsed.dynamic.iter().filter(|(t, _)| *t == u64::from(tag)).count();
        if n > 1 {
            fail(format!("dynamic tag {name} appears {n} times: loaders disagree on which one counts"));
        }
    }
    for (tag, name) in
        [(elf::DT_HASH, "DT_HASH"), (elf::DT_VERSYM, "DT_VERSYM"), (elf::DT_VERDEF, "DT_VERDEF")]
    {
        if parsed.dyn_value(tag).is_none() {
            fail(format!("no {name} (musl, Zig and Go need DT_HASH, Go DT_VERDEF)"));
        }
    }
    // Exactly the hash tables Linux gives this architecture's vDSO (the row's `hash_style`).
    match (arch.hash_style(), parsed.dyn_value(elf::DT_GNU_HASH).is_some()) {
        (HashStyles::Both, false) => fail(format!(
            "no DT_GNU_HASH ({} images carry DT_HASH and DT_GNU_HASH, as Linux's do; glibc prefers \
             DT_GNU_HASH)",
            arch.name()
        )),
        (HashStyles::SysvOnly, true) => fail(format!(
            "DT_GNU_HASH present, but {} images carry DT_HASH only (as Linux links them, \
             --hash-style=sysv): Go's arm64 runtime looks __kernel_clock_gettime up through \
             DT_GNU_HASH with the hash of another name and never finds it (golang/go#62309)",
            arch.name()
        )),
        _ => {}
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
                if sym.other != 0 {
                    fail(format!(
                        "{} has visibility {} (st_other {:#x}), expected DEFAULT (st_other 0)",
                        sym.name,
                        visibility(sym.other),
                        sym.other
                    ));
                }
                in_code_section(parsed, &sym.name, sym.shndx, sym.value, sym.size, &mut fail);
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
    // Weak aliases (x86_64's unprefixed names) sit where their `__vdso_` symbol does.
    {
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

    // --- What the exported symbols point at ---------------------------------------------------
    exports_disjoint(parsed, arch, &mut fail);
    sigreturn_words(parsed, arch, &mut fail);
    unwind_tables(parsed, arch, &mut fail);

    // --- Notes -------------------------------------------------------------------------------
    match parsed.linux_version() {
        Some(code) if code == variant.linux_version_code() => {}
        Some(code) => {
            fail(format!("\"Linux\" note says {code:#08x}, expected {:#08x}", variant.linux_version_code()))
        }
        None => fail("no \"Linux\" version note (glibc up to 2.35 reads it)".into()),
    }
    if parsed.build_id().is_none_or(|id| id.is_empty()) {
        fail("no GNU build-id note".into());
    }
    match parsed.layout_note() {
        None => fail(format!(
            "no {:?} layout note (docs/abi.md section 6, \"The image describes itself\")",
            vdso_abi::note::OWNER
        )),
        Some(l) => {
            let want = (
                vdso_abi::ABI_REVISION,
                variant.data_pages() as u32,
                variant.vdso_data_offset() as u32,
                variant.vdso_data_size() as u32,
                variant.hwprobe_keys() as u32,
                variant.rng_data_offset().map_or(0, |o| o as u32),
            );
            let have = (
                l.revision,
                l.data_pages,
                l.vdso_data_offset,
                l.vdso_data_size,
                l.hwprobe_keys,
                l.rng_data_offset,
            );
            if have != want {
                fail(format!(
                    "layout note (revision, pages, offset, size, keys, rng offset) is {have:?}, expected {want:?}"
                ));
            }
            if l.page_size as usize != variant.page_size {
                fail(format!(
                    "layout note gives page size {}, expected {} for {variant}",
                    l.page_size, variant.page_size
                ));
            }
            if Profile::from_note_value(l.profile) != Some(variant.profile) {
                fail(format!(
                    "layout note gives profile {}, expected {} ({}) for {variant}",
                    l.profile,
                    variant.profile.note_value(),
                    variant.profile
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
        // What a tool reads at sh_offset must be what the loader reads at sh_addr.
        if s.flags & u64::from(elf::SHF_ALLOC) != 0 && s.kind != elf::SHT_NOBITS && s.offset != s.addr {
            fail(format!(
                "section {} is at file offset {:#x} but address {:#x}: tools reading the section \
                 headers see other bytes than a loader",
                s.name, s.offset, s.addr
            ));
        }
    }

    // --- The loader's view ---------------------------------------------------------------------
    loader_view(parsed, arch, &mut fail);

    // --- Data pages ----------------------------------------------------------------------------
    let want_vvar = -(variant.data_size() as i64);
    let vvar = parsed.static_symbols.iter().find(|s| s.name == "vvar_start");
    match stage {
        Stage::Unstripped => match vvar {
            Some(s) if s.value == want_vvar => {}
            Some(s) => fail(format!(
                "vvar_start is at {}, expected {want_vvar} ({} pages of {} bytes before the image)",
                s.value,
                variant.data_pages(),
                variant.page_size
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

/// A program header type's name for a message.
fn segment_name(kind: u32) -> String {
    match ALLOWED_SEGMENTS.iter().find(|&&(k, _)| k == kind) {
        Some((_, name)) => (*name).to_string(),
        None => match kind {
            elf::PT_INTERP => "PT_INTERP".into(),
            elf::PT_TLS => "PT_TLS".into(),
            elf::PT_PHDR => "PT_PHDR".into(),
            elf::PT_GNU_STACK => "PT_GNU_STACK".into(),
            elf::PT_GNU_RELRO => "PT_GNU_RELRO".into(),
            elf::PT_GNU_PROPERTY => "PT_GNU_PROPERTY".into(),
            _ => format!("of type {kind:#x}"),
        },
    }
}

/// `st_other`'s visibility for a message.
fn visibility(other: u8) -> &'static str {
    match other & 3 {
        elf::STV_DEFAULT => "DEFAULT",
        elf::STV_INTERNAL => "INTERNAL",
        elf::STV_HIDDEN => "HIDDEN",
        _ => "PROTECTED",
    }
}

/// The signal trampoline of an architecture that has one (the table's `sigreturn`) is exactly
/// its words (libgcc, gdb and libunwind recognise it by them, and a kernel jumps to it), with a
/// `nop`-sized instruction before it inside the image (docs/abi.md section 5).
fn sigreturn_words(parsed: &ElfImage, arch: Arch, fail: &mut impl FnMut(String)) {
    let Some(tramp) = arch.info().sigreturn else { return };
    let Some(sym) = parsed.symbols.iter().find(|s| s.name == tramp.symbol) else {
        return; // reported as a missing export
    };
    let len = 4 * tramp.words.len() as u64;
    if sym.size != len {
        fail(format!("{} has size {}, expected {len} (exactly its instructions)", tramp.symbol, sym.size));
    }
    let code = usize::try_from(sym.value)
        .ok()
        .and_then(|at| parsed.data.get(at.checked_sub(4)?..at.checked_add(len as usize)?));
    let Some(code) = code else {
        fail(format!("{} at {:#x} has no instruction before it in the image", tramp.symbol, sym.value));
        return;
    };
    let nop = u32::from_le_bytes([code[0], code[1], code[2], code[3]]);
    if nop != tramp.nop {
        fail(format!(
            "the instruction before {} is {nop:#010x}, expected the nop {:#010x} (unwinders look up pc - 1 \
             of a frame returning to it)",
            tramp.symbol, tramp.nop
        ));
    }
    let words: Vec<u32> =
        code[4..].chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
    if words != tramp.words {
        let hex = |w: &[u32]| w.iter().map(|x| format!("{x:#010x}")).collect::<Vec<_>>().join(" ");
        fail(format!(
            "{} is {}, expected exactly {} (unwinders recognise these words)",
            tramp.symbol,
            hex(&words),
            hex(tramp.words)
        ));
    }
}

/// `e_flags` of each image, from the architecture table (riscv64: compressed instructions and
/// the double-float ABI, which riscv64 glibc's loader demands of every object it opens).
fn expected_e_flags(arch: Arch) -> u32 {
    arch.info().e_flags
}

/// The identification and header fields glibc's loader checks before it maps anything.
fn elf_header(data: &[u8], arch: Arch, fail: &mut impl FnMut(String)) {
    let (Some(ident), Some(version), Some(flags), Some(ehsize), Some(phentsize)) = (
        data.get(..16),
        data.get(20..24).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        data.get(48..52).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        data.get(52..54).map(|b| u16::from_le_bytes([b[0], b[1]])),
        data.get(54..56).map(|b| u16::from_le_bytes([b[0], b[1]])),
    ) else {
        return fail("truncated ELF header".into());
    };
    if ident[6] != 1 || version != 1 {
        fail(format!("ELF version is {} (EI_VERSION) and {version} (e_version), expected 1", ident[6]));
    }
    // glibc takes ELFOSABI_SYSV and ELFOSABI_GNU, each with ABI version 0 here.
    if !(ident[7] == elf::ELFOSABI_SYSV || ident[7] == elf::ELFOSABI_GNU) || ident[8] != 0 {
        fail(format!("EI_OSABI {} with EI_ABIVERSION {}, expected 0 (System V) with 0", ident[7], ident[8]));
    }
    if ident[9..].iter().any(|&b| b != 0) {
        fail("the padding of e_ident is not zero (glibc refuses the file)".into());
    }
    if flags != expected_e_flags(arch) {
        fail(format!(
            "e_flags is {flags:#x}, expected {:#x} for {} (glibc refuses another float ABI)",
            expected_e_flags(arch),
            arch.name()
        ));
    }
    if ehsize != 64 || phentsize != 56 {
        fail(format!("e_ehsize {ehsize} and e_phentsize {phentsize}, expected 64 and 56"));
    }
}

/// A symbol must be defined in executable code: a real section (not `SHN_UNDEF`, not
/// `SHN_ABS`, which glibc returns unrelocated) that is allocated and executable and holds all of
/// `[value, value + size)`.
fn in_code_section(
    parsed: &ElfImage,
    name: &str,
    shndx: u16,
    value: u64,
    size: u64,
    fail: &mut impl FnMut(String),
) {
    if parsed.sections.is_empty() {
        return; // reported once above
    }
    let section = match shndx {
        elf::SHN_UNDEF => return, // reported as undefined
        elf::SHN_ABS => {
            return fail(format!(
                "{name} has section index SHN_ABS: glibc returns its value unrelocated, not image + \
                 {value:#x}"
            ))
        }
        i => match parsed.sections.get(usize::from(i)) {
            Some(s) => s,
            None => return fail(format!("{name} has section index {i:#x}, which is no section")),
        },
    };
    let code = u64::from(elf::SHF_ALLOC | elf::SHF_EXECINSTR);
    if section.flags & code != code {
        fail(format!(
            "{name} is defined in section {} ({}), which is not executable code",
            shndx, section.name
        ));
    } else if value < section.addr || value.saturating_add(size) > section.addr.saturating_add(section.size) {
        fail(format!(
            "{name} at {value:#x}+{size} lies outside its section {} ({:#x}+{})",
            section.name, section.addr, section.size
        ));
    }
}

/// The image read as a dynamic loader reads it, and each consumer's lookup of every export.
fn loader_view(parsed: &ElfImage, arch: Arch, fail: &mut impl FnMut(String)) {
    let Some(mapped) = mapped(parsed) else { return };
    let img = match DynImage::parse(mapped) {
        Ok(img) => img,
        Err(e) => return fail(format!("as a loader reads it (PT_DYNAMIC and the tables it names): {e}")),
    };
    let node = arch.version_node();
    let section_count =
        parsed.sections.iter().find(|s| s.kind == elf::SHT_DYNSYM).map(|s| (s.size / 24) as usize);

    // How many symbols each reader sees.
    let Some(sysv) = img.sysv_table() else {
        return; // the missing table is reported above
    };
    // Where the row says both tables, a missing DT_GNU_HASH is reported above; where it says
    // DT_HASH only, one present is too, and the DT_HASH rules and lookups below carry the checks.
    let gnu = img.gnu_table();
    if let Some(n) = section_count {
        if sysv.nchain != n {
            fail(format!(
                "DT_HASH's nchain is {}, but .dynsym has {n} entries (musl and Zig see only nchain symbols)",
                sysv.nchain
            ));
        }
    }
    if let Some(gnu) = gnu {
        if gnu.count != sysv.nchain {
            fail(format!(
                "DT_GNU_HASH covers {} symbols, DT_HASH {} (glibc and musl would see different tables)",
                gnu.count, sysv.nchain
            ));
        }
        if gnu.symoffset == 0 {
            fail("DT_GNU_HASH's symoffset is 0: the null symbol would be hashed".into());
        }
    }

    // Every entry as the loader reads it at DT_SYMTAB, against the section headers' view.
    let mut names: Vec<Option<Vec<u8>>> = Vec::new();
    for i in 0..img.symbol_count() {
        let sym = match img.symbol(i) {
            Ok(s) => s,
            Err(e) => {
                fail(format!("entry {i} of the symbol table at DT_SYMTAB: {e}"));
                names.push(None);
                continue;
            }
        };
        names.push(Some(sym.name.to_vec()));
        if i == 0 {
            if (sym.value, sym.size, sym.bind, sym.other, sym.shndx, sym.name.is_empty())
                != (0, 0, 0, 0, 0, true)
            {
                fail("entry 0 of the symbol table at DT_SYMTAB is not the null symbol".into());
            }
            continue;
        }
        if let Some(s) = parsed.symbols.get(i - 1) {
            if let Some(diff) = differs(&sym, s) {
                fail(format!(
                    "entry {i} of the symbol table the loader reads at DT_SYMTAB ({}) differs from the \
                     section headers' .dynsym ({}): {diff}",
                    String::from_utf8_lossy(sym.name),
                    s.name
                ));
            }
        }
    }

    // Each consumer's lookup of every export.
    for e in arch.exports() {
        lookups(&img, e, node, gnu.is_some(), fail);
    }

    // The tables' structure: what a lookup of any name (not only ours) walks through.
    sysv_structure(&img, sysv.nbucket, sysv.nchain, &names, fail);
    gnu_structure(&img, &names, fail);

    // Version definitions as the loaders walk them (through vd_next).
    let mut defs = Vec::new();
    for d in img.version_defs() {
        match d {
            Ok(d) => defs.push(d),
            Err(e) => {
                fail(format!("version definitions at DT_VERDEF: {e}"));
                return;
            }
        }
    }
    let num = parsed.dyn_value(elf::DT_VERDEFNUM);
    if num != Some(defs.len() as u64) {
        fail(format!(
            "walking vd_next from DT_VERDEF (as glibc, musl and Go do) finds {} definitions, DT_VERDEFNUM \
             says {}",
            defs.len(),
            shown(num)
        ));
    }
    let section_defs = &parsed.version_defs;
    let same = defs.len() == section_defs.len()
        && defs.iter().zip(section_defs).all(|(d, s)| {
            (d.version, d.flags, d.ndx, d.hash, d.name)
                == (s.revision, s.flags, s.index, s.hash, s.name.as_bytes())
        });
    if !same {
        fail("the version definitions at DT_VERDEF differ from the section headers' .gnu.version_d".into());
    }
}

/// How the loader's entry differs from the section view's, if it does.
fn differs(l: &Symbol<'_>, s: &crate::elf::DynSymbol) -> Option<String> {
    let lname = String::from_utf8_lossy(l.name);
    let lversion = l.version.map(|v| String::from_utf8_lossy(v).into_owned());
    let lkind = if l.shndx == elf::SHN_UNDEF { s.kind } else { l.kind };
    if lname != s.name {
        Some(format!("name {lname:?} vs {:?}", s.name))
    } else if l.value != s.value {
        Some(format!("value {:#x} vs {:#x}", l.value, s.value))
    } else if l.size != s.size {
        Some(format!("size {} vs {}", l.size, s.size))
    } else if (lkind, l.bind) != (s.kind, s.binding) {
        Some(format!("type/binding {}/{} vs {}/{}", lkind, l.bind, s.kind, s.binding))
    } else if l.other != s.other {
        Some(format!("st_other {:#x} vs {:#x}", l.other, s.other))
    } else if l.shndx != s.shndx {
        Some(format!("section index {} vs {}", l.shndx, s.shndx))
    } else if (lversion.as_deref(), l.hidden) != (s.version.as_deref(), s.version_hidden) {
        Some(format!("version {lversion:?} vs {:?}", s.version))
    } else {
        None
    }
}

/// Resolves `e` at `node` as each consumer does and demands one answer.
/// Without `DT_GNU_HASH` (`has_gnu` false) every consumer, glibc too, goes through `DT_HASH`,
/// and its two walks must agree.
fn lookups(img: &DynImage<'_>, e: &Export, node: &str, has_gnu: bool, fail: &mut impl FnMut(String)) {
    let name = e.name;
    let ways = [
        (HashStyle::Sysv, "through DT_HASH's buckets (as Go does)"),
        (HashStyle::Linear, "among DT_HASH's nchain entries (as musl and Zig do)"),
        (HashStyle::Gnu, "through DT_GNU_HASH (as glibc does)"),
    ];
    let mut found: Vec<(Symbol<'_>, &str)> = Vec::new();
    for (style, how) in ways.into_iter().filter(|&(style, _)| has_gnu || style != HashStyle::Gnu) {
        match img.lookup_with(style, name, node) {
            Ok(sym) => found.push((sym, how)),
            Err(err) => {
                if style == HashStyle::Gnu && img.bloom_admits(name.as_bytes()) == Ok(false) {
                    fail(format!(
                        "{name}@{node}: the Bloom filter of DT_GNU_HASH rejects it (glibc looks no further)"
                    ));
                } else {
                    fail(format!("{name}@{node} is not found {how}: {err}"));
                }
            }
        }
    }
    if let Some(((first, how), rest)) = found.split_first() {
        for (other, other_how) in rest {
            if other.index != first.index {
                fail(format!(
                    "{name}@{node} is entry {} {how}, but entry {} {other_how}",
                    first.index, other.index
                ));
            }
        }
        let sym = first;
        if sym.hidden {
            fail(format!("{name}@{node} has a hidden version (not the default {name}@@{node})"));
        }
        if sym.value == 0 {
            fail(format!("{name} has value 0, which glibc treats as undefined"));
        }
    }
}

/// `DT_HASH`: every chain ends inside the table, no two chains share an entry, and every symbol
/// is on the chain of the bucket its name hashes to.
fn sysv_structure(
    img: &DynImage<'_>,
    nbucket: usize,
    nchain: usize,
    names: &[Option<Vec<u8>>],
    fail: &mut impl FnMut(String),
) {
    if nbucket == 0 {
        return fail("DT_HASH has 0 buckets: nothing can be found through it".into());
    }
    let mut seen = vec![false; nchain];
    for b in 0..nbucket {
        let mut i = match img.sysv_bucket(b) {
            Ok(i) => i,
            Err(e) => return fail(format!("DT_HASH bucket {b}: {e}")),
        };
        while i != 0 {
            if i >= nchain {
                return fail(format!(
                    "DT_HASH's chain of bucket {b} reaches entry {i}, past nchain {nchain}"
                ));
            }
            if seen[i] {
                return fail(format!("DT_HASH's chains loop or cross at entry {i} (bucket {b})"));
            }
            seen[i] = true;
            if let Some(Some(n)) = names.get(i) {
                let want = elf_hash(n) as usize % nbucket;
                if want != b {
                    fail(format!(
                        "entry {i} ({}) is on DT_HASH's chain of bucket {b}, but its name hashes to bucket {want}",
                        String::from_utf8_lossy(n)
                    ));
                }
            }
            i = match img.sysv_chain(i) {
                Ok(next) => next,
                Err(e) => return fail(format!("DT_HASH chain: {e}")),
            };
        }
    }
    for (i, s) in seen.iter().enumerate().skip(1) {
        if !s {
            let n = names.get(i).cloned().flatten().unwrap_or_default();
            fail(format!("entry {i} ({}) is on no DT_HASH chain", String::from_utf8_lossy(&n)));
        }
    }
}

/// `DT_GNU_HASH`: every bucket starts a run inside the table, every hashed symbol sits in the
/// run of its bucket with its hash in the chain word, and the Bloom filter admits every name.
fn gnu_structure(img: &DynImage<'_>, names: &[Option<Vec<u8>>], fail: &mut impl FnMut(String)) {
    let Some(g) = img.gnu_table() else { return };
    if g.count > img.symbol_count() {
        return; // reported as a count that differs from DT_HASH's (and it may be near 2^32)
    }
    let mut seen = vec![false; g.count];
    for b in 0..g.nbuckets {
        let mut i = match img.gnu_bucket(b) {
            Ok(i) => i,
            Err(e) => return fail(format!("DT_GNU_HASH bucket {b}: {e}")),
        };
        if i == 0 {
            continue;
        }
        if i < g.symoffset {
            return fail(format!(
                "DT_GNU_HASH bucket {b} is {i}, below symoffset {} (glibc reads before the chains)",
                g.symoffset
            ));
        }
        loop {
            if i >= g.count || seen[i] {
                return fail(format!(
                    "DT_GNU_HASH's run of bucket {b} overlaps another or runs past the table"
                ));
            }
            seen[i] = true;
            let word = match img.gnu_chain(i) {
                Ok(w) => w,
                Err(e) => return fail(format!("DT_GNU_HASH chain: {e}")),
            };
            if let Some(Some(n)) = names.get(i) {
                let h = gnu_hash(n);
                let name = String::from_utf8_lossy(n);
                if h | 1 != word | 1 {
                    fail(format!("entry {i} ({name}) has DT_GNU_HASH chain word {word:#x}, but its name hashes to {h:#x}"));
                }
                if h as usize % g.nbuckets != b {
                    fail(format!(
                        "entry {i} ({name}) is in DT_GNU_HASH bucket {b}, but its name hashes to bucket {}",
                        h as usize % g.nbuckets
                    ));
                }
                if img.bloom_admits(n) != Ok(true) {
                    fail(format!(
                        "the Bloom filter of DT_GNU_HASH rejects entry {i} ({name}): glibc cannot find it"
                    ));
                }
            }
            if word & 1 != 0 {
                break;
            }
            i += 1;
        }
    }
    for (i, s) in seen.iter().enumerate().skip(g.symoffset) {
        if !s {
            let n = names.get(i).cloned().flatten().unwrap_or_default();
            fail(format!("entry {i} ({}) is in no DT_GNU_HASH bucket", String::from_utf8_lossy(&n)));
        }
    }
}

/// The bytes a loader maps: the file's bytes of the (single) `PT_LOAD`; nothing past it exists
/// for a loader or an unwinder. `None` without a `PT_LOAD` (reported above).
fn mapped(parsed: &ElfImage) -> Option<&[u8]> {
    let load = parsed.loads().next()?;
    let end = load.offset.saturating_add(load.filesz).min(parsed.data.len() as u64) as usize;
    Some(&parsed.data[..end])
}

/// The defined dynamic symbols that are exports of `arch` (the others are reported above).
fn exported(parsed: &ElfImage, arch: Arch) -> impl Iterator<Item = &DynSymbol> {
    parsed.symbols.iter().filter(move |s| !s.undefined && arch.exports().iter().any(|e| e.name == s.name))
}

/// Whether `a` and `b` are one function under two names, as x86_64's weak `clock_gettime` and
/// `__vdso_clock_gettime` are: the same value and size, names differing only by `__vdso_`.
fn aliases(a: &DynSymbol, b: &DynSymbol) -> bool {
    let prefixed = |x: &DynSymbol, y: &DynSymbol| x.name.strip_prefix("__vdso_") == Some(y.name.as_str());
    (a.value, a.size) == (b.value, b.size) && (prefixed(a, b) || prefixed(b, a))
}

/// Exports that are not aliases own disjoint code: a symbol whose `[value, value + size)`
/// overlaps another's starts inside, or runs into, a different function, and its callers run the
/// wrong code (a one-bit flip of a value does exactly this). Emptiness and lying outside the
/// loaded, executable code are checked with each symbol above.
fn exports_disjoint(parsed: &ElfImage, arch: Arch, fail: &mut impl FnMut(String)) {
    let symbols: Vec<&DynSymbol> = exported(parsed, arch).collect();
    for (i, a) in symbols.iter().enumerate() {
        for b in &symbols[i + 1..] {
            let overlap =
                a.value < b.value.saturating_add(b.size) && b.value < a.value.saturating_add(a.size);
            if overlap && !aliases(a, b) {
                fail(format!(
                    "{} at {:#x}+{} overlaps {} at {:#x}+{}: exports must be disjoint unless they are \
                     aliases (same value and size, names differing only by the __vdso_ prefix)",
                    a.name, a.value, a.size, b.name, b.value, b.size
                ));
            }
        }
    }
}

/// One FDE of `.eh_frame`: its own address and the code `[start, end)` it describes.
struct Fde {
    at: u64,
    start: u64,
    end: u64,
}

/// `PT_GNU_EH_FRAME` as an unwinder reads it: libgcc finds the image's unwind information through
/// it (`dl_iterate_phdr`), binary-searches `.eh_frame_hdr`'s table for the FDE of a pc and decodes
/// that FDE in `.eh_frame`, so the header must be version 1 with an `eh_frame_ptr` that names
/// `.eh_frame`, and its table (when present) must list every FDE exactly once, sorted by initial
/// location, each entry naming the FDE that starts there. Every export must lie inside one FDE:
/// a backtrace from inside it, or a signal return through the trampoline, needs its rules.
///
/// The pointer encodings (lld writes `DW_EH_PE_pcrel|sdata4` for `eh_frame_ptr`, `udata4` for the
/// count, `datarel|sdata4` for the table, and `pcrel|sdata4` in the FDEs) and the CIE
/// augmentations are decoded by `gimli`, so an image using any other encoding is read right too.
fn unwind_tables(parsed: &ElfImage, arch: Arch, fail: &mut impl FnMut(String)) {
    let Some(seg) = parsed.segments.iter().find(|s| s.kind == elf::PT_GNU_EH_FRAME) else {
        return; // reported as missing
    };
    let Some(code) = mapped(parsed) else { return };
    let bytes = |addr: u64, size: u64| {
        let start = usize::try_from(addr).ok()?;
        code.get(start..start.checked_add(usize::try_from(size).ok()?)?)
    };
    let Some(hdr) = bytes(seg.vaddr, seg.filesz) else {
        return; // reported as lying outside the loaded segment
    };
    match hdr.first() {
        Some(1) => {}
        Some(&v) => {
            return fail(format!(
                ".eh_frame_hdr at {:#x} (PT_GNU_EH_FRAME) has version {v}, expected 1 (libgcc ignores it)",
                seg.vaddr
            ))
        }
        None => return fail("PT_GNU_EH_FRAME is empty: no .eh_frame_hdr".into()),
    }
    if parsed.sections.is_empty() {
        return; // nothing names .eh_frame (reported above)
    }
    let section = |name: &str| parsed.sections.iter().find(|s| s.name == name && s.kind == elf::SHT_PROGBITS);
    match section(".eh_frame_hdr") {
        Some(s) if s.addr == seg.vaddr => {}
        _ => fail(format!("PT_GNU_EH_FRAME at {:#x} is not the .eh_frame_hdr section", seg.vaddr)),
    }
    let Some(eh) = section(".eh_frame") else {
        return fail("no .eh_frame section for .eh_frame_hdr to point at".into());
    };
    let Some(eh_bytes) = bytes(eh.addr, eh.size) else {
        return fail(format!(".eh_frame at {:#x}+{} lies outside the loaded image", eh.addr, eh.size));
    };

    let bases = BaseAddresses::default().set_eh_frame_hdr(seg.vaddr).set_eh_frame(eh.addr);
    let header = match EhFrameHdr::new(hdr, LittleEndian).parse(&bases, 8) {
        Ok(h) => h,
        Err(e) => return fail(format!(".eh_frame_hdr at {:#x} cannot be decoded: {e}", seg.vaddr)),
    };
    match header.eh_frame_ptr() {
        Pointer::Direct(p) if p == eh.addr => {}
        p => fail(format!(
            ".eh_frame_hdr's eh_frame_ptr (encoding {:#04x}) points at {:#x}, but .eh_frame is at {:#x}",
            hdr.get(1).copied().unwrap_or_default(),
            p.pointer(),
            eh.addr
        )),
    }

    // Every FDE, as an unwinder decodes it.
    let mut eh_frame = EhFrame::new(eh_bytes, LittleEndian);
    eh_frame.set_address_size(8);
    let mut fdes = Vec::new();
    let trampoline = arch.info().sigreturn.and_then(|t| {
        let sym = parsed.symbols.iter().find(|s| s.name == t.symbol)?;
        Some((t, sym.value))
    });
    let mut trampoline_fde = None;
    let mut entries = eh_frame.entries(&bases);
    loop {
        match entries.next() {
            Ok(None) => break,
            Ok(Some(CieOrFde::Cie(_))) => {}
            Ok(Some(CieOrFde::Fde(partial))) => match partial.parse(|s, b, o| s.cie_from_offset(b, o)) {
                Ok(fde) => {
                    fdes.push(Fde {
                        at: eh.addr.saturating_add(fde.offset() as u64),
                        start: fde.initial_address(),
                        end: fde.initial_address().saturating_add(fde.len()),
                    });
                    if trampoline.is_some_and(|(_, at)| fde.contains(at)) {
                        trampoline_fde = Some(fde);
                    }
                }
                Err(e) => return fail(format!(".eh_frame: an FDE cannot be decoded: {e}")),
            },
            Err(e) => return fail(format!(".eh_frame cannot be walked to its end: {e}")),
        }
    }

    // The binary search table, when the header has one.
    let omit = gimli::DW_EH_PE_omit.0;
    if hdr.get(2) != Some(&omit) && hdr.get(3) != Some(&omit) {
        eh_frame_hdr_table(&header, &bases, eh, &fdes, fail);
    }

    if let (Some((t, at)), Some(fde)) = (trampoline, trampoline_fde) {
        sigreturn_cfi(&eh_frame, &bases, &fde, &t, at, fail);
    }

    for sym in exported(parsed, arch) {
        let end = sym.value.saturating_add(sym.size);
        if !fdes.iter().any(|f| f.start <= sym.value && end <= f.end) {
            fail(format!(
                "{} at {:#x}+{} is not covered by an FDE in .eh_frame: unwinders (libgcc, gdb) cannot \
                 walk through it",
                sym.name, sym.value, sym.size
            ));
        }
    }
}

/// The signal trampoline's FDE as libgcc, gdb and libunwind read it (docs/abi.md section 5): a
/// signal frame (`S` augmentation) that starts at the `nop` before the trampoline, whose rules at
/// the `nop` and at the trampoline put the CFA at `sp + cfa_offset` (the kernel's sigcontext) and
/// the interrupted pc in the return-address column at its place in the sigcontext.
fn sigreturn_cfi<R: gimli::Reader<Offset = usize>>(
    eh_frame: &EhFrame<R>,
    bases: &BaseAddresses,
    fde: &gimli::FrameDescriptionEntry<R>,
    t: &vdso_abi::arch::Sigreturn,
    at: u64,
    fail: &mut impl FnMut(String),
) {
    let name = t.symbol;
    if !fde.cie().is_signal_trampoline() {
        fail(format!("the FDE of {name} is not a signal frame (no 'S' in its CIE's augmentation)"));
    }
    if fde.initial_address() > at.saturating_sub(4) {
        fail(format!(
            "the FDE of {name} starts at {:#x}, after the nop at {:#x} that unwinders look up",
            fde.initial_address(),
            at.saturating_sub(4)
        ));
    }
    if fde.cie().return_address_register() != gimli::Register(t.pc_column) {
        fail(format!(
            "the FDE of {name} returns through column {}, expected {} (the interrupted pc)",
            fde.cie().return_address_register().0,
            t.pc_column
        ));
    }
    let mut ctx = Box::new(gimli::UnwindContext::new());
    for pc in [at.saturating_sub(4), at] {
        let row = match fde.unwind_info_for_address(eh_frame, bases, &mut ctx, pc) {
            Ok(row) => row,
            Err(e) => return fail(format!("the unwind rules of {name} at {pc:#x} cannot be evaluated: {e}")),
        };
        let cfa_wanted = gimli::CfaRule::RegisterAndOffset {
            register: gimli::Register(t.sp_column),
            offset: t.cfa_offset,
        };
        if *row.cfa() != cfa_wanted {
            fail(format!(
                "at {pc:#x} ({name}) the CFA is {:?}, expected sp (column {}) + {} (the kernel's sigcontext)",
                row.cfa(),
                t.sp_column,
                t.cfa_offset
            ));
        }
        let pc_rule = row.register(gimli::Register(t.pc_column));
        if pc_rule != Some(gimli::RegisterRule::Offset(t.pc_offset)) {
            fail(format!(
                "at {pc:#x} ({name}) the interrupted pc (column {}) is {pc_rule:?}, expected at CFA + {}",
                t.pc_column, t.pc_offset
            ));
        }
    }
}

/// `.eh_frame_hdr`'s search table against the FDEs `.eh_frame` really holds.
fn eh_frame_hdr_table(
    header: &gimli::ParsedEhFrameHdr<gimli::EndianSlice<'_, LittleEndian>>,
    bases: &BaseAddresses,
    eh: &crate::elf::Section,
    fdes: &[Fde],
    fail: &mut impl FnMut(String),
) {
    let mut rows = Vec::new();
    if let Some(table) = header.table() {
        let mut iter = table.iter(bases);
        loop {
            match iter.next() {
                Ok(None) => break,
                Ok(Some((Pointer::Direct(pc), Pointer::Direct(fde)))) => rows.push((pc, fde)),
                Ok(Some(_)) => return fail(".eh_frame_hdr's table has an indirect pointer".into()),
                Err(e) => {
                    return fail(format!(
                        ".eh_frame_hdr's table (fde_count entries) cannot be read inside PT_GNU_EH_FRAME: {e}"
                    ))
                }
            }
        }
    }
    if rows.len() != fdes.len() {
        fail(format!(".eh_frame_hdr's fde_count is {}, but .eh_frame holds {} FDEs", rows.len(), fdes.len()));
    }
    if let Some(w) = rows.windows(2).find(|w| w[0].0 >= w[1].0) {
        fail(format!(
            ".eh_frame_hdr's table is not sorted by initial location: {:#x} before {:#x} (a binary \
             search misses FDEs)",
            w[0].0, w[1].0
        ));
    }
    let eh_end = eh.addr.saturating_add(eh.size);
    for (i, &(pc, at)) in rows.iter().enumerate() {
        match fdes.iter().find(|f| f.at == at) {
            _ if at < eh.addr || at >= eh_end => fail(format!(
                "entry {i} of .eh_frame_hdr's table points at {at:#x}, outside .eh_frame ({:#x}..{eh_end:#x})",
                eh.addr
            )),
            None => fail(format!(
                "entry {i} of .eh_frame_hdr's table points at {at:#x}, which is no FDE in .eh_frame"
            )),
            Some(f) if f.start != pc => fail(format!(
                "entry {i} of .eh_frame_hdr's table gives initial location {pc:#x} for the FDE at {at:#x}, \
                 which starts at {:#x}",
                f.start
            )),
            Some(_) => {}
        }
    }
    for f in fdes {
        if !rows.iter().any(|&(_, at)| at == f.at) {
            fail(format!(
                "the FDE at {:#x} (code {:#x}..{:#x}) is not in .eh_frame_hdr's table",
                f.at, f.start, f.end
            ));
        }
    }
}
