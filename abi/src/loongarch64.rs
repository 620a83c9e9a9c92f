//! loongarch64 layout (Linux 6.8, `arch/loongarch/include/asm/vdso/vdso.h` and
//! `arch/loongarch/kernel/vdso.c`): three pages before the image, in `enum vvar_pages` order.
//! Page 0 holds the generic `vdso_data[2]` at byte 0, page 1 is the time-namespace slot, and
//! from page 2 on `struct loongarch_vdso_data` holds one `struct vdso_pcpu_data { u32 node; }`
//! per possible CPU, each on its own 64-byte cache line (`____cacheline_aligned_in_smp`,
//! `L1_CACHE_SHIFT` 6), which `getcpu` reads. loongarch does not select `ARCH_HAS_VDSO_DATA`,
//! so `vdso_data` has no architecture tail: 240 bytes.
//!
//! Linux 6.12 appends `struct vdso_rng_data` (what `getrandom` reads) to
//! `struct loongarch_vdso_data`, after the per-CPU array; 6.8 has none. We follow 6.12 there.
//!
//! Linux sizes the per-CPU array by its build option `NR_CPUS`; this image supports
//! [`NR_CPUS`] = 63 CPUs, so that the array and the RNG data (63 * 64 + 16 bytes, padded to the
//! 64-byte alignment: 4096) fill one page whether pages are 16 KiB (Linux's default on
//! loongarch64) or 4 KiB, and the data is always three pages (with 64 CPUs a 4 KiB-page kernel
//! needs a fourth). A CPU number at or past [`NR_CPUS`] makes `getcpu` ask the kernel instead
//! of reading past the pages.

use core::mem::{offset_of, size_of};

use crate::arch::{Arch, ArchInfo, Emulation, Export, HashStyles, Sigreturn};

/// No architecture tail on loongarch64: the struct ends at byte 240.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchData;

/// `struct vdso_data` as loongarch64 lays it out.
pub type VdsoData = crate::VdsoData<ArchData>;

/// Number of CPUs the image's per-CPU page serves (Linux's `NR_CPUS` for this image).
pub const NR_CPUS: usize = 63;
/// `SMP_CACHE_BYTES`: the stride of the per-CPU array.
pub const PCPU_STRIDE: usize = 64;

/// `struct vdso_pcpu_data`: one per CPU, cache-line aligned.
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PcpuData {
    /// NUMA node of the CPU (`cpu_to_node`), what `getcpu` returns in `*node`.
    pub node: u32,
}

/// `struct loongarch_vdso_data` of Linux 6.12: the per-CPU array then the RNG data, at the
/// start of page [`PCPU_PAGE`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoongarchData {
    /// Indexed by the CPU number `rdtime.d` returns (`CSR.TID`).
    pub pdata: [PcpuData; NR_CPUS],
    /// What `getrandom` reads (`generation`, `is_ready`).
    pub rng_data: crate::rng::VdsoRngData,
}

impl Default for LoongarchData {
    fn default() -> Self {
        LoongarchData { pdata: [PcpuData::default(); NR_CPUS], rng_data: Default::default() }
    }
}

/// Offset of `vdso_rng_data` in page [`PCPU_PAGE`] (Linux 6.12's `_loongarch_data.rng_data`).
pub const RNG_DATA_OFFSET: usize = offset_of!(LoongarchData, rng_data);

/// Pages mapped before the image (`VVAR_NR_PAGES`).
pub const DATA_PAGES: usize = 3;
/// Page holding `vdso_data` (`VVAR_GENERIC_PAGE_OFFSET`).
pub const VVAR_PAGE: usize = 0;
/// Where the real data page goes for a task in a time namespace (`VVAR_TIMENS_PAGE_OFFSET`).
pub const TIMENS_PAGE: usize = 1;
/// First page of [`LoongarchData`] (`VVAR_LOONGARCH_PAGES_START`).
pub const PCPU_PAGE: usize = 2;
/// Offset of `vdso_data[0]` inside its page.
pub const VDSO_DATA_OFFSET: usize = 0;
/// "Linux" version note value: the release whose layout this follows.
pub const LINUX_VERSION_CODE: u32 = 0x06_08_00;
/// Number of hwprobe keys (none on loongarch64).
pub const HWPROBE_KEYS: usize = 0;
/// Version node of every exported symbol (loongarch's since its first release, 5.19).
pub const VERSION_NODE: &str = "LINUX_5.10";
/// Page size of the default build (its row of `crate::VARIANTS`): Linux's default on
/// loongarch64, and what `qemu-loongarch64` gives its guests.
pub const DEFAULT_PAGE_SIZE: usize = 16384;

/// `li.w a7, 139`, which assemblers emit as `ori a7, zero, 139` (`__NR_rt_sigreturn`): the
/// first word libgcc's loongarch fallback unwinder matches.
pub const SIGRETURN_LI_A7: u32 = 0x0382_2c0b;
/// `syscall 0`.
pub const SIGRETURN_SYSCALL_0: u32 = 0x002b_0000;

/// The loongarch64 row of the architecture table.
pub const INFO: ArchInfo = ArchInfo {
    arch: Arch::Loongarch64,
    name: "loongarch64",
    aliases: &["loong64", "la64"],
    linux_target: "loongarch64-unknown-linux-musl",
    bare_target: "loongarch64-unknown-none",
    e_machine: 258, // EM_LOONGARCH
    // EF_LOONGARCH_ABI_DOUBLE_FLOAT (LP64D) | EF_LOONGARCH_OBJABI_V1, as a current toolchain
    // marks Linux's own vdso.so.
    e_flags: 0x3 | 0x40,
    version_node: VERSION_NODE,
    symbol_prefix: "__vdso_",
    // Linux 6.8's set (arch/loongarch/vdso/vdso.lds.S), in its order.
    exports: &[
        Export::global("__vdso_getcpu"),
        Export::global("__vdso_clock_getres"),
        Export::global("__vdso_clock_gettime"),
        Export::global("__vdso_gettimeofday"),
        Export::global("__vdso_rt_sigreturn"),
        // Linux 6.12's addition.
        Export::global("__vdso_getrandom"),
    ],
    // Linux links loongarch's vDSO with `-Wl,--hash-style=sysv` (arch/loongarch/vdso/Makefile),
    // and musl and Zig look symbols up through DT_HASH only.
    hash_style: HashStyles::SysvOnly,
    data_pages: DATA_PAGES,
    vvar_page: VVAR_PAGE,
    timens_page: TIMENS_PAGE,
    vdso_data_offset: VDSO_DATA_OFFSET,
    vdso_data_size: size_of::<VdsoData>(),
    hwprobe_keys: HWPROBE_KEYS,
    getcpu_mode_offset: None,
    // Linux 6.12: after the per-CPU array of `struct loongarch_vdso_data`, on its page, which
    // a time namespace does not swap.
    rng_data_offset: Some(RNG_DATA_OFFSET),
    rng_data_page: PCPU_PAGE,
    linux_version_code: LINUX_VERSION_CODE,
    paravirt_clocks: false,
    sigreturn: Some(Sigreturn {
        symbol: "__vdso_rt_sigreturn",
        words: &[SIGRETURN_LI_A7, SIGRETURN_SYSCALL_0],
        nop: 0x0340_0000, // andi $zero, $zero, 0
        sp_column: 3,
        cfa_offset: crate::arch::SIGFRAME_CFA_OFFSET,
        // sigcontext: sc_pc, sc_regs[32]; r0 is hardwired to zero, its column holds the pc.
        pc_column: 0,
        pc_offset: 0,
    }),
    pcpu_page: Some(PCPU_PAGE),
    pcpu_slots: NR_CPUS,
    build_std: true,
    emulation: Emulation {
        qemu: "qemu-loongarch64",
        // Static musl programs only: no loongarch64 glibc runtime exists on Debian 12.
        ld_prefix: "/",
        // The Zig wrapper of this repository (static musl), resolved against its root.
        cross_gcc: "scripts/loongarch64-linux-musl-cc",
        glibc: false,
        goarch: "loong64",
        // 1.5 GiB, as on the other arches: clear of where Zig's lld (0x200000... ) and Go
        // (0x120000000) link loongarch64 executables, far below qemu-loongarch64's mmap base.
        launcher_text: 0x6000_0000,
        // See `Emulation::fixed_layout`: qemu-loongarch64 7.2 with Zig's libc malloc.
        fixed_layout: true,
    },
};

crate::assert_common_layout!(VdsoData);
const _: () = {
    assert!(size_of::<VdsoData>() == 240);
    assert!(size_of::<PcpuData>() == PCPU_STRIDE && offset_of!(PcpuData, node) == 0);
    assert!(RNG_DATA_OFFSET == NR_CPUS * PCPU_STRIDE);
    assert!(size_of::<LoongarchData>() == RNG_DATA_OFFSET + PCPU_STRIDE);
    // The per-CPU array and the RNG data fit their one page at either page size.
    assert!(size_of::<LoongarchData>() <= crate::variant::MIN_PAGE_SIZE);
    assert!(PCPU_PAGE + 1 == DATA_PAGES);
    assert!(crate::elf_hash(VERSION_NODE.as_bytes()) != 0);
    // ori rd, rj, ui12: opcode 0x00e in bits 31..22, ui12 in 21..10, rj in 9..5, rd in 4..0;
    // a7 is r11, zero is r0.
    assert!(SIGRETURN_LI_A7 == (0x00e << 22) | (139 << 10) | 11);
    // syscall code: 0x002b0000 | code.
    assert!(SIGRETURN_SYSCALL_0 == 0x002b_0000);
};
