//! riscv64 layout (Linux 6.8): two pages before the image. Page 0 holds `vdso_data` at byte 0,
//! page 1 is the time-namespace slot. The struct ends with the hwprobe answers the image serves
//! without a syscall (`RISCV_HWPROBE_MAX_KEY` = 6 in 6.8, so 7 values).

use core::mem::{offset_of, size_of};

use crate::arch::{Arch, ArchInfo, Emulation, Export, HashStyles, Sigreturn};

/// Linux 6.8's `struct arch_vdso_data`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchData {
    /// `riscv_hwprobe` value of every key `0..=MAX_KEY`, valid when all CPUs agree.
    pub all_cpu_hwprobe_values: [u64; HWPROBE_KEYS],
    /// Non-zero when every CPU reports the same values.
    pub homogeneous_cpus: u8,
}

/// `struct vdso_data` as riscv64 lays it out.
pub type VdsoData = crate::VdsoData<ArchData>;

/// Pages mapped before the image.
pub const DATA_PAGES: usize = 2;
/// Page holding `vdso_data` (or the namespace page for a task in a time namespace).
pub const VVAR_PAGE: usize = 0;
/// Where the real data page goes for a task in a time namespace.
pub const TIMENS_PAGE: usize = 1;
/// Offset of `vdso_data[0]` inside its page.
pub const VDSO_DATA_OFFSET: usize = 0;
/// "Linux" version note value: the release whose layout this follows.
pub const LINUX_VERSION_CODE: u32 = 0x06_08_00;
/// Offset of `vdso_rng_data` in the data page. Linux's riscv64 had no `getrandom` in the
/// classic layout (6.16 added it with the split layout's own RNG page), so this is our choice,
/// by arm64's rule (6.12): right after `vdso_data[CS_BASES]` (2 x 304 bytes), where a kernel
/// filling Linux 6.8's page has nothing.
pub const RNG_DATA_OFFSET: usize = 2 * 304;
/// Version node of every exported symbol.
pub const VERSION_NODE: &str = "LINUX_4.15";
/// `RISCV_HWPROBE_MAX_KEY` of Linux 6.8.
pub const HWPROBE_MAX_KEY: i64 = 6;
/// Number of hwprobe values on the page.
pub const HWPROBE_KEYS: usize = HWPROBE_MAX_KEY as usize + 1;

/// `riscv_hwprobe` keys and flags (Linux 6.8 uapi).
pub mod hwprobe {
    /// `struct riscv_hwprobe`.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Pair {
        /// Key asked for; set to -1 when the kernel does not know it.
        pub key: i64,
        /// The answer.
        pub value: u64,
    }
    /// `RISCV_HWPROBE_KEY_MVENDORID`.
    pub const KEY_MVENDORID: i64 = 0;
    /// `RISCV_HWPROBE_KEY_MARCHID`.
    pub const KEY_MARCHID: i64 = 1;
    /// `RISCV_HWPROBE_KEY_MIMPID`.
    pub const KEY_MIMPID: i64 = 2;
    /// `RISCV_HWPROBE_KEY_BASE_BEHAVIOR` (a bitmask key).
    pub const KEY_BASE_BEHAVIOR: i64 = 3;
    /// `RISCV_HWPROBE_KEY_IMA_EXT_0` (a bitmask key).
    pub const KEY_IMA_EXT_0: i64 = 4;
    /// `RISCV_HWPROBE_KEY_CPUPERF_0`.
    pub const KEY_CPUPERF_0: i64 = 5;
    /// `RISCV_HWPROBE_KEY_ZICBOZ_BLOCK_SIZE`.
    pub const KEY_ZICBOZ_BLOCK_SIZE: i64 = 6;
    /// `RISCV_HWPROBE_WHICH_CPUS`: reverse query, which CPUs match every pair.
    pub const WHICH_CPUS: u32 = 1;
    /// Whether a key's value is a set of bits, matched by inclusion in `WHICH_CPUS` queries (a
    /// CPU matches when it has every bit asked for). Linux 6.8 counts CPUPERF_0 among them
    /// (later releases deprecate that key for having been classified so).
    pub const fn key_is_bitmask(key: i64) -> bool {
        key == KEY_BASE_BEHAVIOR || key == KEY_IMA_EXT_0 || key == KEY_CPUPERF_0
    }
}

/// `li a7, 139` (`__NR_rt_sigreturn`), uncompressed: the first word unwinders match.
pub const SIGRETURN_LI_A7: u32 = 0x08b0_0893;
/// `ecall`.
pub const SIGRETURN_ECALL: u32 = 0x0000_0073;

/// The riscv64 row of the architecture table.
pub const INFO: ArchInfo = ArchInfo {
    arch: Arch::Riscv64,
    name: "riscv64",
    aliases: &["riscv64gc"],
    linux_target: "riscv64gc-unknown-linux-gnu",
    bare_target: "riscv64gc-unknown-none-elf",
    e_machine: 243, // EM_RISCV
    // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE: riscv64 glibc's loader refuses another float ABI.
    e_flags: 0x1 | 0x4,
    version_node: VERSION_NODE,
    symbol_prefix: "__vdso_",
    exports: &[
        Export::global("__vdso_rt_sigreturn"),
        Export::global("__vdso_gettimeofday"),
        Export::global("__vdso_clock_gettime"),
        Export::global("__vdso_clock_getres"),
        Export::global("__vdso_getcpu"),
        Export::global("__vdso_flush_icache"),
        Export::global("__vdso_riscv_hwprobe"),
        Export::global("__vdso_getrandom"),
    ],
    // Linux links riscv's vDSO with `-Wl,--hash-style=both` (arch/riscv/kernel/vdso/Makefile).
    hash_style: HashStyles::Both,
    data_pages: DATA_PAGES,
    vvar_page: VVAR_PAGE,
    timens_page: TIMENS_PAGE,
    vdso_data_offset: VDSO_DATA_OFFSET,
    vdso_data_size: size_of::<VdsoData>(),
    hwprobe_keys: HWPROBE_KEYS,
    getcpu_mode_offset: None,
    rng_data_offset: Some(RNG_DATA_OFFSET),
    rng_data_page: VVAR_PAGE,
    linux_version_code: LINUX_VERSION_CODE,
    paravirt_clocks: false,
    sigreturn: Some(Sigreturn {
        symbol: "__vdso_rt_sigreturn",
        words: &[SIGRETURN_LI_A7, SIGRETURN_ECALL],
        nop: 0x0000_0013, // addi x0, x0, 0
        sp_column: 2,
        cfa_offset: crate::arch::SIGFRAME_CFA_OFFSET,
        // x0 is hardwired to zero, so its column is free for the pc (sc_regs[0]).
        pc_column: 0,
        pc_offset: 0,
    }),
    pcpu_page: None,
    pcpu_slots: 0,
    build_std: false,
    emulation: Emulation {
        qemu: "qemu-riscv64",
        ld_prefix: "/usr/riscv64-linux-gnu",
        cross_gcc: "riscv64-linux-gnu-gcc",
        glibc: true,
        goarch: "riscv64",
        // 1.5 GiB: clear of 0x10000 (riscv64 executables), within the +-2 GiB the medlow code
        // model of glibc's static start files reaches, far below qemu-riscv64's mmap base.
        launcher_text: 0x6000_0000,
        fixed_layout: false,
    },
};

crate::assert_common_layout!(VdsoData);
const _: () = {
    assert!(offset_of!(ArchData, all_cpu_hwprobe_values) == 0);
    assert!(offset_of!(ArchData, homogeneous_cpus) == 56);
    assert!(size_of::<VdsoData>() == 304);
    assert!(crate::elf_hash(VERSION_NODE.as_bytes()) == 0x0ae7_7f75);
    assert!(VDSO_DATA_OFFSET + crate::CS_BASES * size_of::<VdsoData>() <= crate::variant::MIN_PAGE_SIZE);
};
