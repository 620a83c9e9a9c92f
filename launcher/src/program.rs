//! Finding the program and reading its ELF header and program headers, with every check a
//! kernel's `execve` makes (and a few it leaves to the loader), before anything is mapped.
//!
//! The result, [`ElfFile`], keeps the file open: the loader maps its segments from this very
//! file, so what was checked is what runs.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{ET_DYN, ET_EXEC};
use goblin::elf::program_header::{ProgramHeader, PT_INTERP, PT_LOAD};
use vdso_kernel_stub::Arch;

use crate::error::{Error, Kind};
use crate::options::arch_name;
use crate::shown;

/// The page size the program is mapped with: this address space's (the launcher only maps an
/// image built for it, `crate::variant`).
pub fn page() -> u64 {
    crate::variant::host_page_size() as u64
}
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
        (lo & !(page() - 1), hi.div_ceil(page()) * page())
    }

    /// Largest `p_align` of the loaded segments (at least a page).
    pub fn max_align(&self) -> u64 {
        self.loads().map(|p| p.p_align).filter(|a| a.is_power_of_two()).max().unwrap_or(page()).max(page())
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
    Err(Error::new(Kind::NotFound, format!("{}: command not found in PATH", shown::escaped(name.as_bytes()))))
}

/// Bytes at the start of a file that `execve` reads to choose a format, and so all of a `#!`
/// line it looks at (Linux's `BINPRM_BUF_SIZE`).
pub const EXEC_HEAD: usize = 256;

/// How many `#!` scripts one `execve` follows before it gives up with `ELOOP`: Linux's
/// `exec_binprm` lets a file be rewritten to its interpreter five times (a script whose
/// interpreter is a script, five deep, still runs; six deep fails), as measured on Linux 6.x.
pub const MAX_SCRIPT_DEPTH: usize = 5;

/// A `#!` line: the interpreter and its optional single argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang {
    /// The interpreter's path (as written: a relative one is relative to the working directory).
    pub interpreter: Vec<u8>,
    /// Everything after the interpreter and the blanks that follow it, trailing blanks removed,
    /// as one argument; `None` when the line names only the interpreter.
    pub argument: Option<Vec<u8>>,
}

/// Parses the `#!` line at the start of `head` (a file's first bytes; only the first
/// [`EXEC_HEAD`] count) the way Linux's `binfmt_script` does. `None`: not a script (no `#!`).
/// `Some(Err(why))`: a script `execve` refuses with `ENOEXEC`.
///
/// The rules: the line ends at the first newline, unless a NUL comes before it. A line with no
/// newline in the first 255 bytes is accepted only if the interpreter's name visibly ends in
/// them (a blank or NUL follows it); its argument is cut at byte 255. Spaces and tabs are the
/// only blanks: those after `#!`, and at the line's end, are skipped. The interpreter runs to
/// the first blank (or NUL); the argument is everything from the next non-blank to the end of
/// the line, inner blanks included, up to a NUL if any.
pub fn parse_shebang(head: &[u8]) -> Option<Result<Shebang, &'static str>> {
    if !head.starts_with(b"#!") {
        return None;
    }
    let mut buf = [0u8; EXEC_HEAD];
    let n = head.len().min(EXEC_HEAD);
    buf[..n].copy_from_slice(&head[..n]);
    let last = EXEC_HEAD - 1;
    let blank = |b: u8| b == b' ' || b == b'\t';
    let ends_name = |b: u8| blank(b) || b == 0;
    let first_where = |from: usize, to: usize, f: &dyn Fn(u8) -> bool| (from..=to).find(|&i| f(buf[i]));

    let newline = buf.iter().take_while(|&&b| b != 0).position(|&b| b == b'\n');
    let mut end = match newline {
        Some(i) => i,
        None => {
            let Some(start) = first_where(2, last, &|b| !blank(b)) else {
                return Some(Err("the #! line names no interpreter"));
            };
            if first_where(start, last, &ends_name).is_none() {
                return Some(Err("the #! line is longer than the 256 bytes exec reads"));
            }
            last
        }
    };
    // `buf[1]` is the '!', so this stops at 2 at the latest.
    while blank(buf[end - 1]) {
        end -= 1;
    }
    let name = match first_where(2, end, &|b| !blank(b)) {
        Some(i) if i < end => i,
        _ => return Some(Err("the #! line names no interpreter")),
    };
    let sep = first_where(name, end, &ends_name);
    let arg = match sep {
        Some(s) if buf[s] != 0 => first_where(s, end, &|b| !blank(b)),
        _ => None,
    };
    buf[end] = 0;
    let c_string = |from: usize, to: usize| -> Vec<u8> {
        buf[from..to].split(|&b| b == 0).next().unwrap_or_default().to_vec()
    };
    let (name_end, argument) = match (sep, arg) {
        (Some(s), Some(a)) => (s, Some(c_string(a, end))),
        _ => (end, None),
    };
    let interpreter = c_string(name, name_end);
    if interpreter.is_empty() {
        // "#!" then a NUL: Linux goes on to open the empty name and fails (EACCES); refused
        // here with the same status class.
        return Some(Err("the #! line names no interpreter"));
    }
    Some(Ok(Shebang { interpreter, argument }))
}

/// What a file turned out to be.
#[derive(Debug)]
pub enum Executable {
    /// An ELF executable this launcher can load.
    Elf(ElfFile),
    /// A `#!` script.
    Script(Shebang),
}

/// Opens and checks a program: it must exist, be a regular executable file, and be an ELF
/// executable this launcher can load or a `#!` script.
///
/// The file is opened once, non-blocking and without becoming a controlling terminal, and the
/// *opened* file is checked (a FIFO swapped in after a look at the path cannot block the
/// launcher); its segments are later mapped from this very descriptor.
pub fn open_executable(path: &Path) -> Result<Executable, Error> {
    let name = shown::path(path);
    let file = open_nonblocking(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::new(Kind::NotFound, format!("{name}: no such file")),
        _ => Error::cannot_execute(format!("{name}: {e}")),
    })?;
    let meta = file.metadata().map_err(|e| Error::cannot_execute(format!("{name}: {e}")))?;
    if !meta.is_file() {
        return Err(Error::cannot_execute(format!("{name}: not a regular file")));
    }
    rustix::fs::access(path, rustix::fs::Access::EXEC_OK)
        .map_err(|e| Error::cannot_execute(format!("{name}: cannot execute: {e}")))?;
    let mut head = [0u8; EXEC_HEAD];
    let n = read_full_at(&file, &mut head).map_err(|e| Error::cannot_execute(format!("{name}: {e}")))?;
    match parse_shebang(&head[..n]) {
        Some(Ok(shebang)) => Ok(Executable::Script(shebang)),
        Some(Err(why)) => Err(Error::cannot_execute(format!("{name}: {why} (exec format error)"))),
        None => parse(path, file).map(Executable::Elf),
    }
}

/// Opens `path` as `execve` would run it: an ELF executable is returned as it is; a `#!`
/// script is replaced by its interpreter, run with `[interpreter, argument (if any), script
/// path, argv[1..]]`, as often as scripts name scripts, up to [`MAX_SCRIPT_DEPTH`]. Returns
/// the ELF file to load and the argument vector it gets.
///
/// Errors are exec's: an interpreter that does not exist is not found (127, as a shell
/// reports it), one that is not executable or not a loadable file cannot execute (126), and a
/// chain deeper than exec follows is refused as `ELOOP` (126).
pub fn open_following_scripts(path: &Path, argv: &[OsString]) -> Result<(ElfFile, Vec<OsString>), Error> {
    let mut current = path.to_path_buf();
    let mut argv = argv.to_vec();
    for depth in 0.. {
        let opened = open_executable(&current).map_err(|e| match depth {
            0 => e,
            _ => Error::new(e.kind, format!("{}: bad #! interpreter: {}", shown::path(path), e.message)),
        })?;
        let shebang = match opened {
            Executable::Elf(elf) => return Ok((elf, argv)),
            Executable::Script(s) => s,
        };
        if depth == MAX_SCRIPT_DEPTH {
            return Err(Error::cannot_execute(format!(
                "{}: more than {MAX_SCRIPT_DEPTH} levels of #! interpreters (a loop?), as exec refuses them (ELOOP)",
                shown::path(path)
            )));
        }
        let interpreter = OsString::from_vec(shebang.interpreter);
        let mut next = vec![interpreter.clone()];
        next.extend(shebang.argument.map(OsString::from_vec));
        next.push(current.into_os_string());
        next.extend(argv.into_iter().skip(1));
        argv = next;
        current = PathBuf::from(interpreter);
    }
    unreachable!("the loop returns")
}

/// Opens and checks a program's `PT_INTERP` loader, which must be an ELF file of `arch` that
/// asks for no loader itself.
pub fn open_interpreter(path: &Path, arch: Arch, program: &Path) -> Result<ElfFile, Error> {
    let ctx = |why: String| {
        Error::cannot_execute(format!(
            "{}: cannot use its interpreter {}: {why}",
            shown::path(program),
            shown::path(path)
        ))
    };
    let file = open_nonblocking(path).map_err(|e| ctx(e.to_string()))?;
    if !file.metadata().map_err(|e| ctx(e.to_string()))?.is_file() {
        return Err(ctx("not a regular file".into()));
    }
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
    let name = shown::path(path);
    let bad = |why: &str| Error::cannot_execute(format!("{name}: {why}"));
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
    let Some(arch) = Arch::from_e_machine(header.e_machine) else {
        let m = header.e_machine;
        return Err(bad(&format!("ELF machine {m} is not one of {}", Arch::names())));
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
        if p.p_vaddr % page() != p.p_offset % page() {
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

/// Opens `path` read-only without blocking (a FIFO opens at once) and without becoming a
/// controlling terminal; close-on-exec, as `std` always opens.
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)
}

/// Reads from offset 0 until `buf` is full or the file ends.
fn read_full_at(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &[u8]) -> (String, Option<String>) {
        let s = parse_shebang(line).expect("a script").expect("accepted");
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (text(s.interpreter), s.argument.map(text))
    }

    fn refused(line: &[u8]) -> &'static str {
        parse_shebang(line).expect("a script").expect_err("refused")
    }

    #[test]
    fn the_interpreter_and_one_argument_are_split_as_linux_splits_them() {
        let sh = || "/bin/sh".to_string();
        assert_eq!(ok(b"#!/bin/sh\necho hi\n"), (sh(), None));
        assert_eq!(ok(b"#!/bin/sh"), (sh(), None), "no newline in a short file");
        assert_eq!(ok(b"#! \t/bin/sh \t\n"), (sh(), None), "blanks around the name");
        assert_eq!(ok(b"#!/bin/sh -e  \t\n"), (sh(), Some("-e".into())), "trailing blanks dropped");
        assert_eq!(ok(b"#!/bin/sh\t-x\n"), (sh(), Some("-x".into())), "a tab separates too");
        assert_eq!(
            ok(b"#!/usr/bin/env python3 -u  x\n"),
            ("/usr/bin/env".into(), Some("python3 -u  x".into())),
            "one argument, inner blanks kept"
        );
        assert_eq!(ok(b"#!/bin/sh\r\n"), ("/bin/sh\r".into(), None), "a CR is part of the name");
        // A NUL ends the strings; one before the newline hides the newline (Linux's strnchr
        // stops at it), and the line is then read as one without a newline.
        assert_eq!(ok(b"#!/bin/sh\0junk\n"), (sh(), None));
        assert_eq!(ok(b"#!/bin/sh -a\0b\n"), (sh(), Some("-a".into())));
        // Beyond the 256 bytes exec reads: the argument is cut at byte 255...
        let mut long = b"#!/bin/sh ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 300));
        assert_eq!(ok(&long), (sh(), Some("a".repeat(EXEC_HEAD - 1 - 10))));
        // ...and a newline past them is not seen.
        long.push(b'\n');
        assert_eq!(ok(&long).1.unwrap().len(), EXEC_HEAD - 1 - 10);
        assert_eq!(parse_shebang(b"\x7fELF\x02\x01"), None);
        assert_eq!(parse_shebang(b"# !/bin/sh\n"), None);
    }

    #[test]
    fn lines_exec_refuses_are_refused() {
        assert!(refused(b"#!\n").contains("names no interpreter"));
        assert!(refused(b"#!").contains("names no interpreter"));
        assert!(refused(b"#!  \t \nx").contains("names no interpreter"));
        assert!(refused(&[b"#!".as_slice(), &[b' '; 300]].concat()).contains("names no interpreter"));
        // An interpreter's name that does not end within the bytes exec reads may be cut short.
        let mut long = b"#!/".to_vec();
        long.extend(std::iter::repeat_n(b'x', 300));
        assert!(refused(&long).contains("longer than the 256 bytes"));
    }
}
