//! The image's ELF notes (docs/abi.md section 6).
//!
//! The "Linux" note carries the release whose data-page layout we follow (glibc up to 2.35 reads
//! it); ours, owned by `rs-vdso`, says which layout the image expects so a kernel or
//! `vdso inspect` can refuse an image it does not speak. `--gc-sections` keeps note sections.

use core::arch::global_asm;
use core::mem::size_of;

use crate::data::{Clock, DATA_PAGES, VDSO_DATA_OFFSET};
use vdso_abi::{note, ABI_REVISION};

use crate::clock::HZ;
use crate::variant::{PAGE_SIZE, PROFILE, VARIANT};

global_asm!(
    ".pushsection .note.Linux, \"a\", @note",
    ".balign 4",
    ".long 6", // name size, "Linux\0"
    ".long 4", // descriptor size
    ".long 0", // type
    ".asciz \"Linux\"",
    ".balign 4",
    ".long {linux}",
    ".popsection",
    ".pushsection .note.rs-vdso, \"a\", @note",
    ".balign 4",
    ".long 8", // name size, "rs-vdso\0"
    ".long {desc}",
    ".long {ty}",
    ".asciz \"rs-vdso\"",
    ".balign 4",
    ".long {rev}",
    ".long {pages}",
    ".long {offset}",
    ".long {size}",
    ".long {keys}",
    ".long {hz}",
    ".long {page_size}",
    ".long {profile}",
    ".long {rng}",
    ".popsection",
    linux = const VARIANT.linux_version_code(),
    desc = const note::WORDS * 4,
    ty = const note::TYPE_LAYOUT,
    rev = const ABI_REVISION,
    pages = const DATA_PAGES,
    offset = const VDSO_DATA_OFFSET,
    size = const size_of::<Clock>(),
    keys = const VARIANT.hwprobe_keys(),
    hz = const HZ,
    page_size = const PAGE_SIZE,
    profile = const PROFILE.note_value(),
    rng = const match VARIANT.rng_data_offset() {
        Some(offset) => offset,
        None => 0,
    },
);

const _: () = assert!(note::OWNER.len() + 1 == 8 && note::WORDS == 9);
