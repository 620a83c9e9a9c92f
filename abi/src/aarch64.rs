//! aarch64 layout (Linux 6.8, `arch/arm64/kernel/vdso.c` and `include/vdso/datapage.h`): two
//! pages before the image. Page 0 holds `vdso_data[2]` at byte 0 (`_vdso_data`), page 1 is the
//! time-namespace slot (`enum vvar_pages`: data, timens). arm64 does not select
//! `ARCH_HAS_VDSO_DATA`, so the struct has no architecture tail: 240 bytes, as on x86_64.

use core::mem::size_of;

use crate::arch::{Arch, ArchInfo, Emulation, Export, HashStyles, Sigreturn};

/// No architecture tail on aarch64: the struct ends at byte 240.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchData;

/// `struct vdso_data` as aarch64 lays it out.
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
/// Number of hwprobe keys (none on aarch64).
pub const HWPROBE_KEYS: usize = 0;
/// Offset of `vdso_rng_data` in the data page: Linux 6.12's `__VDSO_RND_DATA_OFFSET` (480,
/// arch/arm64/include/asm/vdso.h), right after `vdso_data[CS_BASES]` (`_vdso_rng_data` in
/// arch/arm64/kernel/vdso/vdso.lds.S).
pub const RNG_DATA_OFFSET: usize = 480;
/// Version node of every exported symbol (arm64's since 2.6.39).
pub const VERSION_NODE: &str = "LINUX_2.6.39";

/// `mov x8, #139` (`movz x8, #__NR_rt_sigreturn`): the first word libgcc, gdb and libunwind match.
pub const SIGRETURN_MOV_X8: u32 = 0xd280_1168;
/// `svc #0`.
pub const SIGRETURN_SVC_0: u32 = 0xd400_0001;

/// The aarch64 row of the architecture table.
pub const INFO: ArchInfo = ArchInfo {
    arch: Arch::Aarch64,
    name: "aarch64",
    aliases: &["arm64"],
    linux_target: "aarch64-unknown-linux-gnu",
    bare_target: "aarch64-unknown-none",
    e_machine: 183, // EM_AARCH64
    e_flags: 0,
    version_node: VERSION_NODE,
    symbol_prefix: "__kernel_",
    // Linux 6.8's arm64 set (arch/arm64/kernel/vdso/vdso.lds.S): no getcpu, no time.
    exports: &[
        Export::global("__kernel_rt_sigreturn"),
        Export::global("__kernel_gettimeofday"),
        Export::global("__kernel_clock_gettime"),
        Export::global("__kernel_clock_getres"),
        Export::global("__kernel_getrandom"),
    ],
    // Linux links arm64's vDSO with `-Wl,--hash-style=sysv` (arch/arm64/kernel/vdso/Makefile):
    // DT_HASH only. Go 1.19's arm64 runtime looks `__kernel_clock_gettime` up with the GNU hash
    // of another name whenever DT_GNU_HASH exists (golang/go#62309), so with one it never uses
    // the vDSO; through DT_HASH it finds the symbol by name.
    hash_style: HashStyles::SysvOnly,
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
        symbol: "__kernel_rt_sigreturn",
        words: &[SIGRETURN_MOV_X8, SIGRETURN_SVC_0],
        nop: 0xd503_201f,
        sp_column: 31,
        cfa_offset: crate::arch::SIGFRAME_CFA_OFFSET,
        // sigcontext: fault_address, regs[31], sp, pc; libgcc's column 96 is the pc.
        pc_column: 96,
        pc_offset: 264,
    }),
    pcpu_page: None,
    pcpu_slots: 0,
    build_std: false,
    emulation: Emulation {
        qemu: "qemu-aarch64",
        ld_prefix: "/usr/aarch64-linux-gnu",
        cross_gcc: "aarch64-linux-gnu-gcc",
        glibc: true,
        goarch: "arm64",
        // 1.5 GiB: clear of 0x400000 (GNU ld's aarch64 executables) and 0x10000 (Go's), far
        // below where qemu-aarch64 7.2 maps loaders and position-independent programs
        // (0x55_0000_0000 on an x86_64 host), within the small code model's 4 GiB.
        launcher_text: 0x6000_0000,
        fixed_layout: false,
    },
};

crate::assert_common_layout!(VdsoData);
const _: () = {
    assert!(size_of::<VdsoData>() == 240);
    assert!(crate::elf_hash(VERSION_NODE.as_bytes()) == 0x075f_cb89);
    // movz x8, #139: sf=1 opc=10 100101 hw=00 imm16=139 Rd=8.
    assert!(SIGRETURN_MOV_X8 == 0xd280_0000 | (139 << 5) | 8);
};
