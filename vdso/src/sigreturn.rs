//! The signal-return trampoline's shell, shared by the architectures whose kernel returns from a
//! handler through the vDSO (aarch64, riscv64, loongarch64): one macro emits the section, the
//! symbol, the FDE that marks it a signal frame, and the rules for the general registers
//! `x1`..`x31`, which all three save at a fixed stride of 8 bytes in the kernel's sigcontext.
//! What differs (the return-address column, the CFA register, the other rules, the two
//! instructions and their encoding) is each architecture's argument, explained in its file.
//!
//! The trampoline starts one `nop` early inside its FDE in every caller: unwinders look up the
//! FDE of a return address at `pc - 1`, and a handler "returns" to the trampoline's first byte.

/// `sigreturn_trampoline! { name: "__vdso_rt_sigreturn", type_prefix: "@", return_column: 0,
/// cfa: "sp", first: [..], gprs_at: 0, rest: [..], code: [..], operands.. }` emits
/// `global_asm!`: `first` (rules before the general registers), then `xN` at
/// `CFA + gprs_at + 8N` for N in 1..=31, then `rest`, then `code` (everything between the rules
/// and `.cfi_endproc`: the `nop`, the label, the instructions). `type_prefix` is the assembler's
/// prefix for `@progbits`/`@function` (`%` where `@` starts a comment); the `cfa` operand (a
/// `const`) is the CFA's offset from the CFA register.
macro_rules! sigreturn_trampoline {
    (
        name: $name:literal,
        type_prefix: $ty:literal,
        return_column: $column:literal,
        cfa: $cfa_reg:literal,
        first: [$($first:literal),* $(,)?],
        gprs_at: $base:literal,
        rest: [$($rest:literal),* $(,)?],
        code: [$($code:literal),* $(,)?],
        $($operands:tt)*
    ) => {
        core::arch::global_asm!(
            concat!(".pushsection .text.", $name, ", \"ax\", ", $ty, "progbits"),
            ".balign 4",
            concat!(".globl ", $name),
            concat!(".type ", $name, ", ", $ty, "function"),
            ".cfi_startproc",
            ".cfi_signal_frame",
            concat!(".cfi_return_column ", $column),
            concat!(".cfi_def_cfa ", $cfa_reg, ", {cfa}"),
            $($first,)*
            ".irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            concat!(".cfi_offset \\n, ", $base, " + 8 * \\n"),
            ".endr",
            $($rest,)*
            $($code,)*
            ".cfi_endproc",
            concat!(".size ", $name, ", . - ", $name),
            ".popsection",
            $($operands)*
        );
    };
}
pub(crate) use sigreturn_trampoline;
