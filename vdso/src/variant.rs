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
        // With the `modern` feature (its unit tests), the target's modern row.
        Some(arch) if cfg!(feature = "modern") => match modern_row(arch) {
            Some(v) => v,
            None => panic!("no modern-profile row for this target's architecture"),
        },
        Some(arch) => Variant::default_for(arch),
        None => panic!("no architecture row for this target"),
    },
};

/// The modern-profile row of `arch` with the smallest page size, if any (a `const fn`).
const fn modern_row(arch: Arch) -> Option<&'static Variant> {
    let mut i = 0;
    while i < vdso_abi::VARIANTS.len() {
        let v = &vdso_abi::VARIANTS[i];
        if v.arch as u8 == arch as u8 && matches!(v.profile, Profile::Modern) {
            return Some(v);
        }
        i += 1;
    }
    None
}

/// The page size the image is linked for: each data page before it is this long.
pub const PAGE_SIZE: usize = VARIANT.page_size;

/// The data layout the image reads.
#[allow(dead_code)] // read by the note; the modern profile branches on it
pub const PROFILE: Profile = VARIANT.profile;

const _: () = {
    // The data module the `modern` feature chose is the row's profile's.
    assert!(
        cfg!(feature = "modern") == matches!(PROFILE, Profile::Modern),
        "build a modern row with --features modern"
    );
    // A row of another architecture would read the data at the wrong place.
    if let Some(arch) = Arch::native() {
        assert!(VARIANT.arch as u8 == arch as u8, "VDSO_VARIANT is a row of another arch");
    }
};
