//! What each image must be: architecture facts and the exported symbol set of docs/abi.md section 5.
//!
//! The build script (which links and verifies the images), the generated tables and the `vdso`
//! command all read this one table, so a symbol is added in exactly one place.

use vdso_abi::{riscv64, x86_64};

/// An architecture we build an image for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// x86_64, Linux 6.2 layout, `LINUX_2.6`.
    X86_64,
    /// riscv64, Linux 6.8 layout, `LINUX_4.15`.
    Riscv64,
}

/// One exported dynamic symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    /// Symbol name.
    pub name: &'static str,
    /// Weak alias (x86_64's unprefixed names) rather than a global definition.
    pub weak: bool,
}

const fn global(name: &'static str) -> Export {
    Export { name, weak: false }
}
const fn weak(name: &'static str) -> Export {
    Export { name, weak: true }
}

const X86_64_EXPORTS: &[Export] = &[
    global("__vdso_clock_gettime"),
    global("__vdso_gettimeofday"),
    global("__vdso_time"),
    global("__vdso_getcpu"),
    global("__vdso_clock_getres"),
    weak("clock_gettime"),
    weak("gettimeofday"),
    weak("time"),
    weak("getcpu"),
    weak("clock_getres"),
];

const RISCV64_EXPORTS: &[Export] = &[
    global("__vdso_rt_sigreturn"),
    global("__vdso_gettimeofday"),
    global("__vdso_clock_gettime"),
    global("__vdso_clock_getres"),
    global("__vdso_getcpu"),
    global("__vdso_flush_icache"),
    global("__vdso_riscv_hwprobe"),
];

/// A signal-return trampoline that unwinders (libgcc, gdb, libunwind) recognise by its exact
/// instruction words at the symbol's value, so no other encoding of the same syscall will do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sigreturn {
    /// The exported symbol.
    pub symbol: &'static str,
    /// The instruction words, in order, each stored little-endian.
    pub words: [u32; 2],
    /// The instructions as assembly, for messages.
    pub assembly: &'static str,
}

/// The soname every image carries (and the base entry of its version definitions).
pub const SONAME: &str = "linux-vdso.so.1";

/// Largest loaded segment: some kernels map and copy only one page of text (docs/abi.md section 1).
pub const MAX_LOAD_SIZE: u64 = 4096;

impl Arch {
    /// Both architectures, in the order they are built and printed.
    pub const ALL: [Arch; 2] = [Arch::Riscv64, Arch::X86_64];

    /// Short name used in paths and output (`x86_64`, `riscv64`).
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// Parses [`Arch::name`] (also accepting `riscv64gc` and `amd64`).
    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "x86_64" | "amd64" | "x86-64" => Some(Arch::X86_64),
            "riscv64" | "riscv64gc" => Some(Arch::Riscv64),
            _ => None,
        }
    }

    /// The architecture of the compilation target, if it is one of ours.
    pub const fn native() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "riscv64") {
            Some(Arch::Riscv64)
        } else {
            None
        }
    }

    /// Rust target the image is compiled for.
    pub const fn linux_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Riscv64 => "riscv64gc-unknown-linux-gnu",
        }
    }

    /// ELF `e_machine`.
    pub const fn e_machine(self) -> u16 {
        match self {
            Arch::X86_64 => 62,   // EM_X86_64
            Arch::Riscv64 => 243, // EM_RISCV
        }
    }

    /// Version node of every export.
    pub const fn version_node(self) -> &'static str {
        match self {
            Arch::X86_64 => x86_64::VERSION_NODE,
            Arch::Riscv64 => riscv64::VERSION_NODE,
        }
    }

    /// The exported symbols, in the order of docs/abi.md.
    pub const fn exports(self) -> &'static [Export] {
        match self {
            Arch::X86_64 => X86_64_EXPORTS,
            Arch::Riscv64 => RISCV64_EXPORTS,
        }
    }

    /// The exported signal-return trampoline and its required instruction words, if the arch
    /// exports one (x86_64 does not: its C library supplies the restorer).
    pub const fn sigreturn(self) -> Option<Sigreturn> {
        match self {
            Arch::X86_64 => None,
            Arch::Riscv64 => Some(Sigreturn {
                symbol: "__vdso_rt_sigreturn",
                words: [0x08b0_0893, 0x0000_0073],
                assembly: "li a7, 139; ecall",
            }),
        }
    }

    /// Pages mapped before the image.
    pub const fn data_pages(self) -> usize {
        match self {
            Arch::X86_64 => x86_64::DATA_PAGES,
            Arch::Riscv64 => riscv64::DATA_PAGES,
        }
    }

    /// Offset of `vdso_data[0]` inside page 0.
    pub const fn vdso_data_offset(self) -> usize {
        match self {
            Arch::X86_64 => x86_64::VDSO_DATA_OFFSET,
            Arch::Riscv64 => riscv64::VDSO_DATA_OFFSET,
        }
    }

    /// Size of one `vdso_data`.
    pub const fn vdso_data_size(self) -> usize {
        match self {
            Arch::X86_64 => core::mem::size_of::<x86_64::VdsoData>(),
            Arch::Riscv64 => core::mem::size_of::<riscv64::VdsoData>(),
        }
    }

    /// Page index of the time-namespace slot.
    pub const fn timens_page(self) -> usize {
        match self {
            Arch::X86_64 => x86_64::TIMENS_PAGE,
            Arch::Riscv64 => riscv64::TIMENS_PAGE,
        }
    }

    /// Number of hwprobe values on the page.
    pub const fn hwprobe_keys(self) -> usize {
        match self {
            Arch::X86_64 => x86_64::HWPROBE_KEYS,
            Arch::Riscv64 => riscv64::HWPROBE_KEYS,
        }
    }

    /// Value of the "Linux" version note: the release whose layout we follow.
    pub const fn linux_version_code(self) -> u32 {
        match self {
            Arch::X86_64 => x86_64::LINUX_VERSION_CODE,
            Arch::Riscv64 => riscv64::LINUX_VERSION_CODE,
        }
    }
}

/// The SysV ELF hash (`vd_hash` of a version definition, DT_HASH buckets).
pub use vdso_abi::elf_hash;
