//! Showing foreign text on a terminal: a path, a soname or a symbol name comes from the user's
//! files or an image's bytes, and may hold control characters (an ESC starts a terminal escape
//! sequence, a newline forges a second line of output). Everything printed that did not come
//! from this program goes through [`escaped`] (or [`path`]).
//!
//! Printable characters, including non-ASCII ones, are kept as they are; control characters
//! (C0, DEL and C1) become `\n`, `\t`, `\r` or `\xNN` (`\u{NN}` for C1), bytes that are not
//! UTF-8 become `\xNN`, and a backslash becomes `\\`, so the shown text maps back to exactly
//! one byte string.

use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `bytes` with every control character and non-UTF-8 byte escaped.
pub fn escaped(bytes: impl AsRef<[u8]>) -> String {
    let mut out = String::new();
    let _ = write_escaped(&mut out, bytes.as_ref());
    out
}

/// A path, escaped as [`escaped`] does.
pub fn path(p: &Path) -> String {
    escaped(p.as_os_str().as_bytes())
}

/// Writes `bytes` escaped to `out`.
pub fn write_escaped(out: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.write_str("\\\\")?,
                '\n' => out.write_str("\\n")?,
                '\t' => out.write_str("\\t")?,
                '\r' => out.write_str("\\r")?,
                c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(out, "\\x{:02x}", c as u32)?,
                c if (0x80..0xa0).contains(&(c as u32)) => write!(out, "\\u{{{:x}}}", c as u32)?,
                c => out.write_char(c)?,
            }
        }
        for b in chunk.invalid() {
            write!(out, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bad_bytes_are_escaped_printable_text_kept() {
        assert_eq!(escaped("linux-vdso.so.1"), "linux-vdso.so.1");
        assert_eq!(escaped("a\x1b[31m\nb"), "a\\x1b[31m\\nb");
        assert_eq!(escaped("tab\there\r"), "tab\\there\\r");
        assert_eq!(escaped("del\x7f c1\u{9b}"), "del\\x7f c1\\u{9b}");
        assert_eq!(escaped("héllo ✓"), "héllo ✓");
        assert_eq!(escaped(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(escaped("back\\slash"), "back\\\\slash");
        assert_eq!(path(Path::new("/tmp/x\x1b]0;t\x07")), "/tmp/x\\x1b]0;t\\x07");
    }
}
