//! x86_64 layout (Linux 6.2): four pages before the image. `vvar` (page 0) holds `vdso_data` at
//! byte 128; pages 1 and 2 are reserved for the paravirtual and Hyper-V clocks Linux maps there;
//! page 3 is the time-namespace slot. Byte 0 of page 0 is this project's extension saying how
//! `getcpu` reads the CPU number (Linux leaves the first 128 bytes zero, which means `lsl`).

use core::mem::size_of;

use crate::arch::{Arch, ArchInfo, Emulation, Export, HashStyles};

/// No architecture tail on x86_64: the struct ends at byte 240.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchData;

/// `struct vdso_data` as x86_64 lays it out.
pub type VdsoData = crate::VdsoData<ArchData>;

/// Pages mapped before the image.
pub const DATA_PAGES: usize = 4;
/// Page holding `vdso_data` (or the namespace page for a task in a time namespace).
pub const VVAR_PAGE: usize = 0;
/// Reserved for the paravirtual clock page.
pub const PVCLOCK_PAGE: usize = 1;
/// Reserved for the Hyper-V reference TSC page.
pub const HVCLOCK_PAGE: usize = 2;
/// Where the real data page goes for a task in a time namespace.
pub const TIMENS_PAGE: usize = 3;
/// Offset of `vdso_data[0]` inside its page.
pub const VDSO_DATA_OFFSET: usize = 128;
/// Offset in page 0 of the byte selecting how `getcpu` reads the CPU number.
pub const GETCPU_MODE_OFFSET: usize = 0;
/// `getcpu` mode: read the limit of the CPU-number GDT segment with `lsl` (Linux's default).
pub const GETCPU_MODE_LSL: u8 = 0;
/// `getcpu` mode: `rdpid` (the kernel promises RDPID and `TSC_AUX = (node << 12) | cpu`).
pub const GETCPU_MODE_RDPID: u8 = 1;
/// Offset of `vdso_rng_data` in the vvar page: Linux 6.11's
/// `DECLARE_VVAR_SINGLE(640, struct vdso_rng_data, _vdso_rng_data)` (arch/x86/include/asm/vvar.h),
/// a cache line after 6.10's `vdso_data[2]` (248 bytes each from byte 128).
pub const RNG_DATA_OFFSET: usize = 640;
/// GDT selector whose limit holds `(node << 12) | cpu`.
pub const GDT_CPUNODE_SELECTOR: u16 = 0x7b;
/// "Linux" version note value: the release whose layout this follows.
pub const LINUX_VERSION_CODE: u32 = 0x06_02_00;
/// Version node of every exported symbol.
pub const VERSION_NODE: &str = "LINUX_2.6";
/// Number of hwprobe keys (none on x86_64).
pub const HWPROBE_KEYS: usize = 0;

/// The x86_64 row of the architecture table.
pub const INFO: ArchInfo = ArchInfo {
    arch: Arch::X86_64,
    name: "x86_64",
    aliases: &["amd64", "x86-64"],
    linux_target: "x86_64-unknown-linux-gnu",
    bare_target: "x86_64-unknown-none",
    e_machine: 62, // EM_X86_64
    e_flags: 0,
    version_node: VERSION_NODE,
    symbol_prefix: "__vdso_",
    exports: &[
        Export::global("__vdso_clock_gettime"),
        Export::global("__vdso_gettimeofday"),
        Export::global("__vdso_time"),
        Export::global("__vdso_getcpu"),
        Export::global("__vdso_clock_getres"),
        Export::global("__vdso_getrandom"),
        Export::weak("clock_gettime"),
        Export::weak("gettimeofday"),
        Export::weak("time"),
        Export::weak("getcpu"),
        Export::weak("clock_getres"),
        Export::weak("getrandom"),
    ],
    // Linux links x86's vDSO with `--hash-style=both` (arch/x86/entry/vdso/Makefile).
    hash_style: HashStyles::Both,
    data_pages: DATA_PAGES,
    vvar_page: VVAR_PAGE,
    timens_page: TIMENS_PAGE,
    vdso_data_offset: VDSO_DATA_OFFSET,
    vdso_data_size: size_of::<VdsoData>(),
    hwprobe_keys: HWPROBE_KEYS,
    getcpu_mode_offset: Some(GETCPU_MODE_OFFSET),
    rng_data_offset: Some(RNG_DATA_OFFSET),
    rng_data_page: VVAR_PAGE,
    linux_version_code: LINUX_VERSION_CODE,
    // x86_64 signal handlers return through the libc's SA_RESTORER.
    paravirt_clocks: true,
    sigreturn: None,
    pcpu_page: None,
    pcpu_slots: 0,
    build_std: false,
    emulation: Emulation {
        qemu: "qemu-x86_64",
        ld_prefix: "/usr/x86_64-linux-gnu",
        cross_gcc: "x86_64-linux-gnu-gcc",
        glibc: true,
        goarch: "amd64",
        // Unused today (x86_64 is the host the other launchers run from).
        launcher_text: 0x6000_0000,
        fixed_layout: false,
    },
};

crate::assert_common_layout!(VdsoData);
const _: () = {
    assert!(size_of::<VdsoData>() == 240);
    assert!(crate::elf_hash(VERSION_NODE.as_bytes()) == 0x03ae_75f6);
    assert!(VDSO_DATA_OFFSET + crate::CS_BASES * size_of::<VdsoData>() <= crate::variant::MIN_PAGE_SIZE);
    assert!(GETCPU_MODE_OFFSET < VDSO_DATA_OFFSET);
};
