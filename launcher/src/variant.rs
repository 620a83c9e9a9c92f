//! Which image a program gets: the row of `vdso-abi`'s variant table for its architecture and
//! this address space's page size.
//!
//! The image's data pages and text are laid out in pages of its row's size, so it only works in
//! an address space with that page size (a kernel with 16 KiB pages maps the 16 KiB image). The
//! launcher plays a kernel of the host's page size: it takes the classic-profile row of that
//! size, tells the program the same size in `AT_PAGESZ`, and refuses to start when the project
//! builds no such image, rather than mapping one whose every page offset would be wrong.

use vdso_kernel_stub::{Arch, Profile, Variant};

use crate::error::Error;
use crate::options::arch_name;

/// The page size of this address space (what the kernel gave us in `AT_PAGESZ`).
pub fn host_page_size() -> usize {
    rustix::param::page_size()
}

/// The image row for `arch` with `page_size`-byte pages.
pub fn for_page_size(arch: Arch, page_size: usize) -> Result<&'static Variant, Error> {
    Variant::find(arch, Profile::Classic, page_size).ok_or_else(|| {
        let built: Vec<String> = Variant::of_arch(arch)
            .filter(|v| v.profile == Profile::Classic)
            .map(|v| v.page_size.to_string())
            .collect();
        Error::cannot_execute(format!(
            "no {} image for {page_size}-byte pages; this project builds {}",
            arch_name(arch),
            built.join(" and ")
        ))
    })
}

/// The image row for `arch` in this address space.
pub fn for_host(arch: Arch) -> Result<&'static Variant, Error> {
    for_page_size(arch, host_page_size())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_row_of_the_page_size_and_refuses_a_size_without_one() {
        for arch in Arch::ALL {
            let built: Vec<String> = Variant::of_arch(arch)
                .filter(|v| v.profile == Profile::Classic)
                .map(|v| v.page_size.to_string())
                .collect();
            for row in Variant::of_arch(arch).filter(|v| v.profile == Profile::Classic) {
                let v = for_page_size(arch, row.page_size).expect("its own row");
                assert_eq!(v, row);
            }
            // Page sizes without a row are refused, naming the arch and what exists.
            for size in [4096, 16384, 65536] {
                if Variant::find(arch, Profile::Classic, size).is_none() {
                    let e = for_page_size(arch, size).unwrap_err().to_string();
                    let want = format!(
                        "no {} image for {size}-byte pages; this project builds {}",
                        arch_name(arch),
                        built.join(" and ")
                    );
                    assert!(e.contains(&want), "{e}");
                }
            }
        }
        // loongarch64 has only its 16 KiB row (until a 4 KiB one is added): a 4 KiB host is refused.
        if Variant::find(Arch::Loongarch64, Profile::Classic, 4096).is_none() {
            assert!(for_page_size(Arch::Loongarch64, 4096).is_err());
        }
    }
}
