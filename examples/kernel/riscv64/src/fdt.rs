//! A minimal flattened-device-tree reader: enough to find a property by node path.
//!
//! The blob (devicetree specification, "Flattened Devicetree Format") is a header, a structure
//! block of big-endian tokens (`BEGIN_NODE name`, `PROP len nameoff value`, `END_NODE`, `NOP`,
//! `END`) and a strings block holding property names. Every read is bounds-checked against the
//! blob's `totalsize`, so a damaged tree yields `None`, never a wild read.

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Deepest node path tracked.
const MAX_DEPTH: usize = 8;

/// A device tree in memory.
#[derive(Clone, Copy)]
pub struct Fdt<'a> {
    blob: &'a [u8],
    structs: usize,
    strings: usize,
}

fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

impl<'a> Fdt<'a> {
    /// Reads the tree at `addr`.
    ///
    /// # Safety
    ///
    /// `addr` must point at readable memory holding a device tree (as the firmware passes in
    /// `a1`), valid for as long as the returned value is used.
    pub unsafe fn from_ptr(addr: *const u8) -> Option<Fdt<'a>> {
        // SAFETY: the caller guarantees a readable header (40 bytes) at `addr`.
        let head = unsafe { core::slice::from_raw_parts(addr, 40) };
        if be32(head, 0)? != MAGIC {
            return None;
        }
        let total = be32(head, 4)? as usize;
        // SAFETY: the header says the blob spans `total` bytes, which the caller guarantees.
        let blob = unsafe { core::slice::from_raw_parts(addr, total) };
        Some(Fdt { blob, structs: be32(head, 8)? as usize, strings: be32(head, 12)? as usize })
    }

    fn cstr(&self, off: usize) -> Option<&'a [u8]> {
        let s = self.blob.get(off..)?;
        Some(&s[..s.iter().position(|&b| b == 0)?])
    }

    /// Calls `f(path, name, value)` for every property; `path` holds the node names from the
    /// root's children down (the root itself is `[]`). Returns `None` on a malformed tree.
    pub fn for_each_prop(&self, mut f: impl FnMut(&[&[u8]], &[u8], &'a [u8])) -> Option<()> {
        let mut path: [&[u8]; MAX_DEPTH] = [&[]; MAX_DEPTH];
        let mut depth = 0usize; // nodes open, the root included
        let mut off = self.structs;
        loop {
            let token = be32(self.blob, off)?;
            off += 4;
            match token {
                BEGIN_NODE => {
                    let name = self.cstr(off)?;
                    off = (off + name.len() + 1 + 3) & !3;
                    if (1..=MAX_DEPTH).contains(&depth) {
                        path[depth - 1] = name;
                    }
                    depth += 1;
                }
                END_NODE => depth = depth.checked_sub(1)?,
                PROP => {
                    let len = be32(self.blob, off)? as usize;
                    let nameoff = be32(self.blob, off + 4)? as usize;
                    let value = self.blob.get(off + 8..off + 8 + len)?;
                    off = (off + 8 + len + 3) & !3;
                    let name = self.cstr(self.strings + nameoff)?;
                    let shown = depth.saturating_sub(1).min(MAX_DEPTH);
                    f(&path[..shown], name, value);
                }
                NOP => {}
                END => return Some(()),
                _ => return None,
            }
        }
    }

    /// The value of property `name` of the node at `path` (node names as in the tree, e.g.
    /// `["cpus"]`; a name matches with or without its `@unit-address`).
    pub fn prop(&self, path: &[&str], name: &str) -> Option<&'a [u8]> {
        let mut found = None;
        self.for_each_prop(|p, n, v| {
            if found.is_none() && n == name.as_bytes() && path_matches(p, path) {
                found = Some(v);
            }
        })?;
        found
    }

    /// The `reg` value of the first node (any depth) whose `compatible` list holds `compat`.
    pub fn reg_of_compatible(&self, compat: &str) -> Option<&'a [u8]> {
        // A node's properties arrive together, `reg` before or after `compatible`.
        let mut matched = None;
        let mut last_reg = None;
        let mut found = None;
        self.for_each_prop(|p, n, v| {
            let key = node_key(p);
            if n == b"compatible" && v.split(|&b| b == 0).any(|c| c == compat.as_bytes()) {
                matched = Some(key);
            }
            if n == b"reg" {
                last_reg = Some((key, v));
            }
            if let (None, Some(m), Some((k, v))) = (found, matched, last_reg) {
                if m == k {
                    found = Some(v);
                }
            }
        })?;
        found
    }
}

/// A fingerprint of a node path (its last name and depth), to tell nodes apart.
fn node_key(path: &[&[u8]]) -> ([u8; 32], usize) {
    let mut key = [0u8; 32];
    if let Some(last) = path.last() {
        let n = last.len().min(32);
        key[..n].copy_from_slice(&last[..n]);
    }
    (key, path.len())
}

fn path_matches(have: &[&[u8]], want: &[&str]) -> bool {
    have.len() == want.len()
        && have.iter().zip(want).all(|(h, w)| {
            let base = h.split(|&b| b == b'@').next().unwrap_or(h);
            *h == w.as_bytes() || base == w.as_bytes()
        })
}

/// A big-endian cell array as a number (1 or 2 cells).
pub fn be_number(v: &[u8]) -> Option<u64> {
    match v.len() {
        4 => Some(u32::from_be_bytes(v.try_into().ok()?) as u64),
        8 => Some(u64::from_be_bytes(v.try_into().ok()?)),
        _ => None,
    }
}
