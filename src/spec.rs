//! What each image must be: the architecture table of `vdso-abi` (one row per architecture: names,
//! target, ELF machine, version node, the exported symbol set of docs/abi.md section 5, layout)
//! and the facts every image shares.
//!
//! The build script (which links and verifies the images), the generated tables and the `vdso`
//! command all read that one table, so a symbol is added in exactly one place.

pub use vdso_abi::arch::{Arch, Export, HashStyles};
pub use vdso_abi::variant::{Profile, Variant, VARIANTS};

/// The soname every image carries (and the base entry of its version definitions).
pub const SONAME: &str = "linux-vdso.so.1";

/// Largest loaded segment: two pages since ABI revision 2 (`getrandom` and its ChaCha20 did not
/// fit in one; Linux's own x86_64 image is two pages). A kernel maps `Image::pages()` pages of
/// image (`VDSO_IMAGE_PAGES` in the C header) after the data pages (docs/abi.md section 1).
pub const MAX_LOAD_SIZE: u64 = 2 * 4096;

/// The SysV ELF hash (`vd_hash` of a version definition, DT_HASH buckets).
pub use vdso_abi::elf_hash;
