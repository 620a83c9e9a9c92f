//! The human-readable summary `vdso build` and `vdso inspect` print.

use std::fmt::Write as _;

use linux_vdso::elf::ElfImage;
use vdso_launcher::shown::escaped;

/// Renders the summary of an image; `label` names where it came from (already escaped). Every
/// string taken from the image (soname, version and symbol names) is escaped: an image's bytes
/// must not reach the terminal as control characters.
pub fn render(label: &str, img: &ElfImage) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{label}");
    let _ = writeln!(
        s,
        "  {} ELF shared object, soname {}, {} bytes in the file, {} bytes mapped ({} page{})",
        img.machine_name(),
        img.soname.as_deref().map_or_else(|| "(none)".into(), escaped),
        img.file_size,
        img.load_size(),
        img.pages(),
        if img.pages() == 1 { "" } else { "s" }
    );
    match img.layout_note() {
        Some(l) => {
            let _ = writeln!(
                s,
                "  layout: ABI revision {}, {} profile, {} data page{} of {} bytes before the image, vdso_data at page 0 + {} ({} bytes each), {} hwprobe keys, HZ {}, {}",
                l.revision,
                linux_vdso::Profile::from_note_value(l.profile).map_or("unknown", |p| p.name()),
                l.data_pages,
                if l.data_pages == 1 { "" } else { "s" },
                l.page_size,
                l.vdso_data_offset,
                l.vdso_data_size,
                l.hwprobe_keys,
                l.hz,
                match l.rng_data_offset {
                    0 => "no getrandom".to_string(),
                    o => match o.checked_div(l.page_size) {
                        Some(page) => format!("vdso_rng_data at data start + {o} (page {page} + {})", o % l.page_size),
                        None => format!("vdso_rng_data at data start + {o}"),
                    },
                }
            );
        }
        None => {
            let _ = writeln!(s, "  layout: no rs-vdso note (not built by this project; data pages unknown)");
        }
    }
    if let Some(v) = img.linux_version() {
        let _ = writeln!(s, "  \"Linux\" note: {}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff);
    }
    if let Some(id) = img.build_id() {
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(s, "  build-id: {hex}");
    }
    // The variant row of the note's architecture, profile and page size.
    let row = img.layout_note().and_then(|l| {
        let arch = linux_vdso::Arch::from_e_machine(img.machine)?;
        let profile = linux_vdso::Profile::from_note_value(l.profile)?;
        linux_vdso::Variant::find(arch, profile, l.page_size as usize)
    });
    // Where the getcpu-mode byte is: the row says (byte 0 of the classic page, byte 2368 of
    // x86_64's modern time page).
    let mode_byte = row.and_then(|v| v.getcpu_mode_offset());
    if let (Some(at), true) = (mode_byte, img.symbols.iter().any(|s| s.name == "__vdso_getcpu")) {
        let _ = writeln!(
            s,
            "  getcpu: byte {at} of page 0 picks the instruction: 0 = lsl on GDT selector 0x7b (Linux default), 1 = rdpid"
        );
    }
    // loongarch64's per-CPU array (getcpu's nodes): where it starts, how far it goes, its CPUs.
    if let Some((v, page)) = row.and_then(|v| Some((v, v.pcpu_page()?))) {
        let _ = writeln!(
            s,
            "  getcpu: per-CPU nodes from page {page} ({} page{}), 64-byte slots for CPUs 0..{}; the syscall for others",
            v.pcpu_pages(),
            if v.pcpu_pages() == 1 { "" } else { "s" },
            v.pcpu_slots() - 1
        );
    }
    let versions: Vec<_> = img.version_defs.iter().map(|d| escaped(&d.name)).collect();
    let _ = writeln!(s, "  version definitions: {}", versions.join(", "));
    let _ = writeln!(s, "  {} dynamic symbols:", img.symbols.len());
    let _ = writeln!(s, "    {:>8}  {:>5}  {:<6}  {:<4}  name@version", "offset", "size", "bind", "type");
    let mut syms: Vec<_> = img.symbols.iter().collect();
    syms.sort_by(|a, b| (a.value, &a.name).cmp(&(b.value, &b.name)));
    for sym in syms {
        let bind = match sym.binding {
            0 => "LOCAL",
            1 => "GLOBAL",
            2 => "WEAK",
            _ => "?",
        };
        let kind = match sym.kind {
            0 => "NONE",
            1 => "OBJ",
            2 => "FUNC",
            _ => "?",
        };
        let version = match &sym.version {
            Some(v) if sym.version_hidden => format!("@{}", escaped(v)),
            Some(v) => format!("@@{}", escaped(v)),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "    {:>#8x}  {:>5}  {:<6}  {:<4}  {}{}",
            sym.value,
            sym.size,
            bind,
            kind,
            escaped(&sym.name),
            version
        );
    }
    s.truncate(s.trim_end().len());
    s
}
