//! LoongArch control and status registers the kernel uses (LoongArch Reference Manual vol. 1,
//! chapter 7), and `csrrd`/`csrwr` as macros (the CSR number is an immediate of the instruction).

/// Current mode: PLV, IE, DA, PG, DATF, DATM.
pub const CRMD: u32 = 0x0;
/// Mode before the exception: PPLV, PIE (restored by `ertn`).
pub const PRMD: u32 = 0x1;
/// Extension enables (FPE, SXE, ASXE): all off, neither the kernel nor the program uses them.
pub const EUEN: u32 = 0x2;
/// Exception configuration: LIE (local interrupt enables), VS.
pub const ECFG: u32 = 0x4;
/// Exception status: IS (pending interrupts), Ecode, EsubCode.
pub const ESTAT: u32 = 0x5;
/// Exception return address.
pub const ERA: u32 = 0x6;
/// Bad virtual address of the last address-related exception.
pub const BADV: u32 = 0x7;
/// General exception and interrupt entry (4 KiB aligned).
pub const EENTRY: u32 = 0xc;
/// Address space id of TLB look-ups.
pub const ASID: u32 = 0x18;
/// Page-table root for addresses with bit 63 clear.
pub const PGDL: u32 = 0x19;
/// Page-table root for addresses with bit 63 set.
pub const PGDH: u32 = 0x1a;
/// The page-table root of the failing address (PGDL or PGDH), read by the refill handler.
pub const PGD: u32 = 0x1b;
/// Page walk controller, low: PTE table and directories 1 and 2 (base bit and width).
pub const PWCL: u32 = 0x1c;
/// Page walk controller, high: directories 3 and 4.
pub const PWCH: u32 = 0x1d;
/// Page size of the STLB.
pub const STLBPS: u32 = 0x1e;
/// Scratch register: the trap frame while the program runs, 0 while the kernel does.
pub const SAVE0: u32 = 0x30;
/// Timer id: what `rdtime.d` writes to its second operand, the CPU number `getcpu` reads.
pub const TID: u32 = 0x40;
/// Constant timer configuration: En, Periodic, InitVal.
pub const TCFG: u32 = 0x41;
/// Constant timer interrupt clear.
pub const TICLR: u32 = 0x44;
/// TLB refill exception entry (a physical address: refills run in direct-address mode).
pub const TLBRENTRY: u32 = 0x88;
/// Scratch register of the TLB refill handler.
pub const TLBRSAVE: u32 = 0x8b;
/// Direct-mapped configuration windows 0 and 1.
pub const DMW0: u32 = 0x180;
/// See [`DMW0`].
pub const DMW1: u32 = 0x181;

/// Reads a CSR.
#[macro_export]
macro_rules! csrrd {
    ($csr:expr) => {{
        let v: u64;
        // SAFETY: reading a CSR has no side effect on memory.
        unsafe { core::arch::asm!("csrrd {0}, {1}", out(reg) v, const $csr, options(nomem, nostack)) };
        v
    }};
}

/// Writes a CSR.
#[macro_export]
macro_rules! csrwr {
    ($csr:expr, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the caller's line states why this CSR value is right; `csrwr` swaps, the old
        // value is discarded.
        unsafe { core::arch::asm!("csrwr {0}, {1}", inout(reg) v => _, const $csr, options(nostack)) };
    }};
}
