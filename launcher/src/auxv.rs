//! The auxiliary vector handed to the program: what the kernel would have given it for this
//! executable, with `AT_SYSINFO_EHDR` pointing at our image.
//!
//! Values that describe the machine (`AT_HWCAP`, `AT_HWCAP2`, `AT_CLKTCK`, `AT_MINSIGSTKSZ`) are
//! the ones the launcher itself received, so the program sees the same CPU the launcher runs on
//! (under qemu-user, the CPU qemu emulates). `AT_RANDOM`, `AT_EXECFN` and `AT_PLATFORM` point into
//! the stack and are added by [`crate::stack::build`].

use vdso_kernel_stub::Arch;

use crate::load::Loaded;
use crate::program::ElfFile;

/// End of the vector.
pub const AT_NULL: u64 = 0;
/// Program headers of the program.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Load address of the interpreter.
pub const AT_BASE: u64 = 7;
/// Flags (always 0).
pub const AT_FLAGS: u64 = 8;
/// The program's entry point.
pub const AT_ENTRY: u64 = 9;
/// Real user id.
pub const AT_UID: u64 = 11;
/// Effective user id.
pub const AT_EUID: u64 = 12;
/// Real group id.
pub const AT_GID: u64 = 13;
/// Effective group id.
pub const AT_EGID: u64 = 14;
/// Platform string.
pub const AT_PLATFORM: u64 = 15;
/// CPU capabilities.
pub const AT_HWCAP: u64 = 16;
/// Clock ticks per second (`times`).
pub const AT_CLKTCK: u64 = 17;
/// Secure mode (set-id program).
pub const AT_SECURE: u64 = 23;
/// 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More CPU capabilities.
pub const AT_HWCAP2: u64 = 26;
/// The file name the program was run as.
pub const AT_EXECFN: u64 = 31;
/// The vDSO's ELF header.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// Minimal signal stack size.
pub const AT_MINSIGSTKSZ: u64 = 51;

/// The platform string Linux passes for `arch`.
pub fn platform(arch: Arch) -> &'static [u8] {
    // Linux's ELF_PLATFORM is the architecture's name for every architecture of the table.
    arch.name().as_bytes()
}

fn own(kind: u64) -> u64 {
    // SAFETY: getauxval only reads the auxiliary vector libc saved at start-up.
    unsafe { libc::getauxval(kind as libc::c_ulong) as u64 }
}

/// The entries for a program loaded as `program` (and `interp` if it has a loader), with the
/// vDSO image at `sysinfo_ehdr` and `page_size` the page size of its variant (the host's). The
/// caller's stack builder adds the pointer-valued ones.
pub fn entries(
    program: &ElfFile,
    loaded: &Loaded,
    interp: Option<&Loaded>,
    sysinfo_ehdr: u64,
    page_size: u64,
) -> Vec<(u64, u64)> {
    // SAFETY: these calls only read the process's credentials.
    let (uid, euid, gid, egid) =
        unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
    let mut v = vec![
        (AT_SYSINFO_EHDR, sysinfo_ehdr),
        (AT_HWCAP, own(AT_HWCAP)),
        (AT_PAGESZ, page_size),
        (
            AT_CLKTCK,
            match own(AT_CLKTCK) {
                0 => 100,
                t => t,
            },
        ),
        (AT_PHDR, loaded.phdr),
        (AT_PHENT, program.phentsize as u64),
        (AT_PHNUM, program.phdrs.len() as u64),
        (AT_BASE, interp.map_or(0, |i| i.bias)),
        (AT_FLAGS, 0),
        (AT_ENTRY, loaded.entry),
        (AT_UID, uid as u64),
        (AT_EUID, euid as u64),
        (AT_GID, gid as u64),
        (AT_EGID, egid as u64),
        (AT_SECURE, 0),
    ];
    let hwcap2 = own(AT_HWCAP2);
    if hwcap2 != 0 || program.arch == Arch::X86_64 {
        v.push((AT_HWCAP2, hwcap2));
    }
    let minsig = own(AT_MINSIGSTKSZ);
    if minsig != 0 {
        v.push((AT_MINSIGSTKSZ, minsig));
    }
    v
}
