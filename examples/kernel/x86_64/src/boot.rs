//! The machine-level entry and exit paths, in assembly: the PVH entry (32-bit, no paging) and
//! the switch to long mode, the application processors' 16-bit trampoline, interrupt stubs,
//! the `syscall` entry, and the two ways back to user mode (`sysretq` after a syscall, `iretq`
//! after an interrupt, a signal or `rt_sigreturn`, which must restore `rcx` and `r11` too).
//!
//! Every entry from user mode builds the same [`Frame`] on the CPU's trap stack, so the Rust
//! side sees one layout whichever way the program entered.

use core::arch::global_asm;

/// Size of each CPU's boot/idle stack and of its trap stack.
pub const STACK_SIZE: usize = 16 * 1024;
/// CPUs this kernel can run.
pub const MAX_CPUS: usize = 8;
/// Where the application processors' trampoline is copied (SIPI vector 0x08).
pub const TRAMPOLINE: usize = 0x8000;
/// Vector of the LAPIC timer.
pub const TIMER_VECTOR: u64 = 32;
/// Vector of the LAPIC's spurious interrupts.
pub const SPURIOUS_VECTOR: u64 = 255;
/// The `vector` a syscall entry records.
pub const SYSCALL_VECTOR: u64 = 0x100;
/// Interrupt vectors with a stub in `ISR_TABLE`, in its order.
pub const VECTORS: [u8; 34] = {
    let mut v = [0u8; 34];
    let mut i = 0;
    while i < 32 {
        v[i] = i as u8;
        i += 1;
    }
    v[32] = TIMER_VECTOR as u8;
    v[33] = SPURIOUS_VECTOR as u8;
    v
};

/// What every entry from user mode (and every interrupt) saves: the general registers, the
/// vector and error code, then the hardware's `iretq` frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(missing_docs)]
pub struct Frame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(size_of::<Frame>() == 176 && size_of::<Frame>().is_multiple_of(16));

/// Per-CPU words `syscall` entry reaches through `gs` (after `swapgs`).
#[repr(C)]
pub struct PerCpu {
    /// Top of this CPU's trap stack (also its TSS `rsp0`).
    pub trap_stack_top: u64,
    /// The program's `rsp`, saved while the entry code switches stacks.
    pub user_rsp: u64,
}

#[repr(C, align(16))]
pub struct Stacks(pub [[u8; STACK_SIZE]; MAX_CPUS]);

/// Boot (then idle) stacks, one per CPU.
#[unsafe(no_mangle)]
pub static mut BOOT_STACKS: Stacks = Stacks([[0; STACK_SIZE]; MAX_CPUS]);
/// Trap stacks, one per CPU.
pub static mut TRAP_STACKS: Stacks = Stacks([[0; STACK_SIZE]; MAX_CPUS]);

global_asm!(
    // The PVH entry point, for QEMU's loader: XEN_ELFNOTE_PHYS32_ENTRY (18).
    ".section .note.Xen, \"a\"",
    ".p2align 2",
    ".long 4, 8, 18",
    ".asciz \"Xen\"",
    ".p2align 2",
    ".quad pvh_start",
    "",
    // Paging and long mode on, from 32-bit protected mode or (the APs) straight from real mode:
    // CR4: PAE, OSFXSR, OSXMMEXCPT. CR3: the boot tree. EFER: SCE, LME, NXE. CR0: PE, MP, ET,
    // NE, WP, PG. The caller's far jump then enters a 64-bit code segment.
    ".macro LONG_MODE_ON",
    "    movl $0x620, %eax",
    "    movl %eax, %cr4",
    "    movl $boot_pml4, %eax",
    "    movl %eax, %cr3",
    "    movl $0xc0000080, %ecx",
    "    rdmsr",
    "    orl $0x901, %eax",
    "    wrmsr",
    "    movl $0x80010033, %eax",
    "    movl %eax, %cr0",
    ".endm",
    "",
    ".section .text.entry, \"ax\"",
    ".code32",
    ".globl pvh_start",
    "pvh_start:",
    "    cli",
    "    cld",
    // Zero .bss (page tables and stacks live there).
    "    movl $__bss_start, %edi",
    "    movl $__bss_end, %ecx",
    "    subl %edi, %ecx",
    "    xorl %eax, %eax",
    "    rep stosb",
    // PML4[0] -> PDPT; PDPT[0] -> PD of the first GiB in 2 MiB pages (supervisor only);
    // PDPT[3] -> PD holding the LAPIC's page at 0xfee00000 (uncached). The intermediate entries
    // allow user access: the program's own tables hang below them, and the leaves decide.
    "    movl $boot_pdpt + 7, boot_pml4",
    "    movl $boot_pd_low + 7, boot_pdpt",
    "    movl $boot_pd_high + 3, boot_pdpt + 24",
    "    movl $0xfee0009b, boot_pd_high + 503 * 8",
    "    xorl %ecx, %ecx",
    "1:  movl %ecx, %eax",
    "    shll $21, %eax",
    "    orl $0x83, %eax",
    "    movl %eax, boot_pd_low(,%ecx,8)",
    "    incl %ecx",
    "    cmpl $512, %ecx",
    "    jb 1b",
    "    LONG_MODE_ON",
    "    lgdt boot_gdtr",
    "    ljmp $0x08, $long_entry",
    "",
    // The application processors start here in real mode, at TRAMPOLINE (a copy of this code):
    // the same CR4, CR3, EFER and CR0 in one go (protected mode and paging together), then a
    // far jump to a 64-bit code segment.
    ".code16",
    ".globl ap_tramp_start",
    ".globl ap_tramp_end",
    "ap_tramp_start:",
    "    cli",
    "    cld",
    "    xorw %ax, %ax",
    "    movw %ax, %ds",
    "    lgdtl (0x8000 + ap_gdtr - ap_tramp_start)",
    "    LONG_MODE_ON",
    "    ljmpl $0x08, $ap_long_entry",
    ".p2align 3",
    "ap_gdt:",
    "    .quad 0, 0x00209a0000000000, 0x0000920000000000",
    "ap_gdtr:",
    "    .word 23",
    "    .long 0x8000 + ap_gdt - ap_tramp_start",
    "ap_tramp_end:",
    "",
    ".code64",
    "long_entry:",
    "    xorl %edi, %edi",
    "    jmp 2f",
    "ap_long_entry:",
    "    movl $1, %edi",
    "    lock xaddl %edi, ap_next(%rip)",
    // A CPU beyond MAX_CPUS has no stack: it stays parked, interrupts off.
    "    cmpl ${max_cpus}, %edi",
    "    jae 3f",
    "2:  movw $0x10, %ax",
    "    movw %ax, %ds",
    "    movw %ax, %es",
    "    movw %ax, %ss",
    "    movw %ax, %fs",
    "    movw %ax, %gs",
    "    movl %edi, %eax",
    "    incl %eax",
    "    imull ${stack}, %eax, %eax",
    "    leaq BOOT_STACKS(%rip), %rsp",
    "    addq %rax, %rsp",
    "    call {cpu_main}",
    "3:  cli",
    "    hlt",
    "    jmp 3b",
    "",
    ".section .rodata",
    ".p2align 3",
    "boot_gdt:",
    "    .quad 0, 0x00209a0000000000, 0x0000920000000000",
    "boot_gdtr:",
    "    .word 23",
    "    .quad boot_gdt",
    "",
    ".section .data",
    ".p2align 2",
    "ap_next: .long 1",
    "",
    ".section .bss",
    ".p2align 12",
    ".globl boot_pml4",
    "boot_pml4: .skip 4096",
    "boot_pdpt: .skip 4096",
    "boot_pd_low: .skip 4096",
    "boot_pd_high: .skip 4096",
    "",
    ".section .text",
    // The general registers, pushed so that `Frame` reads them from r15 (lowest) to rax.
    ".macro PUSH_GPRS",
    "    pushq %rax",
    "    pushq %rbx",
    "    pushq %rcx",
    "    pushq %rdx",
    "    pushq %rsi",
    "    pushq %rdi",
    "    pushq %rbp",
    "    pushq %r8",
    "    pushq %r9",
    "    pushq %r10",
    "    pushq %r11",
    "    pushq %r12",
    "    pushq %r13",
    "    pushq %r14",
    "    pushq %r15",
    ".endm",
    ".macro POP_GPRS",
    "    popq %r15",
    "    popq %r14",
    "    popq %r13",
    "    popq %r12",
    "    popq %r11",
    "    popq %r10",
    "    popq %r9",
    "    popq %r8",
    "    popq %rbp",
    "    popq %rdi",
    "    popq %rsi",
    "    popq %rdx",
    "    popq %rcx",
    "    popq %rbx",
    "    popq %rax",
    ".endm",
    // Interrupt stubs: push a zero error code where the CPU pushes none, then the vector.
    "isr_0: pushq $0; pushq $0; jmp isr_common",
    "isr_1: pushq $0; pushq $1; jmp isr_common",
    "isr_2: pushq $0; pushq $2; jmp isr_common",
    "isr_3: pushq $0; pushq $3; jmp isr_common",
    "isr_4: pushq $0; pushq $4; jmp isr_common",
    "isr_5: pushq $0; pushq $5; jmp isr_common",
    "isr_6: pushq $0; pushq $6; jmp isr_common",
    "isr_7: pushq $0; pushq $7; jmp isr_common",
    "isr_8: pushq $8; jmp isr_common",
    "isr_9: pushq $0; pushq $9; jmp isr_common",
    "isr_10: pushq $10; jmp isr_common",
    "isr_11: pushq $11; jmp isr_common",
    "isr_12: pushq $12; jmp isr_common",
    "isr_13: pushq $13; jmp isr_common",
    "isr_14: pushq $14; jmp isr_common",
    "isr_15: pushq $0; pushq $15; jmp isr_common",
    "isr_16: pushq $0; pushq $16; jmp isr_common",
    "isr_17: pushq $17; jmp isr_common",
    "isr_18: pushq $0; pushq $18; jmp isr_common",
    "isr_19: pushq $0; pushq $19; jmp isr_common",
    "isr_20: pushq $0; pushq $20; jmp isr_common",
    "isr_21: pushq $21; jmp isr_common",
    "isr_22: pushq $0; pushq $22; jmp isr_common",
    "isr_23: pushq $0; pushq $23; jmp isr_common",
    "isr_24: pushq $0; pushq $24; jmp isr_common",
    "isr_25: pushq $0; pushq $25; jmp isr_common",
    "isr_26: pushq $0; pushq $26; jmp isr_common",
    "isr_27: pushq $0; pushq $27; jmp isr_common",
    "isr_28: pushq $0; pushq $28; jmp isr_common",
    "isr_29: pushq $29; jmp isr_common",
    "isr_30: pushq $30; jmp isr_common",
    "isr_31: pushq $0; pushq $31; jmp isr_common",
    "isr_32: pushq $0; pushq $32; jmp isr_common",
    "isr_255: pushq $0; pushq $255; jmp isr_common",
    ".section .rodata",
    ".p2align 3",
    ".globl ISR_TABLE",
    "ISR_TABLE:",
    ".quad isr_0",
    ".quad isr_1",
    ".quad isr_2",
    ".quad isr_3",
    ".quad isr_4",
    ".quad isr_5",
    ".quad isr_6",
    ".quad isr_7",
    ".quad isr_8",
    ".quad isr_9",
    ".quad isr_10",
    ".quad isr_11",
    ".quad isr_12",
    ".quad isr_13",
    ".quad isr_14",
    ".quad isr_15",
    ".quad isr_16",
    ".quad isr_17",
    ".quad isr_18",
    ".quad isr_19",
    ".quad isr_20",
    ".quad isr_21",
    ".quad isr_22",
    ".quad isr_23",
    ".quad isr_24",
    ".quad isr_25",
    ".quad isr_26",
    ".quad isr_27",
    ".quad isr_28",
    ".quad isr_29",
    ".quad isr_30",
    ".quad isr_31",
    ".quad isr_32",
    ".quad isr_255",
    ".section .text",
    "isr_common:",
    "    PUSH_GPRS",
    "    movq %rsp, %rdi",
    "    cld",
    "    call {trap}",
    ".globl return_iret",
    "return_iret:",
    "    POP_GPRS",
    "    addq $16, %rsp",
    "    iretq",
    "",
    // `syscall`: IF, DF, TF and AC are clear (SFMASK), rcx = user rip, r11 = user rflags, and
    // rsp is still the program's. `gs` (after swapgs) holds this CPU's PerCpu.
    ".globl syscall_entry",
    "syscall_entry:",
    "    swapgs",
    "    movq %rsp, %gs:8",
    "    movq %gs:0, %rsp",
    "    pushq $0x1b",
    "    pushq %gs:8",
    "    pushq %r11",
    "    pushq $0x23",
    "    pushq %rcx",
    "    pushq $0",
    "    pushq ${sysvec}",
    "    swapgs",
    "    PUSH_GPRS",
    "    movq %rsp, %rdi",
    "    cld",
    "    call {syscall}",
    // Nonzero: the frame was rewritten as a whole (signal, rt_sigreturn): leave by iretq.
    "    testq %rax, %rax",
    "    jnz return_iret",
    "    POP_GPRS",
    // rcx <- rip, r11 <- rflags, rsp <- the program's (IF stays clear until sysretq).
    "    movq 16(%rsp), %rcx",
    "    movq 32(%rsp), %r11",
    "    movq 40(%rsp), %rsp",
    "    sysretq",
    "",
    // enter_user(frame): iretq into the frame at rdi (already on this CPU's trap stack).
    ".globl enter_user",
    "enter_user:",
    "    movq %rdi, %rsp",
    "    jmp return_iret",
    stack = const STACK_SIZE,
    max_cpus = const MAX_CPUS,
    cpu_main = sym crate::kernel::cpu_main,
    trap = sym crate::kernel::trap_handler,
    syscall = sym crate::kernel::syscall_handler,
    sysvec = const SYSCALL_VECTOR,
    options(att_syntax),
);

unsafe extern "C" {
    /// The interrupt stubs' addresses, in the order of [`VECTORS`].
    pub static ISR_TABLE: [u64; 34];
    /// The `syscall` entry (`LSTAR`).
    pub fn syscall_entry();
    /// Start and end of the application processors' trampoline (copied to [`TRAMPOLINE`]).
    pub static ap_tramp_start: u8;
    /// See `ap_tramp_start`.
    pub static ap_tramp_end: u8;
    /// The PML4 every CPU uses.
    pub static boot_pml4: [u64; 512];
    /// Restores the frame at `frame` and `iretq`s to it.
    pub fn enter_user(frame: *const Frame) -> !;
}
