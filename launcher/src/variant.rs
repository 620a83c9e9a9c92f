//! Which image a program gets: the row of `vdso-abi`'s variant table for its architecture and
//! this address space's page size.
//!
//! The image's data pages and text are laid out in pages of its row's size, so it only works in
//! an address space with that page size (a kernel with 16 KiB pages maps the 16 KiB image). The
//! launcher plays a kernel of the host's page size: it takes the row of that size in the profile
//! asked for (`vdso run --profile`, classic by default), tells the program the same size in
//! `AT_PAGESZ`, and refuses to start when the project builds no such image, rather than mapping
//! one whose every page offset would be wrong.

use vdso_kernel_stub::{Arch, Profile, Variant};

use crate::error::Error;
use crate::options::arch_name;

/// The page size of this address space (what the kernel gave us in `AT_PAGESZ`).
pub fn host_page_size() -> usize {
    rustix::param::page_size()
}

/// The image row for `arch` in `profile` with `page_size`-byte pages.
pub fn for_page_size(arch: Arch, profile: Profile, page_size: usize) -> Result<&'static Variant, Error> {
    Variant::find(arch, profile, page_size).ok_or_else(|| {
        let built: Vec<String> =
            Variant::of_arch(arch).map(|v| format!("{} {}", v.profile.name(), v.page_size)).collect();
        Error::cannot_execute(format!(
            "no {} {} image for {page_size}-byte pages; this project builds {} (profile page size)",
            arch_name(arch),
            profile.name(),
            built.join(", ")
        ))
    })
}

/// The image row for `arch` in `profile` in this address space.
pub fn for_host(arch: Arch, profile: Profile) -> Result<&'static Variant, Error> {
    for_page_size(arch, profile, host_page_size())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_row_of_the_profile_and_page_size_and_refuses_one_without_a_row() {
        for arch in Arch::ALL {
            for profile in Profile::ALL {
                for row in Variant::of_arch(arch).filter(|v| v.profile == profile) {
                    assert_eq!(for_page_size(arch, profile, row.page_size).expect("its own row"), row);
                }
                // Page sizes without a row are refused, naming the arch, the profile and what exists.
                for size in [4096, 16384, 65536] {
                    if Variant::find(arch, profile, size).is_none() {
                        let e = for_page_size(arch, profile, size).unwrap_err().to_string();
                        let want =
                            format!("no {} {} image for {size}-byte pages", arch_name(arch), profile.name());
                        assert!(e.contains(&want), "{e}");
                    }
                }
            }
        }
        // The profile is honoured: x86_64 has both at 4 KiB.
        assert_eq!(for_page_size(Arch::X86_64, Profile::Modern, 4096).unwrap().profile, Profile::Modern);
        assert_eq!(for_page_size(Arch::X86_64, Profile::Classic, 4096).unwrap().profile, Profile::Classic);
    }
}
