//! The per-architecture tail of `struct vdso_data`, and the facts that tie it to a layout.
//!
//! `vdso_abi::VdsoData<A>` is generic over its trailing `arch_data`; the writer and reader here
//! are generic over the same `A`. [`VdsoArch`] is implemented for the two tails `vdso-abi`
//! defines, so the type of the data page names its layout and nobody can pair a riscv64 writer
//! with an x86_64 page by accident.

use crate::layout::ArchLayout;

/// Evaluates `$body` with the type `$A` standing for the `arch_data` type of `$arch` (a
/// [`crate::Arch`] value): the one place that turns the table's value into a type, so generic
/// code (`writer::<A>()`, `write_timens_page::<A>`) reaches every architecture through it.
#[cfg_attr(not(feature = "std"), allow(unused_macros))]
macro_rules! with_arch_data {
    ($arch:expr, |$A:ident| $body:expr) => {
        match $arch {
            $crate::Arch::X86_64 => {
                type $A = vdso_abi::x86_64::ArchData;
                $body
            }
            $crate::Arch::Riscv64 => {
                type $A = vdso_abi::riscv64::ArchData;
                $body
            }
            $crate::Arch::Aarch64 => {
                type $A = vdso_abi::aarch64::ArchData;
                $body
            }
            $crate::Arch::Loongarch64 => {
                type $A = vdso_abi::loongarch64::ArchData;
                $body
            }
        }
    };
}
#[cfg_attr(not(feature = "std"), allow(unused_imports))]
pub(crate) use with_arch_data;

/// An architecture's `arch_data` type, its page layout, and single-copy-atomic accessors for
/// its fields (the seqlock needs every shared field read and written with atomic accesses).
pub trait VdsoArch: Copy + Default + core::fmt::Debug + Send + Sync + 'static {
    /// The mapping this architecture's pages follow.
    const LAYOUT: ArchLayout;

    /// Stores every field of `src` into `*dst` with relaxed atomic stores.
    ///
    /// # Safety
    ///
    /// `dst` must be valid for writes of `Self`, aligned, and written by no other thread while
    /// this runs (readers may read it concurrently with atomic loads).
    unsafe fn store_relaxed(dst: *mut Self, src: &Self);

    /// Loads every field of `*src` with relaxed atomic loads.
    ///
    /// # Safety
    ///
    /// `src` must be valid for reads of `Self` and aligned; concurrent writers must use
    /// atomic stores (as [`VdsoArch::store_relaxed`] does).
    unsafe fn load_relaxed(src: *const Self) -> Self;

    /// Sets riscv64's hwprobe answers (`values[key]`, and whether all CPUs agree); returns
    /// `false` on an architecture without them (nothing is changed).
    fn set_hwprobe(&mut self, values: &[u64], homogeneous: bool) -> bool {
        let _ = (values, homogeneous);
        false
    }
}

// One file per architecture: its `arch_data` type's accessors. Unlike the counter these are
// compiled for every target (the host tools write either architecture's pages).
#[path = "arch/aarch64.rs"]
mod aarch64;
#[path = "arch/loongarch64.rs"]
pub mod loongarch64;
#[path = "arch/riscv64.rs"]
mod riscv64;
#[path = "arch/x86_64.rs"]
mod x86_64;
