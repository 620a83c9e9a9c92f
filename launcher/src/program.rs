//! Finding the program and reading its ELF header and program headers, with every check a
//! kernel's `execve` makes (and a few it leaves to the loader), before anything is mapped.
//!
//! The result, [`ElfFile`], keeps the file open: the loader maps its segments from this very
//! file, so what was checked is what runs.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{EM_RISCV, EM_X86_64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::{ProgramHeader, PT_INTERP, PT_LOAD};
use vdso_kernel_stub::Arch;

use crate::error::{Error, Kind};
use crate::options::arch_name;

/// Page size of both architectures (the contract fixes 4 KiB).
pub const PAGE: u64 = vdso_abi::PAGE_SIZE as u64;
/// Lowest address a fixed-position program may load at (Linux's default `mmap_min_addr`).
const MIN_FIXED_ADDR: u64 = 0x10000;
/// Most program headers accepted (Linux refuses more than 64 KiB of them).
const MAX_PHNUM: u16 = 1024;
/// Longest `PT_INTERP` path accepted (Linux: `PATH_MAX`).
const MAX_INTERP: u64 = 4096;

/// An ELF executable (or loader) ready to map.
#[derive(Debug)]
pub struct ElfFile {
    /// Where it was found.
    pub path: PathBuf,
    /// The open file the segments are mapped from.
    pub file: File,
    /// Its architecture.
    pub arch: Arch,
    /// `ET_DYN` (position independent: the loader picks the address).
    pub relocatable: bool,
    /// `e_entry`.
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u16,
    /// Program headers.
    pub phdrs: Vec<ProgramHeader>,
    /// `PT_INTERP`, if any.
    pub interp: Option<PathBuf>,
}

impl ElfFile {
    /// The `PT_LOAD` headers.
    pub fn loads(&self) -> impl Iterator<Item = &ProgramHeader> {
        self.phdrs.iter().filter(|p| p.p_type == PT_LOAD)
    }

    /// Lowest and highest (exclusive) virtual address of the loaded segments, page-rounded.
    pub fn span(&self) -> (u64, u64) {
        let lo = self.loads().map(|p| p.p_vaddr).min().unwrap_or(0);
        let hi = self.loads().map(|p| p.p_vaddr + p.p_memsz).max().unwrap_or(0);
        (lo & !(PAGE - 1), hi.div_ceil(PAGE) * PAGE)
    }

    /// Largest `p_align` of the loaded segments (at least a page).
    pub fn max_align(&self) -> u64 {
        self.loads().map(|p| p.p_align).filter(|a| a.is_power_of_two()).max().unwrap_or(PAGE).max(PAGE)
    }
}

/// Finds `name` as `execvp` would: a name with a `/` is a path, anything else is looked up in
/// `PATH` (default `/usr/local/bin:/usr/bin:/bin`), skipping entries that are not executable files.
pub fn resolve(name: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf, Error> {
    if name.is_empty() {
        return Err(Error::new(Kind::NotFound, "empty program name"));
    }
    if name.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(name));
    }
    let default = OsString::from("/usr/local/bin:/usr/bin:/bin");
    let search = path_var.unwrap_or(&default);
    for dir in search.as_bytes().split(|&b| b == b':') {
        let dir = if dir.is_empty() { Path::new(".") } else { Path::new(OsStr::from_bytes(dir)) };
        let candidate = dir.join(name);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err(Error::new(Kind::NotFound, format!("{}: command not found in PATH", name.to_string_lossy())))
}

/// Opens and checks a program: it must exist, be a regular executable file, and be an ELF
/// executable this launcher can load.
pub fn open_program(path: &Path) -> Result<ElfFile, Error> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::new(Kind::NotFound, format!("{shown}: no such file")),
        _ => Error::cannot_execute(format!("{shown}: {e}")),
    })?;
    if !meta.is_file() {
        return Err(Error::cannot_execute(format!("{shown}: not a regular file")));
    }
    rustix::fs::access(path, rustix::fs::Access::EXEC_OK)
        .map_err(|e| Error::cannot_execute(format!("{shown}: cannot execute: {e}")))?;
    let file = File::open(path).map_err(|e| Error::cannot_execute(format!("{shown}: {e}")))?;
    parse(path, file)
}

/// Opens and checks a program's `PT_INTERP` loader, which must be an ELF file of `arch` that
/// asks for no loader itself.
pub fn open_interpreter(path: &Path, arch: Arch, program: &Path) -> Result<ElfFile, Error> {
    let ctx = |why: String| {
        Error::cannot_execute(format!(
            "{}: cannot use its interpreter {}: {why}",
            program.display(),
            path.display()
        ))
    };
    let file = File::open(path).map_err(|e| ctx(e.to_string()))?;
    let elf = parse(path, file).map_err(|e| ctx(e.message))?;
    if elf.arch != arch {
        return Err(ctx(format!("it is {}, the program {}", arch_name(elf.arch), arch_name(arch))));
    }
    if elf.interp.is_some() {
        return Err(ctx("it names an interpreter itself".into()));
    }
    Ok(elf)
}

fn parse(path: &Path, mut file: File) -> Result<ElfFile, Error> {
    let shown = path.display();
    let bad = |why: &str| Error::cannot_execute(format!("{shown}: {why}"));
    let mut ident = [0u8; 64];
    let n = read_full(&mut file, &mut ident).map_err(|e| bad(&e.to_string()))?;
    if n < 4 || &ident[..4] != b"\x7fELF" {
        return Err(bad("not an ELF file (exec format error)"));
    }
    if n < 64 || ident[4] != 2 {
        return Err(bad("not a 64-bit ELF file"));
    }
    if ident[5] != 1 {
        return Err(bad("not a little-endian ELF file"));
    }
    let header = goblin::elf::Elf::parse_header(&ident).map_err(|e| bad(&format!("bad ELF header: {e}")))?;
    let arch = match header.e_machine {
        EM_X86_64 => Arch::X86_64,
        EM_RISCV => Arch::Riscv64,
        m => return Err(bad(&format!("ELF machine {m} is neither x86_64 nor riscv64"))),
    };
    let relocatable = match header.e_type {
        ET_EXEC => false,
        ET_DYN => true,
        _ => return Err(bad("not an executable (neither ET_EXEC nor ET_DYN)")),
    };
    if header.e_phentsize as usize != goblin::elf64::program_header::SIZEOF_PHDR {
        return Err(bad("unexpected program header size"));
    }
    if header.e_phnum == 0 || header.e_phnum > MAX_PHNUM {
        return Err(bad("no or too many program headers"));
    }
    let table_len = header.e_phnum as usize * header.e_phentsize as usize;
    let mut table = vec![0u8; table_len];
    file.read_exact_at(&mut table, header.e_phoff).map_err(|_| bad("truncated program headers"))?;
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = ProgramHeader::parse(&table, 0, header.e_phnum as usize, ctx)
        .map_err(|e| bad(&format!("bad program headers: {e}")))?;

    let size = file.metadata().map_err(|e| bad(&e.to_string()))?.len();
    let mut loads = 0;
    for p in phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        loads += 1;
        let file_end = p.p_offset.checked_add(p.p_filesz);
        let mem_end = p.p_vaddr.checked_add(p.p_memsz);
        if p.p_filesz > p.p_memsz || file_end.is_none_or(|e| e > size) || mem_end.is_none_or(|e| e >= 1 << 47)
        {
            return Err(bad("a PT_LOAD segment lies outside the file or the address space"));
        }
        if p.p_vaddr % PAGE != p.p_offset % PAGE {
            return Err(bad("a PT_LOAD segment's address and file offset disagree modulo the page size"));
        }
        if !relocatable && p.p_vaddr < MIN_FIXED_ADDR {
            return Err(bad("a fixed-position segment lies below the lowest mappable address"));
        }
    }
    if loads == 0 {
        return Err(bad("no PT_LOAD segment"));
    }
    let interp = match phdrs.iter().find(|p| p.p_type == PT_INTERP) {
        None => None,
        Some(p) => {
            if p.p_filesz < 2 || p.p_filesz > MAX_INTERP {
                return Err(bad("bad PT_INTERP size"));
            }
            let mut buf = vec![0u8; p.p_filesz as usize];
            file.read_exact_at(&mut buf, p.p_offset).map_err(|_| bad("truncated PT_INTERP"))?;
            let end =
                buf.iter().position(|&b| b == 0).ok_or_else(|| bad("PT_INTERP is not NUL-terminated"))?;
            if end == 0 {
                return Err(bad("empty PT_INTERP"));
            }
            Some(PathBuf::from(OsStr::from_bytes(&buf[..end])))
        }
    };
    let entry_ok = phdrs.iter().any(|p| {
        p.p_type == PT_LOAD
            && p.p_flags & 1 != 0
            && (p.p_vaddr..p.p_vaddr + p.p_memsz).contains(&header.e_entry)
    });
    if !entry_ok {
        return Err(bad("the entry point is not in an executable segment"));
    }
    Ok(ElfFile {
        path: path.to_path_buf(),
        file,
        arch,
        relocatable,
        entry: header.e_entry,
        phoff: header.e_phoff,
        phentsize: header.e_phentsize,
        phdrs,
        interp,
    })
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
