//! Versioned-symbol lookup, as a libc does it, on a hand-made image and (x86_64) the host's vDSO.

mod common;

use common::{synthetic_image, ElfOptions, OLD_VERSION, VERSION};
use proptest::prelude::*;
use vdso_kernel_stub::symbols::{DynImage, HashStyle, SymbolError, STB_WEAK};
use vdso_kernel_stub::{ArchLayout, Error, MappedVdso};

#[test]
fn every_hash_style_finds_the_same_symbols() {
    let img = synthetic_image(ElfOptions::default());
    let d = DynImage::parse(&img).unwrap();
    assert_eq!(d.hash_tables(), (true, true));
    assert_eq!(d.symbol_count(), 6);
    for name in ["__vdso_answer", "answer", "__vdso_seven"] {
        let found: Vec<_> = [HashStyle::Sysv, HashStyle::Gnu, HashStyle::Linear]
            .iter()
            .map(|&s| d.lookup_with(s, name, VERSION).unwrap())
            .collect();
        assert!(found.windows(2).all(|w| w[0] == w[1]), "{name}: {found:?}");
        assert_eq!(found[0].name, name.as_bytes());
        assert_eq!(found[0].version, Some(VERSION.as_bytes()));
        assert!(d.is_code(&found[0]));
    }
    assert_eq!(d.lookup("answer", VERSION).unwrap().bind, STB_WEAK);
    assert_eq!(d.lookup("__vdso_answer", VERSION).unwrap().offset, 0x100);
    assert_eq!(d.lookup("__vdso_old", OLD_VERSION).unwrap().offset, 0x120);
}

#[test]
fn missing_names_and_versions_are_told_apart() {
    let img = synthetic_image(ElfOptions::default());
    let d = DynImage::parse(&img).unwrap();
    for style in [HashStyle::Sysv, HashStyle::Gnu, HashStyle::Linear] {
        assert_eq!(d.lookup_with(style, "__vdso_nothing", VERSION), Err(SymbolError::SymbolNotFound));
        assert_eq!(d.lookup_with(style, "__vdso_old", VERSION), Err(SymbolError::VersionNotFound));
        assert_eq!(d.lookup_with(style, "__vdso_answer", OLD_VERSION), Err(SymbolError::VersionNotFound));
        assert_eq!(d.lookup_with(style, "__vdso_answer", "LINUX_2.6"), Err(SymbolError::VersionNotFound));
        // An undefined entry is never a definition.
        assert_eq!(d.lookup_with(style, "__vdso_undef", VERSION), Err(SymbolError::SymbolNotFound));
        // The base version (the soname) defines nothing.
        assert_eq!(
            d.lookup_with(style, "__vdso_answer", "linux-vdso.so.1"),
            Err(SymbolError::VersionNotFound)
        );
    }
}

#[test]
fn images_without_tables_fail_cleanly() {
    let sysv_only = synthetic_image(ElfOptions { no_gnu_hash: true, ..Default::default() });
    let d = DynImage::parse(&sysv_only).unwrap();
    assert_eq!(d.lookup("__vdso_answer", VERSION).unwrap().offset, 0x100);
    assert_eq!(d.lookup_with(HashStyle::Gnu, "__vdso_answer", VERSION), Err(SymbolError::NoHashTable));

    let gnu_only = synthetic_image(ElfOptions { no_sysv_hash: true, ..Default::default() });
    let d = DynImage::parse(&gnu_only).unwrap();
    assert_eq!(d.symbol_count(), 6, "count from the GNU chains");
    assert_eq!(d.lookup("__vdso_seven", VERSION).unwrap().offset, 0x110, "falls back to DT_GNU_HASH");

    let none = synthetic_image(ElfOptions { no_sysv_hash: true, no_gnu_hash: true, ..Default::default() });
    assert_eq!(DynImage::parse(&none).err(), Some(SymbolError::NoHashTable));

    let unversioned = synthetic_image(ElfOptions { no_versions: true, ..Default::default() });
    let d = DynImage::parse(&unversioned).unwrap();
    assert_eq!(d.lookup("__vdso_answer", VERSION), Err(SymbolError::NoVersionInfo));

    assert_eq!(DynImage::parse(b"not an elf").err(), Some(SymbolError::NotElf));
    assert_eq!(DynImage::parse(&[]).err(), Some(SymbolError::NotElf));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::slow_under_emulation(1024, 128)))]

    /// Corrupted or truncated images give errors, never a panic or an out-of-bounds read.
    #[test]
    fn corrupt_images_never_panic(flips in prop::collection::vec((0usize..0x700, any::<u8>()), 0..8),
                                  cut in 0usize..=0x700) {
        let mut img = synthetic_image(ElfOptions::default());
        for (at, v) in flips {
            img[at] = v;
        }
        img.truncate(cut);
        if let Ok(d) = DynImage::parse(&img) {
            for name in ["__vdso_answer", "answer", "__vdso_seven", "__vdso_old", "x"] {
                for style in [HashStyle::Sysv, HashStyle::Gnu, HashStyle::Linear] {
                    let _ = d.lookup_with(style, name, VERSION);
                }
            }
            for s in d.symbols() {
                let _ = s;
            }
            // The verifier's accessors answer too, whatever the tables say.
            let _ = d.version_defs().count();
            let _ = d.bloom_admits(b"__vdso_answer");
            if let Some(t) = d.sysv_table() {
                for i in 0..t.nbucket.max(t.nchain).min(64) {
                    let _ = (d.sysv_bucket(i), d.sysv_chain(i));
                }
            }
            if let Some(g) = d.gnu_table() {
                for i in 0..g.nbuckets.max(g.count).min(64) {
                    let _ = (d.gnu_bucket(i), d.gnu_chain(i));
                }
            }
        }
    }
}

#[test]
fn resolved_functions_of_a_mapped_image_run() {
    let img = synthetic_image(ElfOptions::default());
    let mapped = MappedVdso::map(&img, ArchLayout::native()).unwrap();
    // SAFETY: the synthetic functions take nothing and return a u32 in the C ABI; `mapped`
    // outlives the calls.
    unsafe {
        let answer = mapped.resolve::<extern "C" fn() -> u32>("__vdso_answer", VERSION).unwrap();
        let alias = mapped.resolve::<extern "C" fn() -> u32>("answer", VERSION).unwrap();
        let seven = mapped.resolve::<extern "C" fn() -> u32>("__vdso_seven", VERSION).unwrap();
        assert_eq!(answer(), 42);
        assert_eq!(alias(), 42);
        assert_eq!(seven(), 7);
        assert_eq!(answer as usize, mapped.sysinfo_ehdr() + 0x100);
        match mapped.resolve::<extern "C" fn() -> u32>("__vdso_answer", "LINUX_2.6") {
            Err(Error::Symbol { cause: SymbolError::VersionNotFound, .. }) => {}
            other => panic!("{:?}", other.map(|f| f as usize)),
        }
    }
    assert_eq!(mapped.symbol_address("__vdso_seven", VERSION).unwrap(), mapped.sysinfo_ehdr() + 0x110);
    let msg = mapped.symbol_address("__vdso_nothing", VERSION).unwrap_err().to_string();
    assert!(msg.contains("__vdso_nothing@LINUX_TEST") && msg.contains("no such symbol"), "{msg}");
}

/// The host kernel's own vDSO (x86_64; qemu-user gives riscv64 and aarch64 guests none) is found
/// and called through the same lookup, against the kernel's `clock_gettime`.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "qemu-user 7.2 gives guests no vDSO")]
fn the_host_vdso_resolves_and_runs() {
    let auxv = std::fs::read("/proc/self/auxv").unwrap();
    let ehdr = auxv
        .chunks_exact(16)
        .map(|c| {
            (u64::from_le_bytes(c[..8].try_into().unwrap()), u64::from_le_bytes(c[8..].try_into().unwrap()))
        })
        .find(|&(k, _)| k == 33)
        .map(|(_, v)| v as usize)
        .unwrap_or(0);
    assert_ne!(ehdr, 0, "Linux on x86_64 always maps a vDSO: AT_SYSINFO_EHDR missing from the auxv");
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let line = maps.lines().find(|l| l.ends_with("[vdso]")).expect("[vdso] in maps");
    let (lo, hi) = line.split_whitespace().next().unwrap().split_once('-').unwrap();
    let (lo, hi) = (usize::from_str_radix(lo, 16).unwrap(), usize::from_str_radix(hi, 16).unwrap());
    assert_eq!(lo, ehdr);
    // SAFETY: the kernel's vDSO is mapped readable for the life of the process.
    let mem = unsafe { std::slice::from_raw_parts(ehdr as *const u8, hi - lo) };
    let d = DynImage::parse(mem).unwrap();
    type ClockGettime = unsafe extern "C" fn(i32, *mut [i64; 2]) -> i32;
    // SAFETY: Linux's x86_64 `__vdso_clock_gettime` has this signature; the vDSO never goes away.
    let f = unsafe { d.resolve::<ClockGettime>("__vdso_clock_gettime", "LINUX_2.6") }.unwrap();
    let before = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let mut ts = [0i64; 2];
    // SAFETY: valid clock id and a valid out pointer.
    assert_eq!(unsafe { f(1, &mut ts) }, 0);
    let after = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
    assert!(ns(before.tv_sec, before.tv_nsec) <= ns(ts[0], ts[1]));
    assert!(ns(ts[0], ts[1]) <= ns(after.tv_sec, after.tv_nsec));
    for name in ["__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu", "clock_gettime"] {
        let s = d.lookup(name, "LINUX_2.6").unwrap();
        assert_eq!(d.lookup_with(HashStyle::Linear, name, "LINUX_2.6").unwrap(), s);
    }
}

/// Where `synthetic_image` puts its GNU hash table.
const GNU_HASH_AT: usize = 0x500;

#[test]
fn the_tables_are_exposed_for_a_verifier() {
    use vdso_kernel_stub::symbols::{elf_hash, gnu_hash};
    let img = synthetic_image(ElfOptions::default());
    let d = DynImage::parse(&img).unwrap();
    let sysv = d.sysv_table().unwrap();
    assert_eq!(sysv.nchain, 6);
    let gnu = d.gnu_table().unwrap();
    assert_eq!((gnu.symoffset, gnu.bloom_size, gnu.bloom_shift, gnu.count), (2, 1, 6, 6));
    for i in 1..sysv.nchain {
        let name = d.symbol(i).unwrap().name;
        // On the DT_HASH chain of its bucket.
        let mut j = d.sysv_bucket(elf_hash(name) as usize % sysv.nbucket).unwrap();
        while j != i && j != 0 {
            j = d.sysv_chain(j).unwrap();
        }
        assert_eq!(j, i, "{:?} on its DT_HASH chain", core::str::from_utf8(name));
        if i >= gnu.symoffset {
            assert_eq!(d.gnu_chain(i).unwrap() | 1, gnu_hash(name) | 1);
            assert_eq!(d.bloom_admits(name), Ok(true));
        }
    }
    assert!(d.sysv_bucket(sysv.nbucket).is_err() && d.sysv_chain(sysv.nchain).is_err());
    assert!(d.gnu_bucket(gnu.nbuckets).is_err() && d.gnu_chain(gnu.symoffset - 1).is_err());
    let defs: Vec<_> = d.version_defs().collect::<Result<_, _>>().unwrap();
    assert_eq!(defs.last().unwrap().next, 0, "the walk ends at vd_next 0");
    for v in [VERSION, OLD_VERSION] {
        let def = defs.iter().find(|d| d.name == v.as_bytes()).unwrap_or_else(|| panic!("{v}"));
        assert_eq!((def.version, def.hash), (1, elf_hash(v.as_bytes())));
    }
    let sym = d.lookup("__vdso_answer", VERSION).unwrap();
    assert_eq!((sym.other, sym.shndx != 0), (0, true));
}

#[test]
fn gnu_tables_glibc_asserts_on_or_reads_past_are_refused() {
    let good = synthetic_image(ElfOptions::default());
    let with = |at: usize, v: u32| {
        let mut img = good.clone();
        img[at..at + 4].copy_from_slice(&v.to_le_bytes());
        DynImage::parse(&img).err()
    };
    let bloom_size = GNU_HASH_AT + 8;
    assert!(
        matches!(with(bloom_size, 3), Some(SymbolError::BadDynamic(m)) if m.contains("power of two")),
        "{:?}",
        with(bloom_size, 3)
    );
    assert!(matches!(with(bloom_size, 1 << 20), Some(SymbolError::OutOfBounds(_))));
    assert!(matches!(with(GNU_HASH_AT, 0), Some(SymbolError::BadDynamic(m)) if m.contains("empty")));
    assert!(matches!(with(GNU_HASH_AT + 12, 32), Some(SymbolError::BadDynamic(_))));

    // A zeroed Bloom filter parses, and glibc's way finds nothing while DT_HASH still does.
    let mut img = good.clone();
    img[GNU_HASH_AT + 16..GNU_HASH_AT + 24].fill(0);
    let d = DynImage::parse(&img).unwrap();
    assert_eq!(d.bloom_admits(b"__vdso_answer"), Ok(false));
    assert_eq!(d.lookup_with(HashStyle::Gnu, "__vdso_answer", VERSION), Err(SymbolError::SymbolNotFound));
    assert!(d.lookup_with(HashStyle::Sysv, "__vdso_answer", VERSION).is_ok());
}
