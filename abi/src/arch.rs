//! The architecture table: one `const` row per architecture, read by everyone.
//!
//! Everything that differs between the images of two architectures and is a *fact* rather than
//! code lives in that architecture's [`ArchInfo`] row (in its own file, `abi/src/<arch>.rs`):
//! names, Rust targets, ELF machine and flags, version node, the export list, the data-page
//! layout, the Linux release whose layout it follows, the signal-return trampoline's words, and
//! the tools that run its programs on another host. The build script, the root library, the
//! verifier, `kernel-stub`, the launcher and the tests all look facts up here, so adding an
//! architecture is its per-arch files plus one arm in [`Arch::info`] and one entry in [`Arch::ALL`].
//!
//! Code (the counter read, the fallback syscalls) is not data: it lives in each layer's per-arch
//! file (`vdso/src/arch/<arch>.rs`, `kernel-stub/src/counter/<arch>.rs`, ...).
//!
//! Adding an architecture (aarch64 was added this way) is:
//! - `abi/src/<arch>.rs`: the layout types and the `INFO` row; here, the enum variant, its arm in
//!   [`Arch::info`], its entry in [`Arch::ALL`] and in `TARGET_ARCH`; `pub use <arch> as native`
//!   in `lib.rs`;
//! - `vdso/src/arch/<arch>.rs` (the hooks of `vdso/src/hooks.rs`) and `<arch>/exports.rs`, one
//!   `cfg_attr` line in `vdso/src/lib.rs`, and the entry points' `.text.<name>` lines in
//!   `linker/vdso.lds` if their names are new;
//! - `kernel-stub/src/counter/<arch>.rs`, `kernel-stub/src/arch/<arch>.rs` (the `arch_data`
//!   accessors), one arm of `with_arch_data!` and the arch in the `cfg` of `NativeArchData`;
//!   `launcher/src/arch/<arch>.rs` (program entry);
//! - its rows in `abi/src/variant.rs`'s `VARIANTS` (profile and page size of each image; exactly
//!   one the arch's default);
//! - the target in `rust-toolchain.toml`, the runner in `.cargo/config.toml` (under `setarch -R`
//!   when `fixed_layout`), the cross packages
//!   in `scripts/setup.sh`, and the qemu step in `scripts/test.sh`; `VDSO_IMAGES=update` then
//!   builds, verifies and commits `images/<dir>/linux-vdso.so.1` for each of its variant rows.
//!
//! Each `cfg_attr` ladder ends in a `compile_error!` for a target without its file.

/// An architecture we build an image for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// x86_64, Linux 6.2 layout, `LINUX_2.6`.
    X86_64,
    /// riscv64, Linux 6.8 layout, `LINUX_4.15`.
    Riscv64,
    /// aarch64, Linux 6.8 layout, `LINUX_2.6.39`.
    Aarch64,
    /// loongarch64, Linux 6.8 layout, `LINUX_5.10`.
    Loongarch64,
}

/// One exported dynamic symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    /// Symbol name.
    pub name: &'static str,
    /// A weak alias (x86_64's unprefixed names) of `__vdso_<name>` rather than a global
    /// definition.
    pub weak: bool,
}

impl Export {
    /// A global definition.
    pub const fn global(name: &'static str) -> Export {
        Export { name, weak: false }
    }

    /// A weak alias of `__vdso_<name>`.
    pub const fn weak(name: &'static str) -> Export {
        Export { name, weak: true }
    }
}

/// The signal-return trampoline an architecture without (mandatory) `SA_RESTORER` exports: the
/// kernel points a handler's return address at it, and unwinders recognise it by its words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sigreturn {
    /// Exported name of the trampoline.
    pub symbol: &'static str,
    /// Its instruction words, in order (little-endian in the image).
    pub words: &'static [u32],
    /// The `nop` just before it, inside the FDE: unwinders look up `pc - 1` of a frame, which for
    /// a handler returning here lands in that `nop` (docs/abi.md section 5).
    pub nop: u32,
    /// DWARF number of sp, and the CFA the FDE defines at the trampoline: `sp + cfa_offset`, the
    /// kernel's `sigcontext` in the `rt_sigframe` at the handler's sp (siginfo, then `uc_mcontext`).
    pub sp_column: u16,
    /// See `sp_column`.
    pub cfa_offset: i64,
    /// The FDE's return-address column (the interrupted pc) and where it is saved, from the CFA.
    pub pc_column: u16,
    /// See `pc_column`.
    pub pc_offset: i64,
}

/// The CFA of every signal trampoline's FDE, from the handler's sp: `sizeof(siginfo_t)` (128)
/// plus the offset of `uc_mcontext` in the `struct ucontext` of riscv64, aarch64 and loongarch64
/// (flags, link, 24-byte stack, 128 bytes of sigset, aligned to 16: 176).
pub const SIGFRAME_CFA_OFFSET: i64 = 128 + 176;

/// Which symbol hash tables an image carries (the linker's `--hash-style`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashStyles {
    /// `DT_HASH` only (`--hash-style=sysv`): every loader then looks symbols up through it.
    SysvOnly,
    /// `DT_HASH` and `DT_GNU_HASH` (`--hash-style=both`).
    Both,
}

impl HashStyles {
    /// The linker's `--hash-style` value.
    pub const fn linker_flag(self) -> &'static str {
        match self {
            HashStyles::SysvOnly => "sysv",
            HashStyles::Both => "both",
        }
    }

    /// Whether the image carries `DT_GNU_HASH`.
    pub const fn has_gnu(self) -> bool {
        matches!(self, HashStyles::Both)
    }
}

/// How programs of an architecture run on a host of another: qemu user mode and the
/// cross toolchain that links them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Emulation {
    /// The qemu-user binary (`qemu-riscv64`).
    pub qemu: &'static str,
    /// Its `-L` prefix, where the cross libc and loader live (`/usr/riscv64-linux-gnu`).
    pub ld_prefix: &'static str,
    /// The cross C compiler that links test binaries (Debian's `riscv64-linux-gnu-gcc`; a path
    /// relative to the repository for loongarch64's Zig wrapper).
    pub cross_gcc: &'static str,
    /// Whether this machine has a glibc for it (a cross sysroot under `ld_prefix` that
    /// `cross_gcc` links against); without one (loongarch64: Debian 12 has none) `cross_gcc`
    /// builds static musl programs and the client matrix has no glibc rows.
    pub glibc: bool,
    /// Go's `GOARCH` for it (`riscv64`, `arm64`): the client matrix builds its Go program so.
    pub goarch: &'static str,
    /// Where the text of the static `vdso` launcher built for it starts
    /// (`-Wl,-Ttext-segment`): clear of where its executables link, of where qemu-user maps its
    /// guests' loaders and position-independent programs, and within its static start files'
    /// code model (`scripts/build-launcher.sh` reads it here; docs/launcher.md says why).
    pub launcher_text: u64,
    /// Whether qemu must run with the host's address-space randomization off (as `setarch -R`
    /// runs it: personality `ADDR_NO_RANDOMIZE`, inherited by everything it starts).
    /// qemu-loongarch64 7.2 answers an `mmap` whose address hint is out of the guest's range with
    /// `ENOMEM` (Linux ignores a hint it cannot use), and, with the host's layout randomized,
    /// sometimes places a mapping at 0x10000; Zig's libc `malloc` (our static loongarch64 test
    /// programs and launcher) asks for each new chunk just below the last one, so its hint then
    /// wraps below 0 and the allocation fails ("memory allocation of 16 bytes failed"): about
    /// 2 in 100 processes, none of 300 with randomization off (docs/launcher.md).
    pub fixed_layout: bool,
}

/// Every fact about one architecture's image and mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArchInfo {
    /// Which architecture.
    pub arch: Arch,
    /// Short name used in paths, output and `AT_PLATFORM` (`x86_64`, `riscv64`).
    pub name: &'static str,
    /// Other spellings accepted on the command line (`amd64`, `riscv64gc`).
    pub aliases: &'static [&'static str],
    /// Rust target the image and the Linux test binaries are compiled for.
    pub linux_target: &'static str,
    /// Rust bare-metal target the `no_std` crates must build for (what a kernel uses).
    pub bare_target: &'static str,
    /// ELF `e_machine`.
    pub e_machine: u16,
    /// ELF `e_flags` the image must carry (riscv64 glibc's loader checks the float ABI).
    pub e_flags: u32,
    /// Version node of every export.
    pub version_node: &'static str,
    /// Prefix of the exported entry points' names (`__vdso_`; arm64's `__kernel_`): the clock
    /// entry points are `<prefix>clock_gettime`, `<prefix>gettimeofday`, `<prefix>clock_getres`.
    pub symbol_prefix: &'static str,
    /// The exported symbols, in the order of docs/abi.md section 5.
    pub exports: &'static [Export],
    /// The symbol hash tables the image carries, as Linux links this architecture's vDSO.
    pub hash_style: HashStyles,
    /// Pages mapped before the image.
    pub data_pages: usize,
    /// Page holding `vdso_data` (the namespace page for a task in a time namespace).
    pub vvar_page: usize,
    /// Page where the real data page goes for a task in a time namespace.
    pub timens_page: usize,
    /// Offset of `vdso_data[0]` inside its page.
    pub vdso_data_offset: usize,
    /// `size_of::<VdsoData<A>>()`.
    pub vdso_data_size: usize,
    /// Number of riscv hwprobe values on the page (0 elsewhere).
    pub hwprobe_keys: usize,
    /// Offset in page 0 of x86_64's `getcpu`-mode byte (our extension); `None` elsewhere.
    pub getcpu_mode_offset: Option<usize>,
    /// Offset of `vdso_rng_data` ([`crate::rng::VdsoRngData`]) inside its page,
    /// [`ArchInfo::rng_data_page`]. Where Linux's classic layout puts it: x86_64 byte 640 of
    /// the data page (6.11), arm64 byte 480 (6.12), loongarch64 after the per-CPU array of
    /// `struct loongarch_vdso_data` (6.12); riscv64 had none before the split layout
    /// (docs/abi.md says what we chose). `None`: the image exports no `getrandom`.
    pub rng_data_offset: Option<usize>,
    /// Data page holding `vdso_rng_data`. When it is `vvar_page` (x86_64, arm64, riscv64) the
    /// struct is on the real data page, so a task in a time namespace finds it at
    /// `timens_page`; any other page (loongarch64's per-CPU page) is never swapped.
    pub rng_data_page: usize,
    /// Value of the "Linux" version note: the release whose layout this follows.
    pub linux_version_code: u32,
    /// The signal-return trampoline, if the architecture's kernel needs one in the vDSO.
    pub sigreturn: Option<Sigreturn>,
    /// Whether Linux gives this architecture paravirtual clock modes (`clock_mode` PVCLOCK and
    /// HVCLOCK: x86_64's KVM and Hyper-V clocks); elsewhere only NONE and the arch counter exist.
    pub paravirt_clocks: bool,
    /// loongarch64's per-CPU page (`vdso_pcpu_data`, each CPU's NUMA node), which `getcpu`
    /// reads; `None` elsewhere.
    pub pcpu_page: Option<usize>,
    /// CPUs the per-CPU array serves (its `NR_CPUS`, 64-byte slots from `pcpu_page` on); 0
    /// where there is none.
    pub pcpu_slots: usize,
    /// rustup ships no prebuilt standard library for the Rust targets: `core` (the image,
    /// bare-metal crates) and `std` (test binaries) are built from `rust-src` with `-Z
    /// build-std` under `RUSTC_BOOTSTRAP=1` (scripts/cargo-build-std.sh, NOTES.md).
    pub build_std: bool,
    /// How its programs run on a host of another architecture.
    pub emulation: Emulation,
}

impl Arch {
    /// Every architecture, in the order they are built and printed.
    pub const ALL: [Arch; 4] = [Arch::Aarch64, Arch::Loongarch64, Arch::Riscv64, Arch::X86_64];

    /// The architecture's row of the table.
    pub const fn info(self) -> &'static ArchInfo {
        match self {
            Arch::X86_64 => &crate::x86_64::INFO,
            Arch::Riscv64 => &crate::riscv64::INFO,
            Arch::Aarch64 => &crate::aarch64::INFO,
            Arch::Loongarch64 => &crate::loongarch64::INFO,
        }
    }

    /// The architecture of the compilation target, if it is one of ours.
    pub const fn native() -> Option<Arch> {
        let mut i = 0;
        while i < Arch::ALL.len() {
            if str_eq(Arch::ALL[i].info().name, TARGET_ARCH) {
                return Some(Arch::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// Parses [`Arch::name`] or one of its aliases.
    pub fn from_name(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.info().name == name || a.info().aliases.contains(&name))
    }

    /// The architecture whose images carry ELF machine `e_machine`.
    pub fn from_e_machine(e_machine: u16) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.info().e_machine == e_machine)
    }

    /// The architectures' names for messages: `riscv64 or x86_64` (it `Display`s).
    pub const fn names() -> Names {
        Names
    }

    /// Short name used in paths and output (`x86_64`, `riscv64`).
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// Rust target the image is compiled for.
    pub const fn linux_target(self) -> &'static str {
        self.info().linux_target
    }

    /// ELF `e_machine`.
    pub const fn e_machine(self) -> u16 {
        self.info().e_machine
    }

    /// Version node of every export.
    pub const fn version_node(self) -> &'static str {
        self.info().version_node
    }

    /// The exported symbols, in the order of docs/abi.md.
    pub const fn exports(self) -> &'static [Export] {
        self.info().exports
    }

    /// The symbol hash tables the image carries.
    pub const fn hash_style(self) -> HashStyles {
        self.info().hash_style
    }

    /// Pages mapped before the image.
    pub const fn data_pages(self) -> usize {
        self.info().data_pages
    }

    /// Offset of `vdso_data[0]` inside page 0.
    pub const fn vdso_data_offset(self) -> usize {
        self.info().vdso_data_offset
    }

    /// Size of one `vdso_data`.
    pub const fn vdso_data_size(self) -> usize {
        self.info().vdso_data_size
    }

    /// Page index of the time-namespace slot.
    pub const fn timens_page(self) -> usize {
        self.info().timens_page
    }

    /// Number of hwprobe values on the page.
    pub const fn hwprobe_keys(self) -> usize {
        self.info().hwprobe_keys
    }

    /// Value of the "Linux" version note: the release whose layout we follow.
    pub const fn linux_version_code(self) -> u32 {
        self.info().linux_version_code
    }

    /// Offset of `vdso_rng_data` inside the real data page (`None`: no `getrandom`).
    pub const fn rng_data_offset(self) -> Option<usize> {
        self.info().rng_data_offset
    }

    /// See [`ArchInfo::rng_data_page`].
    pub const fn rng_data_page(self) -> usize {
        self.info().rng_data_page
    }
}

/// `a == b` in a `const fn`.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `target_arch` of the compilation target, as rustc spells it (which is our row's name for every
/// architecture we have).
const TARGET_ARCH: &str = {
    // `cfg!` is the only way to read `target_arch` in a const; each arm is one name, so this list
    // grows with the table but nothing else branches on the target.
    if cfg!(target_arch = "x86_64") {
        "x86_64"
    } else if cfg!(target_arch = "riscv64") {
        "riscv64"
    } else if cfg!(target_arch = "aarch64") {
        "aarch64"
    } else if cfg!(target_arch = "loongarch64") {
        "loongarch64"
    } else {
        ""
    }
};

/// Displays the names of [`Arch::ALL`] as a list for messages (`riscv64 or x86_64`).
#[derive(Clone, Copy, Debug)]
pub struct Names;

impl core::fmt::Display for Names {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let n = Arch::ALL.len();
        for (i, a) in Arch::ALL.iter().enumerate() {
            let sep = match i {
                0 => "",
                _ if i + 1 == n => " or ",
                _ => ", ",
            };
            write!(f, "{sep}{}", a.name())?;
        }
        Ok(())
    }
}

const _: () = {
    // Every row is its own arch's, and the pages it names exist and fit.
    let mut i = 0;
    while i < Arch::ALL.len() {
        let r = Arch::ALL[i].info();
        assert!(r.arch as u8 == Arch::ALL[i] as u8);
        assert!(r.vdso_data_offset + crate::CS_BASES * r.vdso_data_size <= crate::variant::MIN_PAGE_SIZE);
        assert!(r.vdso_data_offset.is_multiple_of(8) && r.vdso_data_size.is_multiple_of(8));
        assert!(r.vvar_page < r.data_pages && r.timens_page < r.data_pages);
        assert!(r.vvar_page != r.timens_page);
        // The RNG data follows both clock structs, aligned, inside the page.
        assert!(r.rng_data_page < r.data_pages && r.rng_data_page != r.timens_page);
        if let Some(rng) = r.rng_data_offset {
            // On the vvar page it must clear both clock structs.
            assert!(
                r.rng_data_page != r.vvar_page
                    || rng >= r.vdso_data_offset + crate::CS_BASES * r.vdso_data_size
            );
            assert!(rng.is_multiple_of(8));
            assert!(rng + crate::rng::RNG_DATA_SIZE <= crate::variant::MIN_PAGE_SIZE);
        }
        assert!(crate::elf_hash(r.version_node.as_bytes()) != 0);
        assert!(!r.symbol_prefix.is_empty());
        i += 1;
    }
};
