//! Choosing the row of the variant table (architecture, profile, page size) a command judges a
//! file against: what the command line says, else what the image's own layout note says, else
//! the architecture's default row.

use linux_vdso::elf::ElfImage;
use linux_vdso::{Arch, Profile, Variant};

/// `--profile`'s parser.
pub fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Profile::ALL.iter().map(|p| p.name()).collect();
        format!("unknown profile {s:?}: expected {}", names.join(" or "))
    })
}

/// `--page-size`'s parser: a power of two from 4096 on.
pub fn parse_page_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n.is_power_of_two() && n >= 4096 => Ok(n),
        _ => Err(format!("page size {s:?}: expected a power of two of at least 4096 bytes")),
    }
}

/// The row for `arch` with the profile and page size asked for, each defaulting to what
/// `image`'s layout note says (when given and readable) and then to the arch's default row.
pub fn choose(
    arch: Arch,
    profile: Option<Profile>,
    page_size: Option<usize>,
    image: Option<&ElfImage>,
) -> Result<&'static Variant, String> {
    let note = image.and_then(ElfImage::layout_note);
    let asked = profile.is_some() || page_size.is_some();
    let default = Variant::default_for(arch);
    let profile =
        profile.or_else(|| note.and_then(|n| Profile::from_note_value(n.profile))).unwrap_or(default.profile);
    let page_size = page_size.or_else(|| note.map(|n| n.page_size as usize)).unwrap_or(default.page_size);
    match Variant::find(arch, profile, page_size) {
        Some(v) => Ok(v),
        // An image naming a row we do not build is judged against the default row (its note
        // then fails the check, naming what differs); a command line naming one is an error.
        None if !asked => Ok(default),
        None => {
            let rows: Vec<String> = Variant::of_arch(arch).map(|v| v.to_string()).collect();
            Err(format!(
                "no {} image with the {profile} profile and {page_size}-byte pages; this project builds {}",
                arch.name(),
                rows.join(", ")
            ))
        }
    }
}
