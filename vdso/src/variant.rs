//! Which row of `vdso-abi`'s variant table this image is built for.
//!
//! The root build script builds one image per row and names the row in `VDSO_VARIANT` (its
//! directory, `x86_64`, `loongarch64-4k`, ...); without it (the host unit tests, a plain
//! `cargo build` here) the image is the compilation target's default row. The page size and the
//! profile are compile-time constants of the image, as Linux's `PAGE_SIZE` is of its vDSO.

use vdso_abi::{Arch, Profile, Variant};

/// The row this image is built for.
pub const VARIANT: &Variant = match option_env!("VDSO_VARIANT") {
    Some(name) => match Variant::by_name(name) {
        Some(v) => v,
        None => panic!("VDSO_VARIANT names no row of vdso_abi::VARIANTS"),
    },
    None => match Arch::native() {
        Some(arch) => Variant::default_for(arch),
        None => panic!("no architecture row for this target"),
    },
};

/// The page size the image is linked for: each data page before it is this long.
pub const PAGE_SIZE: usize = VARIANT.page_size;

/// The data layout the image reads.
#[allow(dead_code)] // read by the note; the modern profile branches on it
pub const PROFILE: Profile = VARIANT.profile;

const _: () = {
    // A row of another architecture would read the data at the wrong place.
    if let Some(arch) = Arch::native() {
        assert!(VARIANT.arch as u8 == arch as u8, "VDSO_VARIANT is a row of another arch");
    }
};
