//! Finding a versioned symbol in a mapped image, the way a libc does it.
//!
//! The image's own build checks its symbol table with an ELF library; this module is independent
//! evidence that a program can resolve the symbols at run time: it reads only what the *mapped*
//! image offers a dynamic loader (program headers, `PT_DYNAMIC`, `DT_STRTAB`/`DT_SYMTAB`, the
//! hash tables, `DT_VERSYM`/`DT_VERDEF`), no section headers, and finds symbols through the hash
//! tables as musl (`DT_HASH` only) and glibc (`DT_GNU_HASH` first) do, checking the version
//! definition's name and `vd_hash` as musl, the Go runtime and rustix do.
//!
//! Every read is bounds-checked against the mapped bytes, so a malformed image yields an error,
//! never a wild read. `no_std`, no allocation.
//!
//! The image verifier of the `linux-vdso` crate (`vdso verify`, and the build of every image)
//! judges an image through this same reader: [`DynImage::lookup_with`] gives each consumer's
//! lookup separately, and the table accessors ([`DynImage::sysv_table`], [`DynImage::gnu_table`],
//! [`DynImage::version_defs`], ...) let it check the tables' structure. [`DynImage::parse`]
//! refuses what glibc's loader asserts on or would read out of bounds (a Bloom filter whose size
//! is not a power of two, an empty GNU table, tables past the end of the image).

use core::fmt;

/// `PT_LOAD`.
const PT_LOAD: u32 = 1;
/// `PT_DYNAMIC`.
const PT_DYNAMIC: u32 = 2;
/// `PF_X`.
const PF_X: u32 = 1;
const DT_NULL: i64 = 0;
const DT_HASH: i64 = 4;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_STRSZ: i64 = 10;
const DT_SYMENT: i64 = 11;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const DT_VERSYM: i64 = 0x6fff_fff0;
const DT_VERDEF: i64 = 0x6fff_fffc;
const DT_VERDEFNUM: i64 = 0x6fff_fffd;
const SHN_UNDEF: u16 = 0;
const STT_NOTYPE: u8 = 0;
const STT_OBJECT: u8 = 1;
/// `STT_FUNC`.
pub const STT_FUNC: u8 = 2;
/// `STB_GLOBAL`.
pub const STB_GLOBAL: u8 = 1;
/// `STB_WEAK`.
pub const STB_WEAK: u8 = 2;
const VER_FLG_BASE: u16 = 1;
/// Bound on chain walks, so a cyclic table cannot hang the lookup.
const MAX_WALK: usize = 1 << 16;

/// Why a lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolError {
    /// Not a 64-bit little-endian ELF file.
    NotElf,
    /// A table or header points outside the mapped bytes.
    OutOfBounds(&'static str),
    /// No `PT_LOAD` or no `PT_DYNAMIC`.
    NoDynamic,
    /// A required dynamic entry is missing or malformed.
    BadDynamic(&'static str),
    /// Neither `DT_HASH` nor `DT_GNU_HASH` (or not the one asked for).
    NoHashTable,
    /// The image has no `DT_VERSYM`/`DT_VERDEF`, so no version can match.
    NoVersionInfo,
    /// No defined symbol of that name.
    SymbolNotFound,
    /// The name exists, but not with that version.
    VersionNotFound,
    /// The symbol is not a function in an executable segment.
    NotAFunction,
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SymbolError::NotElf => write!(f, "not a 64-bit little-endian ELF image"),
            SymbolError::OutOfBounds(what) => write!(f, "{what} lies outside the mapped image"),
            SymbolError::NoDynamic => write!(f, "image has no PT_LOAD or no PT_DYNAMIC"),
            SymbolError::BadDynamic(what) => write!(f, "dynamic section: {what}"),
            SymbolError::NoHashTable => write!(f, "image has no (such) symbol hash table"),
            SymbolError::NoVersionInfo => write!(f, "image has no DT_VERSYM/DT_VERDEF"),
            SymbolError::SymbolNotFound => write!(f, "no such symbol"),
            SymbolError::VersionNotFound => write!(f, "symbol exists but not with that version"),
            SymbolError::NotAFunction => write!(f, "symbol is not a function in executable code"),
        }
    }
}

/// The hash table a lookup goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashStyle {
    /// `DT_HASH` (SysV), as musl and Zig use.
    Sysv,
    /// `DT_GNU_HASH`, as glibc prefers.
    Gnu,
    /// No hash: every entry of `.dynsym` (count from the hash tables), as a check of the other two.
    Linear,
}

/// The SysV ELF hash (`DT_HASH`, and `vd_hash` of version definitions).
pub use vdso_abi::elf_hash;

/// The GNU hash (`DT_GNU_HASH`): Bernstein's `h * 33 + c` from 5381.
pub const fn gnu_hash(name: &[u8]) -> u32 {
    let mut h: u32 = 5381;
    let mut i = 0;
    while i < name.len() {
        h = h.wrapping_mul(33).wrapping_add(name[i] as u32);
        i += 1;
    }
    h
}

/// A symbol found in the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// Its `.dynsym` index.
    pub index: usize,
    /// Its name.
    pub name: &'a [u8],
    /// Its version name (`None` for unversioned or base-version symbols).
    pub version: Option<&'a [u8]>,
    /// Whether the version index has the hidden bit (not the default version).
    pub hidden: bool,
    /// `st_value` (a virtual address of the image).
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `STT_*`.
    pub kind: u8,
    /// `STB_*`.
    pub bind: u8,
    /// `st_other` (the low two bits are the visibility, `STV_DEFAULT` = 0).
    pub other: u8,
    /// `st_shndx` (`SHN_UNDEF` = 0, `SHN_ABS` = 0xfff1).
    pub shndx: u16,
    /// Offset of the symbol from the start of the mapped image.
    pub offset: usize,
}

/// The header of `DT_HASH`, as [`DynImage::sysv_table`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysvTable {
    /// Number of buckets.
    pub nbucket: usize,
    /// Number of chain entries, which is the number of `.dynsym` entries.
    pub nchain: usize,
}

/// The header of `DT_GNU_HASH`, as [`DynImage::gnu_table`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GnuTable {
    /// Number of buckets (never 0: [`DynImage::parse`] refuses that).
    pub nbuckets: usize,
    /// Index of the first hashed symbol (`symoffset`, also called `symbias`).
    pub symoffset: usize,
    /// Number of 64-bit Bloom filter words (a power of two: [`DynImage::parse`] refuses others).
    pub bloom_size: usize,
    /// Shift of the second Bloom bit (below 32).
    pub bloom_shift: u32,
    /// Number of `.dynsym` entries the table covers: one past the end of its last chain.
    pub count: usize,
}

/// A version definition (`Elf64_Verdef` with its first `Elf64_Verdaux`'s name), as
/// [`DynImage::version_defs`] walks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionDef<'a> {
    /// `vd_version` (1).
    pub version: u16,
    /// `vd_flags` (`VER_FLG_BASE` = 1).
    pub flags: u16,
    /// `vd_ndx`.
    pub ndx: u16,
    /// `vd_cnt`.
    pub cnt: u16,
    /// `vd_hash`.
    pub hash: u32,
    /// The first auxiliary entry's name.
    pub name: &'a [u8],
    /// `vd_next` (0 on the last entry).
    pub next: u32,
}

#[derive(Clone, Copy, Debug)]
struct Sysv {
    nbucket: usize,
    nchain: usize,
    buckets: usize,
    chains: usize,
}

#[derive(Clone, Copy, Debug)]
struct Gnu {
    nbuckets: usize,
    symoffset: usize,
    bloom_size: usize,
    bloom_shift: u32,
    bloom: usize,
    buckets: usize,
    chains: usize,
    count: usize,
}

/// A mapped image's dynamic symbol information.
#[derive(Clone, Copy, Debug)]
pub struct DynImage<'a> {
    mem: &'a [u8],
    /// The virtual address that `mem[0]` stands for.
    base_vaddr: u64,
    strtab: usize,
    strsz: usize,
    symtab: usize,
    syment: usize,
    nsyms: usize,
    sysv: Option<Sysv>,
    gnu: Option<Gnu>,
    versym: Option<usize>,
    verdef: Option<usize>,
    verdefnum: usize,
    exec: [(u64, u64); 4],
    nexec: usize,
}

fn rd<const N: usize>(mem: &[u8], off: usize, what: &'static str) -> Result<[u8; N], SymbolError> {
    let end = off.checked_add(N).ok_or(SymbolError::OutOfBounds(what))?;
    let b = mem.get(off..end).ok_or(SymbolError::OutOfBounds(what))?;
    let mut a = [0u8; N];
    a.copy_from_slice(b);
    Ok(a)
}
fn u16_at(mem: &[u8], off: usize, what: &'static str) -> Result<u16, SymbolError> {
    rd::<2>(mem, off, what).map(u16::from_le_bytes)
}
fn u32_at(mem: &[u8], off: usize, what: &'static str) -> Result<u32, SymbolError> {
    rd::<4>(mem, off, what).map(u32::from_le_bytes)
}
fn u64_at(mem: &[u8], off: usize, what: &'static str) -> Result<u64, SymbolError> {
    rd::<8>(mem, off, what).map(u64::from_le_bytes)
}
fn idx(base: usize, i: usize, size: usize, what: &'static str) -> Result<usize, SymbolError> {
    i.checked_mul(size).and_then(|o| o.checked_add(base)).ok_or(SymbolError::OutOfBounds(what))
}

/// glibc's Bloom test: word `(h / 64) & (bloom_size - 1)` must have bits `h % 64` and
/// `(h >> bloom_shift) % 64` set. An unreadable word admits nothing.
fn bloom_admits(mem: &[u8], g: &Gnu, h: u32) -> bool {
    let word = idx(g.bloom, (h as usize / 64) & (g.bloom_size - 1), 8, "bloom")
        .and_then(|at| u64_at(mem, at, "bloom"))
        .unwrap_or(0);
    let mask = (1u64 << (h % 64)) | (1u64 << ((h >> g.bloom_shift) % 64));
    word & mask == mask
}

/// Number of `.dynsym` entries a GNU table covers: one past the end of the chain of its
/// highest bucket (or `symoffset` when every bucket is empty).
fn gnu_symbol_count(mem: &[u8], g: &Gnu) -> Result<usize, SymbolError> {
    let mut last = 0;
    for b in 0..g.nbuckets {
        last = last.max(u32_at(mem, idx(g.buckets, b, 4, "GNU bucket")?, "GNU bucket")? as usize);
    }
    if last < g.symoffset {
        return Ok(g.symoffset);
    }
    for _ in 0..MAX_WALK {
        let h = u32_at(mem, idx(g.chains, last - g.symoffset, 4, "GNU chain")?, "GNU chain")?;
        if h & 1 != 0 {
            return Ok(last + 1);
        }
        last += 1;
    }
    Err(SymbolError::BadDynamic("unterminated GNU hash chain"))
}

impl<'a> DynImage<'a> {
    /// Reads the dynamic information of an image mapped at `mem` (its loaded bytes, starting
    /// with the ELF header, as `AT_SYSINFO_EHDR` points at them).
    pub fn parse(mem: &'a [u8]) -> Result<Self, SymbolError> {
        let ident = rd::<16>(mem, 0, "ELF header").map_err(|_| SymbolError::NotElf)?;
        if ident[..4] != *b"\x7fELF" || ident[4] != 2 || ident[5] != 1 {
            return Err(SymbolError::NotElf);
        }
        let phoff = u64_at(mem, 32, "ELF header")? as usize;
        let phentsize = u16_at(mem, 54, "ELF header")? as usize;
        let phnum = u16_at(mem, 56, "ELF header")? as usize;
        if phentsize < 56 {
            return Err(SymbolError::NotElf);
        }
        let mut load_base = None;
        let mut dynamic = None;
        let mut exec = [(0u64, 0u64); 4];
        let mut nexec = 0;
        for i in 0..phnum {
            let ph = idx(phoff, i, phentsize, "program header")?;
            let p_type = u32_at(mem, ph, "program header")?;
            let p_flags = u32_at(mem, ph + 4, "program header")?;
            let p_offset = u64_at(mem, ph + 8, "program header")?;
            let p_vaddr = u64_at(mem, ph + 16, "program header")?;
            let p_memsz = u64_at(mem, ph + 40, "program header")?;
            match p_type {
                PT_LOAD => {
                    if load_base.is_none() {
                        // The first PT_LOAD maps file offset p_offset at p_vaddr: the mapping
                        // starts at the virtual address p_vaddr - p_offset.
                        let base = p_vaddr
                            .checked_sub(p_offset)
                            .ok_or(SymbolError::BadDynamic("first PT_LOAD has p_vaddr below p_offset"))?;
                        load_base = Some(base);
                    }
                    if p_flags & PF_X != 0 && nexec < exec.len() {
                        exec[nexec] = (p_vaddr, p_vaddr.saturating_add(p_memsz));
                        nexec += 1;
                    }
                }
                PT_DYNAMIC => dynamic = Some((p_vaddr, p_memsz)),
                _ => {}
            }
        }
        let (Some(base_vaddr), Some((dyn_vaddr, dyn_size))) = (load_base, dynamic) else {
            return Err(SymbolError::NoDynamic);
        };
        let off = |vaddr: u64, what: &'static str| -> Result<usize, SymbolError> {
            let o = vaddr.checked_sub(base_vaddr).ok_or(SymbolError::OutOfBounds(what))?;
            let o = usize::try_from(o).map_err(|_| SymbolError::OutOfBounds(what))?;
            if o < mem.len() {
                Ok(o)
            } else {
                Err(SymbolError::OutOfBounds(what))
            }
        };

        let dyn_off = off(dyn_vaddr, "PT_DYNAMIC")?;
        let (mut strtab, mut strsz, mut symtab, mut syment) = (None, None, None, None);
        let (mut hash, mut gnuhash, mut versym, mut verdef, mut verdefnum) = (None, None, None, None, 0);
        for i in 0..(dyn_size / 16) as usize {
            let e = idx(dyn_off, i, 16, "dynamic entry")?;
            let tag = u64_at(mem, e, "dynamic entry")? as i64;
            let val = u64_at(mem, e + 8, "dynamic entry")?;
            match tag {
                DT_NULL => break,
                DT_STRTAB => strtab = Some(off(val, "DT_STRTAB")?),
                DT_STRSZ => strsz = Some(val as usize),
                DT_SYMTAB => symtab = Some(off(val, "DT_SYMTAB")?),
                DT_SYMENT => syment = Some(val as usize),
                DT_HASH => hash = Some(off(val, "DT_HASH")?),
                DT_GNU_HASH => gnuhash = Some(off(val, "DT_GNU_HASH")?),
                DT_VERSYM => versym = Some(off(val, "DT_VERSYM")?),
                DT_VERDEF => verdef = Some(off(val, "DT_VERDEF")?),
                DT_VERDEFNUM => verdefnum = val as usize,
                _ => {}
            }
        }
        let strtab = strtab.ok_or(SymbolError::BadDynamic("no DT_STRTAB"))?;
        let strsz = strsz.ok_or(SymbolError::BadDynamic("no DT_STRSZ"))?;
        let symtab = symtab.ok_or(SymbolError::BadDynamic("no DT_SYMTAB"))?;
        let syment = syment.unwrap_or(24);
        if syment != 24 {
            return Err(SymbolError::BadDynamic("DT_SYMENT is not 24"));
        }
        if strtab.checked_add(strsz).is_none_or(|end| end > mem.len()) {
            return Err(SymbolError::OutOfBounds("string table"));
        }

        let sysv = match hash {
            Some(h) => {
                let nbucket = u32_at(mem, h, "DT_HASH")? as usize;
                let nchain = u32_at(mem, h + 4, "DT_HASH")? as usize;
                let buckets = h + 8;
                let chains = idx(buckets, nbucket, 4, "DT_HASH")?;
                // The whole table must be in bounds.
                u32_at(mem, idx(chains, nchain.max(1) - 1, 4, "DT_HASH")?, "DT_HASH chains")?;
                Some(Sysv { nbucket, nchain, buckets, chains })
            }
            None => None,
        };
        let gnu = match gnuhash {
            Some(h) => {
                let nbuckets = u32_at(mem, h, "DT_GNU_HASH")? as usize;
                let symoffset = u32_at(mem, h + 4, "DT_GNU_HASH")? as usize;
                let bloom_size = u32_at(mem, h + 8, "DT_GNU_HASH")? as usize;
                let bloom_shift = u32_at(mem, h + 12, "DT_GNU_HASH")?;
                let bloom = h + 16;
                if bloom_size == 0 || nbuckets == 0 {
                    return Err(SymbolError::BadDynamic("empty DT_GNU_HASH (no Bloom words or no buckets)"));
                }
                // glibc indexes the filter with a mask of `bloom_size - 1` and asserts it is one.
                if !bloom_size.is_power_of_two() {
                    return Err(SymbolError::BadDynamic(
                        "DT_GNU_HASH Bloom filter size is not a power of two (glibc asserts)",
                    ));
                }
                // The second Bloom bit is `hash >> bloom_shift` of a 32-bit hash.
                if bloom_shift >= 32 {
                    return Err(SymbolError::BadDynamic("DT_GNU_HASH bloom shift of 32 or more"));
                }
                let buckets = idx(bloom, bloom_size, 8, "DT_GNU_HASH Bloom filter")?;
                let chains = idx(buckets, nbuckets, 4, "DT_GNU_HASH buckets")?;
                // The Bloom filter and the buckets must lie inside the image.
                if chains > mem.len() {
                    return Err(SymbolError::OutOfBounds("DT_GNU_HASH Bloom filter or buckets"));
                }
                let mut g =
                    Gnu { nbuckets, symoffset, bloom_size, bloom_shift, bloom, buckets, chains, count: 0 };
                g.count = gnu_symbol_count(mem, &g)?;
                Some(g)
            }
            None => None,
        };
        let mut img = DynImage {
            mem,
            base_vaddr,
            strtab,
            strsz,
            symtab,
            syment,
            nsyms: 0,
            sysv,
            gnu,
            versym,
            verdef,
            verdefnum,
            exec,
            nexec,
        };
        img.nsyms = match (sysv, gnu) {
            (Some(s), _) => s.nchain,
            (None, Some(g)) => g.count,
            (None, None) => return Err(SymbolError::NoHashTable),
        };
        Ok(img)
    }

    /// Number of `.dynsym` entries (from `DT_HASH`'s `nchain`, else from the GNU chains).
    pub fn symbol_count(&self) -> usize {
        self.nsyms
    }

    /// Whether the image has a `DT_HASH` and a `DT_GNU_HASH` table.
    pub fn hash_tables(&self) -> (bool, bool) {
        (self.sysv.is_some(), self.gnu.is_some())
    }

    /// `DT_HASH`'s header, if the image has one.
    pub fn sysv_table(&self) -> Option<SysvTable> {
        self.sysv.map(|t| SysvTable { nbucket: t.nbucket, nchain: t.nchain })
    }

    /// `DT_GNU_HASH`'s header, if the image has one.
    pub fn gnu_table(&self) -> Option<GnuTable> {
        self.gnu.map(|g| GnuTable {
            nbuckets: g.nbuckets,
            symoffset: g.symoffset,
            bloom_size: g.bloom_size,
            bloom_shift: g.bloom_shift,
            count: g.count,
        })
    }

    /// Bucket `b` of `DT_HASH`: the first `.dynsym` index of its chain (0 for none).
    pub fn sysv_bucket(&self, b: usize) -> Result<usize, SymbolError> {
        let t = self.sysv.ok_or(SymbolError::NoHashTable)?;
        if b >= t.nbucket {
            return Err(SymbolError::OutOfBounds("DT_HASH bucket index"));
        }
        Ok(u32_at(self.mem, idx(t.buckets, b, 4, "DT_HASH bucket")?, "DT_HASH bucket")? as usize)
    }

    /// Chain entry `i` of `DT_HASH`: the `.dynsym` index after `i` on its chain (0 ends it).
    pub fn sysv_chain(&self, i: usize) -> Result<usize, SymbolError> {
        let t = self.sysv.ok_or(SymbolError::NoHashTable)?;
        if i >= t.nchain {
            return Err(SymbolError::OutOfBounds("DT_HASH chain index"));
        }
        Ok(u32_at(self.mem, idx(t.chains, i, 4, "DT_HASH chain")?, "DT_HASH chain")? as usize)
    }

    /// Bucket `b` of `DT_GNU_HASH`: the first `.dynsym` index of its run (0 for none).
    pub fn gnu_bucket(&self, b: usize) -> Result<usize, SymbolError> {
        let g = self.gnu.ok_or(SymbolError::NoHashTable)?;
        if b >= g.nbuckets {
            return Err(SymbolError::OutOfBounds("DT_GNU_HASH bucket index"));
        }
        Ok(u32_at(self.mem, idx(g.buckets, b, 4, "GNU bucket")?, "GNU bucket")? as usize)
    }

    /// The `DT_GNU_HASH` chain word of `.dynsym` entry `i` (`i >= symoffset`): the symbol's GNU
    /// hash with bit 0 replaced by "last of its bucket".
    pub fn gnu_chain(&self, i: usize) -> Result<u32, SymbolError> {
        let g = self.gnu.ok_or(SymbolError::NoHashTable)?;
        let at = i.checked_sub(g.symoffset).ok_or(SymbolError::OutOfBounds("GNU chain index"))?;
        u32_at(self.mem, idx(g.chains, at, 4, "GNU chain")?, "GNU chain")
    }

    /// Whether `DT_GNU_HASH`'s Bloom filter lets a lookup of `name` go on to the buckets (glibc
    /// stops at the filter when it says no).
    pub fn bloom_admits(&self, name: &[u8]) -> Result<bool, SymbolError> {
        let g = self.gnu.ok_or(SymbolError::NoHashTable)?;
        Ok(bloom_admits(self.mem, &g, gnu_hash(name)))
    }

    /// The version definitions, walked through `vd_next` as the loaders walk them (not
    /// counted by `DT_VERDEFNUM`). Ends after the entry whose `vd_next` is 0, at the first
    /// unreadable entry (yielding its error), or after 2^16 entries.
    pub fn version_defs(&self) -> impl Iterator<Item = Result<VersionDef<'a>, SymbolError>> + '_ {
        let mut at = self.verdef;
        let mut walked = 0;
        core::iter::from_fn(move || {
            let def = at.take()?;
            walked += 1;
            if walked > MAX_WALK {
                return Some(Err(SymbolError::BadDynamic("verdef chain does not end")));
            }
            let entry = self.version_def_at(def);
            if let Ok(d) = &entry {
                if d.next != 0 {
                    at = def.checked_add(d.next as usize);
                    if at.is_none() {
                        return Some(Err(SymbolError::OutOfBounds("verdef")));
                    }
                }
            }
            Some(entry)
        })
    }

    fn version_def_at(&self, def: usize) -> Result<VersionDef<'a>, SymbolError> {
        let what = "verdef";
        let vd_aux = u32_at(self.mem, def.checked_add(12).ok_or(SymbolError::OutOfBounds(what))?, what)?;
        let aux = def.checked_add(vd_aux as usize).ok_or(SymbolError::OutOfBounds("verdaux"))?;
        Ok(VersionDef {
            version: u16_at(self.mem, def, what)?,
            flags: u16_at(self.mem, def + 2, what)?,
            ndx: u16_at(self.mem, def + 4, what)?,
            cnt: u16_at(self.mem, def + 6, what)?,
            hash: u32_at(self.mem, def + 8, what)?,
            name: self.cstr(u32_at(self.mem, aux, "verdaux")?, "version name")?,
            next: u32_at(self.mem, def + 16, what)?,
        })
    }

    fn cstr(&self, off: u32, what: &'static str) -> Result<&'a [u8], SymbolError> {
        let start = off as usize;
        if start >= self.strsz {
            return Err(SymbolError::OutOfBounds(what));
        }
        let s = &self.mem[self.strtab + start..self.strtab + self.strsz];
        let len = s.iter().position(|&b| b == 0).ok_or(SymbolError::OutOfBounds(what))?;
        Ok(&s[..len])
    }

    /// The version name of `.dynsym` entry `index` and whether it is hidden; `None` for
    /// local/global (unversioned) indices.
    fn version_of(&self, index: usize) -> Result<(Option<&'a [u8]>, bool), SymbolError> {
        let (Some(versym), Some(verdef)) = (self.versym, self.verdef) else {
            return Err(SymbolError::NoVersionInfo);
        };
        let v = u16_at(self.mem, idx(versym, index, 2, "DT_VERSYM")?, "DT_VERSYM")?;
        let hidden = v & 0x8000 != 0;
        let ndx = v & 0x7fff;
        if ndx <= 1 {
            return Ok((None, hidden));
        }
        let mut def = verdef;
        for _ in 0..self.verdefnum.clamp(1, MAX_WALK) {
            let vd_version = u16_at(self.mem, def, "verdef")?;
            let vd_flags = u16_at(self.mem, def + 2, "verdef")?;
            let vd_ndx = u16_at(self.mem, def + 4, "verdef")?;
            let vd_hash = u32_at(self.mem, def + 8, "verdef")?;
            let vd_aux = u32_at(self.mem, def + 12, "verdef")? as usize;
            let vd_next = u32_at(self.mem, def + 16, "verdef")? as usize;
            if vd_version != 1 {
                return Err(SymbolError::BadDynamic("verdef vd_version is not 1"));
            }
            if vd_flags & VER_FLG_BASE == 0 && vd_ndx & 0x7fff == ndx {
                let aux = def.checked_add(vd_aux).ok_or(SymbolError::OutOfBounds("verdaux"))?;
                let name = self.cstr(u32_at(self.mem, aux, "verdaux")?, "version name")?;
                if elf_hash(name) != vd_hash {
                    return Err(SymbolError::BadDynamic("verdef vd_hash does not match its name"));
                }
                return Ok((Some(name), hidden));
            }
            if vd_next == 0 {
                break;
            }
            def = def.checked_add(vd_next).ok_or(SymbolError::OutOfBounds("verdef"))?;
        }
        Err(SymbolError::BadDynamic("version index without a definition"))
    }

    /// `.dynsym` entry `index`, with its version.
    pub fn symbol(&self, index: usize) -> Result<Symbol<'a>, SymbolError> {
        if index >= self.nsyms {
            return Err(SymbolError::OutOfBounds("symbol index"));
        }
        let s = idx(self.symtab, index, self.syment, "DT_SYMTAB")?;
        let st_name = u32_at(self.mem, s, "symbol")?;
        let st_info = rd::<1>(self.mem, s + 4, "symbol")?[0];
        let st_other = rd::<1>(self.mem, s + 5, "symbol")?[0];
        let st_shndx = u16_at(self.mem, s + 6, "symbol")?;
        let value = u64_at(self.mem, s + 8, "symbol")?;
        let size = u64_at(self.mem, s + 16, "symbol")?;
        let (version, hidden) = match self.version_of(index) {
            Ok(v) => v,
            Err(SymbolError::NoVersionInfo) => (None, false),
            Err(e) => return Err(e),
        };
        let defined = st_shndx != SHN_UNDEF;
        Ok(Symbol {
            index,
            name: self.cstr(st_name, "symbol name")?,
            version,
            hidden,
            value,
            size,
            // An undefined entry gets a kind no lookup accepts.
            kind: if defined { st_info & 0xf } else { u8::MAX },
            bind: st_info >> 4,
            other: st_other,
            shndx: st_shndx,
            offset: if defined { value.wrapping_sub(self.base_vaddr) as usize } else { 0 },
        })
    }

    /// All `.dynsym` entries in order (entry 0 is the null symbol).
    pub fn symbols(&self) -> impl Iterator<Item = Result<Symbol<'a>, SymbolError>> + '_ {
        (0..self.nsyms).map(|i| self.symbol(i))
    }

    /// Checks entry `index` against `name`/`version`: `Some(Ok)` on a match, `Some(Err)` if only
    /// the name matched, `None` if not even that.
    fn check(&self, index: usize, name: &[u8], version: &[u8]) -> Result<Option<bool>, SymbolError> {
        let sym = self.symbol(index)?;
        // What a libc accepts (musl's OK_TYPES/OK_BINDS): a defined NOTYPE/OBJECT/FUNC symbol
        // that is GLOBAL or WEAK. Undefined entries were marked with kind u8::MAX above.
        if !matches!(sym.kind, STT_NOTYPE | STT_OBJECT | STT_FUNC)
            || !matches!(sym.bind, STB_GLOBAL | STB_WEAK)
            || sym.name != name
        {
            return Ok(None);
        }
        if self.versym.is_none() || self.verdef.is_none() {
            return Err(SymbolError::NoVersionInfo);
        }
        Ok(Some(sym.version == Some(version)))
    }

    /// Finds `name` at `version` through the table a libc would use: `DT_HASH` if present
    /// (musl), else `DT_GNU_HASH` (glibc's choice when both exist gives the same answer; see
    /// [`lookup_with`](Self::lookup_with) to pick).
    pub fn lookup(&self, name: &str, version: &str) -> Result<Symbol<'a>, SymbolError> {
        let style = if self.sysv.is_some() { HashStyle::Sysv } else { HashStyle::Gnu };
        self.lookup_with(style, name, version)
    }

    /// Finds `name` at `version` through a chosen table.
    pub fn lookup_with(
        &self,
        style: HashStyle,
        name: &str,
        version: &str,
    ) -> Result<Symbol<'a>, SymbolError> {
        let (name, version) = (name.as_bytes(), version.as_bytes());
        let mut name_seen = false;
        let mut consider = |i: usize| -> Result<Option<Symbol<'a>>, SymbolError> {
            match self.check(i, name, version)? {
                Some(true) => Ok(Some(self.symbol(i)?)),
                Some(false) => {
                    name_seen = true;
                    Ok(None)
                }
                None => Ok(None),
            }
        };
        match style {
            HashStyle::Sysv => {
                let t = self.sysv.ok_or(SymbolError::NoHashTable)?;
                if t.nbucket == 0 {
                    return Err(SymbolError::SymbolNotFound);
                }
                let h = elf_hash(name) as usize;
                let mut i = u32_at(self.mem, idx(t.buckets, h % t.nbucket, 4, "bucket")?, "bucket")? as usize;
                let mut steps = 0;
                while i != 0 {
                    if i >= t.nchain || steps > t.nchain {
                        return Err(SymbolError::BadDynamic("DT_HASH chain out of range or cyclic"));
                    }
                    if let Some(sym) = consider(i)? {
                        return Ok(sym);
                    }
                    i = u32_at(self.mem, idx(t.chains, i, 4, "chain")?, "chain")? as usize;
                    steps += 1;
                }
            }
            HashStyle::Gnu => {
                let t = self.gnu.ok_or(SymbolError::NoHashTable)?;
                let h = gnu_hash(name);
                if bloom_admits(self.mem, &t, h) {
                    let mut i =
                        u32_at(self.mem, idx(t.buckets, h as usize % t.nbuckets, 4, "bucket")?, "bucket")?
                            as usize;
                    if i >= t.symoffset && i != 0 {
                        for _ in 0..MAX_WALK {
                            let h2 = u32_at(self.mem, idx(t.chains, i - t.symoffset, 4, "chain")?, "chain")?;
                            if h | 1 == h2 | 1 {
                                if let Some(sym) = consider(i)? {
                                    return Ok(sym);
                                }
                            }
                            if h2 & 1 != 0 {
                                break;
                            }
                            i += 1;
                        }
                    }
                }
            }
            HashStyle::Linear => {
                for i in 1..self.nsyms {
                    if let Some(sym) = consider(i)? {
                        return Ok(sym);
                    }
                }
            }
        }
        Err(if name_seen { SymbolError::VersionNotFound } else { SymbolError::SymbolNotFound })
    }

    /// The run-time address of `sym` in the mapping `self` was parsed from.
    pub fn address(&self, sym: &Symbol<'_>) -> usize {
        self.mem.as_ptr() as usize + sym.offset
    }

    /// Whether `sym` is a function inside an executable `PT_LOAD`.
    pub fn is_code(&self, sym: &Symbol<'_>) -> bool {
        sym.kind == STT_FUNC
            && self.exec[..self.nexec].iter().any(|&(lo, hi)| sym.value >= lo && sym.value < hi)
            && sym.offset < self.mem.len()
    }

    /// Finds the function `name` at `version` and returns it as a function pointer of type `F`.
    ///
    /// # Safety
    ///
    /// `F` must be a function-pointer type (e.g. `unsafe extern "C" fn(i32, *mut Ts) -> i32`)
    /// whose signature and ABI match the symbol's, and the mapping `self` was parsed from must
    /// stay mapped (and its data pages valid) for as long as the pointer is used.
    pub unsafe fn resolve<F: Copy>(&self, name: &str, version: &str) -> Result<F, SymbolError> {
        const { assert!(core::mem::size_of::<F>() == core::mem::size_of::<usize>()) };
        let sym = self.lookup(name, version)?;
        if !self.is_code(&sym) {
            return Err(SymbolError::NotAFunction);
        }
        let addr = self.address(&sym);
        // SAFETY: `F` is pointer-sized (checked at compile time) and, by the caller's contract,
        // a function pointer type matching this symbol; `addr` is the symbol's address inside an
        // executable segment of the live mapping, non-null.
        Ok(unsafe { core::mem::transmute_copy::<usize, F>(&addr) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_hashes_match_the_known_values() {
        assert_eq!(elf_hash(b"LINUX_2.6"), 0x03ae_75f6);
        assert_eq!(elf_hash(b"LINUX_4.15"), 0x0ae7_7f75);
        assert_eq!(gnu_hash(b""), 5381);
    }
}
