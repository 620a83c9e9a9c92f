//! Reading any vDSO image: the facts `vdso inspect` prints and the verifier checks.
//!
//! Built on the `object` crate's ELF reader. Everything is read through the program headers and
//! the dynamic section where possible (that is what a libc sees), and through the section
//! headers for the rest. A malformed, truncated or foreign file gives a [`ParseError`] with one
//! line of explanation, never a panic.

use std::fmt;
#[allow(unused_imports)] // the crate is no_std; the build script that includes this file is not
use std::{format, prelude::rust_2021::*, vec};

use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, SectionHeader, Sym};
use object::{Endianness, FileKind};

type Header = elf::FileHeader64<Endianness>;

/// Why a file is not a readable vDSO image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(msg.into()))
}

/// A program header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// `p_type`.
    pub kind: u32,
    /// `p_flags` (PF_X = 1, PF_W = 2, PF_R = 4).
    pub flags: u32,
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

/// A dynamic symbol with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynSymbol {
    /// Name.
    pub name: String,
    /// Version name from the verdef, if any.
    pub version: Option<String>,
    /// Version index from `.gnu.version` (0 local, 1 global/base, 2.. defined versions).
    pub version_index: u16,
    /// Whether the version is hidden (a non-default `name@version`).
    pub version_hidden: bool,
    /// `st_value`: offset from the image start.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `st_info >> 4`: 0 LOCAL, 1 GLOBAL, 2 WEAK.
    pub binding: u8,
    /// `st_info & 0xf`: 2 FUNC.
    pub kind: u8,
    /// `st_shndx == SHN_UNDEF`.
    pub undefined: bool,
    /// `st_shndx`: the section the symbol is defined in (`SHN_ABS` = 0xfff1 for none).
    pub shndx: u16,
    /// `st_other` (the low two bits are the visibility: 0 DEFAULT, 2 HIDDEN, 3 PROTECTED).
    pub other: u8,
}

/// An entry of the version definition section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDef {
    /// `vd_version` (1).
    pub revision: u16,
    /// `vd_flags` (VER_FLG_BASE = 1).
    pub flags: u16,
    /// `vd_ndx`.
    pub index: u16,
    /// `vd_hash`.
    pub hash: u32,
    /// Name of the first `Verdaux`.
    pub name: String,
}

/// An ELF note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Owner name without the NUL.
    pub owner: String,
    /// `n_type`.
    pub kind: u32,
    /// Descriptor bytes.
    pub desc: Vec<u8>,
}

/// A section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Name.
    pub name: String,
    /// `sh_type`.
    pub kind: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// `sh_addr`.
    pub addr: u64,
    /// `sh_offset`.
    pub offset: u64,
    /// `sh_size`.
    pub size: u64,
}

/// A static-symbol-table entry (present only before stripping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticSymbol {
    /// Name.
    pub name: String,
    /// `st_value` as a signed offset from the image start.
    pub value: i64,
}

/// Everything we read from an image.
#[derive(Debug, Clone)]
pub struct ElfImage {
    /// `e_machine`.
    pub machine: u16,
    /// `e_type` (ET_DYN = 3).
    pub file_type: u16,
    /// Bytes in the file.
    pub file_size: usize,
    /// The file's bytes: the verifier reads the image again through them as a dynamic loader
    /// does (program headers, `PT_DYNAMIC` and the tables its tags name).
    pub data: Vec<u8>,
    /// Program headers.
    pub segments: Vec<Segment>,
    /// `(d_tag, d_val)` of the dynamic section, up to DT_NULL.
    pub dynamic: Vec<(u64, u64)>,
    /// Whether a DT_NULL ends the dynamic section inside PT_DYNAMIC.
    pub dynamic_terminated: bool,
    /// DT_SONAME.
    pub soname: Option<String>,
    /// `.dynsym` without the null entry.
    pub symbols: Vec<DynSymbol>,
    /// `.gnu.version_d`.
    pub version_defs: Vec<VersionDef>,
    /// Notes of every PT_NOTE.
    pub notes: Vec<Note>,
    /// Section headers (empty when the file has none).
    pub sections: Vec<Section>,
    /// `.symtab` entries (empty once stripped).
    pub static_symbols: Vec<StaticSymbol>,
}

/// `PT_LOAD`.
pub const PT_LOAD: u32 = elf::PT_LOAD;

impl ElfImage {
    /// Parses an image from its file bytes.
    pub fn parse(data: &[u8]) -> Result<ElfImage, ParseError> {
        match FileKind::parse(data) {
            Ok(FileKind::Elf64) => {}
            Ok(FileKind::Elf32) => {
                return err("32-bit ELF file (ELFCLASS32): a vDSO image here is 64-bit (ELFCLASS64)")
            }
            Ok(kind) => return err(format!("not an ELF file (looks like {kind:?})")),
            Err(_) if data.len() < 64 && data.starts_with(b"\x7fELF") => {
                return err(format!("truncated ELF file: {} bytes, shorter than its header", data.len()))
            }
            Err(_) if data.starts_with(b"\x7fELF") => {
                return err(format!("malformed ELF header: unknown class (EI_CLASS {})", data[4]))
            }
            Err(_) => return err("not an ELF file (no \\x7fELF magic)"),
        }
        if data.len() < 64 {
            return err(format!("truncated ELF file: {} bytes, shorter than its 64-byte header", data.len()));
        }
        let header = Header::parse(data).map_err(|e| ParseError(format!("malformed ELF header: {e}")))?;
        let endian = header.endian().map_err(|e| ParseError(format!("malformed ELF header: {e}")))?;
        if endian != Endianness::Little {
            return err("big-endian ELF file: both vDSO architectures are little-endian");
        }
        let file_type = header.e_type(endian);
        if file_type != elf::ET_DYN {
            return err(format!("not a shared object (e_type {file_type}, a vDSO is ET_DYN = 3)"));
        }
        let ctx = |what: &str| {
            let what = what.to_string();
            move |e: object::Error| ParseError(format!("truncated or malformed {what}: {e}"))
        };

        let phdrs = header.program_headers(endian, data).map_err(ctx("program headers"))?;
        let mut segments = Vec::new();
        let mut dynamic = Vec::new();
        let mut dynamic_terminated = false;
        let mut notes = Vec::new();
        for ph in phdrs {
            segments.push(Segment {
                kind: ph.p_type(endian),
                flags: ph.p_flags(endian),
                offset: ph.p_offset(endian),
                vaddr: ph.p_vaddr(endian),
                filesz: ph.p_filesz(endian),
                memsz: ph.p_memsz(endian),
                align: ph.p_align(endian),
            });
            if let Some(dyns) = ph.dynamic(endian, data).map_err(ctx("dynamic segment"))? {
                for d in dyns {
                    let tag = d.d_tag(endian);
                    if tag == u64::from(elf::DT_NULL) {
                        dynamic_terminated = true;
                        break;
                    }
                    dynamic.push((tag, d.d_val(endian)));
                }
            }
            if let Some(mut it) = ph.notes(endian, data).map_err(ctx("note segment"))? {
                while let Some(note) = it.next().map_err(ctx("note"))? {
                    notes.push(Note {
                        owner: String::from_utf8_lossy(note.name()).into_owned(),
                        kind: note.n_type(endian),
                        desc: note.desc().to_vec(),
                    });
                }
            }
        }

        let sections_table = header.sections(endian, data).map_err(ctx("section headers"))?;
        let mut sections = Vec::new();
        for s in sections_table.iter() {
            let name = sections_table.section_name(endian, s).map_err(ctx("section names"))?;
            sections.push(Section {
                name: String::from_utf8_lossy(name).into_owned(),
                kind: s.sh_type(endian),
                flags: s.sh_flags(endian),
                addr: s.sh_addr(endian),
                offset: s.sh_offset(endian),
                size: s.sh_size(endian),
            });
        }

        let dynsym = sections_table.symbols(endian, data, elf::SHT_DYNSYM).map_err(ctx("dynamic symbols"))?;
        let versions = sections_table.versions(endian, data).map_err(ctx("symbol versions"))?;
        let mut symbols = Vec::new();
        for (i, sym) in dynsym.iter().enumerate().skip(1) {
            let name = sym.name(endian, dynsym.strings()).map_err(ctx("symbol names"))?;
            let (version, version_index, version_hidden) = match &versions {
                Some(v) => {
                    let idx = v.version_index(endian, object::SymbolIndex(i));
                    let name = v.version(idx).map_err(ctx("symbol versions"))?;
                    (
                        name.map(|n| String::from_utf8_lossy(n.name()).into_owned()),
                        idx.index(),
                        idx.is_hidden(),
                    )
                }
                None => (None, 0, false),
            };
            symbols.push(DynSymbol {
                name: String::from_utf8_lossy(name).into_owned(),
                version,
                version_index,
                version_hidden,
                value: sym.st_value(endian),
                size: sym.st_size(endian),
                binding: sym.st_bind(),
                kind: sym.st_type(),
                undefined: sym.st_shndx(endian) == elf::SHN_UNDEF,
                shndx: sym.st_shndx(endian),
                other: sym.st_other(),
            });
        }

        let mut version_defs = Vec::new();
        if let Some((mut defs, link)) =
            sections_table.gnu_verdef(endian, data).map_err(ctx("version definitions"))?
        {
            let strings = sections_table.strings(endian, data, link).map_err(ctx("version names"))?;
            while let Some((def, mut aux)) = defs.next().map_err(ctx("version definitions"))? {
                let name = match aux.next().map_err(ctx("version definitions"))? {
                    Some(a) => {
                        String::from_utf8_lossy(a.name(endian, strings).map_err(ctx("version names"))?)
                            .into_owned()
                    }
                    None => String::new(),
                };
                version_defs.push(VersionDef {
                    revision: def.vd_version.get(endian),
                    flags: def.vd_flags.get(endian),
                    index: def.vd_ndx.get(endian),
                    hash: def.vd_hash.get(endian),
                    name,
                });
            }
        }

        let symtab = sections_table.symbols(endian, data, elf::SHT_SYMTAB).map_err(ctx("symbol table"))?;
        let mut static_symbols = Vec::new();
        for sym in symtab.iter().skip(1) {
            let name = sym.name(endian, symtab.strings()).map_err(ctx("symbol names"))?;
            static_symbols.push(StaticSymbol {
                name: String::from_utf8_lossy(name).into_owned(),
                value: sym.st_value(endian) as i64,
            });
        }

        let soname = dynamic.iter().find(|(t, _)| *t == u64::from(elf::DT_SONAME)).and_then(|&(_, off)| {
            let (strtab, size) = dyn_strtab(&dynamic)?;
            let start = usize::try_from(strtab.checked_add(off)?).ok()?;
            let end = usize::try_from(strtab.checked_add(size)?).ok()?.min(data.len());
            let bytes = data.get(start..end)?;
            let len = bytes.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&bytes[..len]).into_owned())
        });

        Ok(ElfImage {
            machine: header.e_machine(endian),
            file_type,
            file_size: data.len(),
            data: data.to_vec(),
            segments,
            dynamic,
            dynamic_terminated,
            soname,
            symbols,
            version_defs,
            notes,
            sections,
            static_symbols,
        })
    }

    /// The loadable segments.
    pub fn loads(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|s| s.kind == PT_LOAD)
    }

    /// Bytes the image occupies once mapped (end of the last PT_LOAD); `u64::MAX` when a
    /// corrupt segment would end past the address space (which every size check then refuses).
    pub fn load_size(&self) -> u64 {
        self.loads().map(|s| s.vaddr.saturating_add(s.memsz)).max().unwrap_or(0)
    }

    /// The page size the image is linked for: its layout note's, else its `PT_LOAD`'s `p_align`
    /// (a foreign image), else 4096.
    pub fn page_size(&self) -> u64 {
        let note = self.layout_note().map(|l| u64::from(l.page_size));
        let align = self.loads().map(|s| s.align).next();
        note.or(align).filter(|p| p.is_power_of_two() && *p >= 4096).unwrap_or(4096)
    }

    /// Pages (of [`ElfImage::page_size`]) the image occupies once mapped.
    pub fn pages(&self) -> u64 {
        self.load_size().div_ceil(self.page_size())
    }

    /// The row of the variant table this image says it is (architecture from `e_machine`, page
    /// size and profile from its layout note); `None` for an image without our note or of a
    /// variant the project does not build.
    pub fn variant(&self) -> Option<&'static crate::spec::Variant> {
        let arch = crate::spec::Arch::from_e_machine(self.machine)?;
        let note = self.layout_note()?;
        let profile = crate::spec::Profile::from_note_value(note.profile)?;
        crate::spec::Variant::find(arch, profile, note.page_size as usize)
    }

    /// Value of a dynamic tag, if present.
    pub fn dyn_value(&self, tag: u32) -> Option<u64> {
        self.dynamic.iter().find(|(t, _)| *t == u64::from(tag)).map(|&(_, v)| v)
    }

    /// The "Linux" version note's value.
    pub fn linux_version(&self) -> Option<u32> {
        self.notes
            .iter()
            .find(|n| n.owner == "Linux" && n.kind == 0 && n.desc.len() == 4)
            .map(|n| u32::from_le_bytes([n.desc[0], n.desc[1], n.desc[2], n.desc[3]]))
    }

    /// The GNU build-id.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.notes.iter().find(|n| n.owner == "GNU" && n.kind == elf::NT_GNU_BUILD_ID).map(|n| &n.desc[..])
    }

    /// This project's layout note, decoded.
    pub fn layout_note(&self) -> Option<vdso_abi::note::Layout> {
        self.notes
            .iter()
            .find(|n| n.owner == vdso_abi::note::OWNER && n.kind == vdso_abi::note::TYPE_LAYOUT)
            .and_then(|n| vdso_abi::note::Layout::from_le_bytes(&n.desc))
    }

    /// A name for `e_machine`.
    pub fn machine_name(&self) -> String {
        match crate::spec::Arch::from_e_machine(self.machine) {
            Some(arch) => arch.name().into(),
            None => format!("machine {}", self.machine),
        }
    }
}

fn dyn_strtab(dynamic: &[(u64, u64)]) -> Option<(u64, u64)> {
    let get = |tag: u32| dynamic.iter().find(|(t, _)| *t == u64::from(tag)).map(|&(_, v)| v);
    Some((get(elf::DT_STRTAB)?, get(elf::DT_STRSZ)?))
}
