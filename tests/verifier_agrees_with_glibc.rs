//! The verifier's "valid" is a promise about real loaders: thousands of random mutations of the
//! native image (in the ELF and program headers, the dynamic segment, both hash tables, `.dynsym`,
//! `.dynstr` and the version tables) are judged by the verifier, and every mutant it accepts is opened by the real
//! glibc (`dlopen` + `dlvsym`), which must resolve every exported symbol at the architecture's
//! version to the offset the verifier read, and refuse a version the image does not define.
//! x86_64 runs natively; riscv64 runs as a riscv64 binary under qemu-riscv64, so its `dlopen` is
//! riscv64 glibc's.
//!
//! glibc may crash on a broken image (an assertion, SIGSEGV), so the `dlopen`s run in a child
//! process: this test binary again, running only [`glibc_child`], which reads the list of image
//! files, says which one it starts before opening it and what glibc answered after. A child that
//! dies mid-image is that image's verdict (a failure, since the verifier accepted it), and a new
//! child goes on with the rest.
//!
//! Only where the tests link glibc (`target_env = "gnu"`): the loongarch64 test binaries are
//! static musl programs (Debian 12 has no loongarch64 glibc runtime), and no loader here opens a
//! loongarch64 image, so its mutants have no real loader to be judged by (the verifier's rules
//! are the same code for every architecture and are held to glibc through the other three).
#![cfg(target_env = "gnu")]

mod common;

use std::ffi::{CStr, CString};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use linux_vdso::elf::ElfImage;
use linux_vdso::verify::{verify, Stage};
use linux_vdso::{Arch, Image};
use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};

/// Set (to the list file) only in the child process.
const CHILD_ENV: &str = "VDSO_GLIBC_CHILD_LIST";

/// Mutants that reach the verifier's judgement (mutants the ELF reader already refuses come on
/// top): under qemu each `dlopen` is slower, but the verifier's verdicts are cheap, so the count
/// stays above 1,000 on both. `VDSO_MUTATIONS` overrides it for longer hunts.
fn mutations() -> usize {
    let default = common::slow_under_emulation(3_000, 1_000);
    std::env::var("VDSO_MUTATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Fewest accepted mutants for the run to mean something (the generator is seeded, so the count
/// is the same every run; see the assertion).
const MIN_ACCEPTED: usize = 20;

fn native() -> Image {
    Image::native().expect("tests run on x86_64 or riscv64")
}

/// One image for glibc: the file and the offset the verifier read for each export.
struct Case {
    label: String,
    path: PathBuf,
    expected: Vec<(&'static str, u64)>,
}

/// Byte ranges (file offsets) the mutations hit.
fn regions(b: &[u8]) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let parsed = ElfImage::parse(b).expect("the committed image parses");
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().unwrap()) as usize;
    let mut r = vec![("ELF header", 0..64), ("program headers", phoff..phoff + 56 * parsed.segments.len())];
    let dynamic = parsed.segments.iter().find(|s| s.kind == 2).expect("PT_DYNAMIC");
    r.push(("dynamic segment", dynamic.offset as usize..(dynamic.offset + dynamic.filesz) as usize));
    for (kind, name) in [
        (5, ".hash"),
        (0x6fff_fff6, ".gnu.hash"),
        (11, ".dynsym"),
        (3, ".dynstr"),
        (0x6fff_ffff, ".gnu.version"),
        (0x6fff_fffd, ".gnu.version_d"),
    ] {
        let Some(s) = parsed.sections.iter().find(|s| s.kind == kind) else {
            // An image whose row says DT_HASH only (aarch64's, as Linux's arm64) has no .gnu.hash.
            let arch = Arch::from_e_machine(parsed.machine).expect("one of our architectures");
            assert!(kind == 0x6fff_fff6 && !arch.hash_style().has_gnu(), "no {name}");
            continue;
        };
        r.push((name, s.offset as usize..(s.offset + s.size) as usize));
    }
    r
}

/// One to three random changes in the regions; returns a description of them.
fn mutate(rng: &mut TestRng, b: &mut [u8], regions: &[(&'static str, std::ops::Range<usize>)]) -> String {
    let mut below = |n: usize| (rng.next_u64() % n as u64) as usize;
    let mut what = String::new();
    let count = [1, 1, 1, 2, 2, 3][below(6)];
    for _ in 0..count {
        let (name, range) = &regions[below(regions.len())];
        let at = range.start + below(range.len());
        match below(4) {
            0 => {
                let x = 1 + below(255) as u8;
                b[at] ^= x;
                let _ = write!(what, "{name}[{at:#x}] ^= {x:#x}; ");
            }
            1 => {
                let bit = 1u8 << below(8);
                b[at] ^= bit;
                let _ = write!(what, "{name}[{at:#x}] ^= bit {bit:#x}; ");
            }
            2 => {
                // A 32-bit word (aligned) set to a value that often means something.
                let at = (at & !3).max(range.start);
                let old = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
                let v = match below(6) {
                    0 => 0,
                    1 => 1 + below(16) as u32,
                    2 => old.wrapping_add(1 + below(8) as u32),
                    3 => old.wrapping_sub(1 + below(8) as u32),
                    4 => 1u32 << below(32),
                    _ => u32::MAX,
                };
                b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                let _ = write!(what, "{name}[{at:#x}] = u32 {v:#x}; ");
            }
            _ => {
                // A 64-bit word (aligned), e.g. a dynamic value, a phdr field or st_value.
                let at = (at & !7).max(range.start);
                if at + 8 > b.len() {
                    continue;
                }
                let old = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
                let v = match below(5) {
                    0 => 0,
                    1 => old.wrapping_add(1 + below(64) as u64),
                    2 => old.wrapping_sub(1 + below(64) as u64),
                    3 => below(0x1000) as u64,
                    _ => 1u64 << below(64),
                };
                b[at..at + 8].copy_from_slice(&v.to_le_bytes());
                let _ = write!(what, "{name}[{at:#x}] = u64 {v:#x}; ");
            }
        }
    }
    what
}

#[test]
fn whenever_the_verifier_accepts_a_mutant_glibc_resolves_every_symbol() {
    let image = native();
    let arch = image.arch();
    let original = image.bytes();
    let regions = regions(original);
    let dir = common::scratch_dir("glibc-mutants");
    let seed = std::env::var("VDSO_MUTATION_SEED").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(10);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);

    let mut cases = Vec::new();
    let (mut rejected, mut parse_errors) = (0, 0);
    // Case 0 is the image itself: the machinery must accept what glibc accepts.
    let target = mutations();
    let mut n = 0;
    while rejected + cases.len() < target + 1 {
        n += 1;
        let mut b = original.to_vec();
        let what = if n == 1 { "unmutated".to_string() } else { mutate(&mut rng, &mut b, &regions) };
        let Ok(parsed) = ElfImage::parse(&b) else {
            parse_errors += 1;
            continue;
        };
        if !verify(&parsed, linux_vdso::Variant::default_for(arch), Stage::Stripped).is_empty() {
            rejected += 1;
            continue;
        }
        let expected = arch
            .exports()
            .iter()
            .map(|e| (e.name, parsed.symbols.iter().find(|s| s.name == e.name).expect("verified").value))
            .collect();
        let path = dir.join(format!("mutant-{n}.so"));
        fs::write(&path, &b).expect("write mutant");
        cases.push(Case { label: format!("mutant {n}: {what}"), path, expected });
    }
    let accepted = cases.len() - 1;
    eprintln!(
        "seed {seed}: {} mutants, {parse_errors} refused by the ELF reader, {rejected} rejected by the \
         verifier, {accepted} accepted and opened with glibc",
        n - 1
    );
    assert!(
        accepted >= MIN_ACCEPTED,
        "only {accepted} of {target} judged mutants accepted: the test shows too little"
    );

    let verdicts = run_children(&dir, &cases);
    let node = arch.version_node();
    let mut failures = Vec::new();
    for (case, verdict) in cases.iter().zip(&verdicts) {
        let problem = match verdict {
            Verdict::Crashed(status) => Some(format!("glibc died ({status})")),
            Verdict::Refused(e) => Some(format!("dlopen failed: {e}")),
            Verdict::Resolved(found) => {
                let mut wrong = Vec::new();
                for &(name, want) in &case.expected {
                    match found.iter().find(|(n, _)| n == name) {
                        Some((_, Some(got))) if *got == want => {}
                        Some((_, got)) => {
                            wrong.push(format!("{name}@{node} at {got:x?}, verifier read {want:#x}"))
                        }
                        None => wrong.push(format!("{name} not reported")),
                    }
                }
                if found.iter().any(|(n, _)| n == "!wrong-version") {
                    wrong.push("a symbol resolved at version LINUX_0.0".into());
                }
                (!wrong.is_empty()).then(|| wrong.join(", "))
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{} ({}): {p}", case.label, case.path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "the verifier accepted images glibc does not resolve:\n{}",
        failures.join("\n")
    );
    let _ = fs::remove_dir_all(&dir);
}

/// What glibc did with one image.
enum Verdict {
    /// `(name, offset)` per export; `None` where `dlvsym` gave NULL. A name "!wrong-version"
    /// means a symbol resolved at a version the image does not define.
    Resolved(Vec<(String, Option<u64>)>),
    /// `dlopen` returned NULL.
    Refused(String),
    /// The child died while opening it.
    Crashed(String),
}

/// Runs children over `cases` until each has a verdict.
fn run_children(dir: &Path, cases: &[Case]) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = Vec::new();
    while verdicts.len() < cases.len() {
        let start = verdicts.len();
        let list = dir.join(format!("list-{start}.txt"));
        let text: String = cases[start..].iter().map(|c| format!("{}\n", c.path.display())).collect();
        fs::write(&list, text).expect("write list");
        let exe = std::env::current_exe().expect("current_exe");
        let out = common::bin_command(exe.to_str().expect("utf-8 path"))
            .args(["glibc_child", "--exact", "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, &list)
            .output()
            .expect("start the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut started = None;
        for line in stdout.lines() {
            // The harness prints "test glibc_child ... " without a newline before the first.
            let Some((_, line)) = line.split_once("@@") else { continue };
            let f: Vec<&str> = line.splitn(3, ' ').collect();
            match f.as_slice() {
                ["START", i] => started = Some(i.parse::<usize>().expect("index")),
                ["REFUSED", _, e] => {
                    verdicts.push(Verdict::Refused(e.to_string()));
                    started = None;
                }
                ["RESOLVED", _, rest] => {
                    let found = rest
                        .split_whitespace()
                        .map(|kv| {
                            let (k, v) = kv.split_once('=').expect("name=offset");
                            (k.to_string(), u64::from_str_radix(v, 16).ok())
                        })
                        .collect();
                    verdicts.push(Verdict::Resolved(found));
                    started = None;
                }
                _ => {}
            }
        }
        if verdicts.len() < cases.len() || !out.status.success() {
            let status = out.status.to_string();
            match started {
                // It died opening or resolving the image it had announced.
                Some(k) if k == verdicts.len() - start && !out.status.success() => {
                    verdicts.push(Verdict::Crashed(status))
                }
                // It died closing the image it had just reported on.
                None if verdicts.len() > start && !out.status.success() => {
                    *verdicts.last_mut().expect("a verdict") =
                        Verdict::Crashed(format!("{status} in dlclose"))
                }
                _ => panic!(
                    "the child stopped without a verdict for {} ({status}):\n{stdout}\n{}",
                    cases[verdicts.len().min(cases.len() - 1)].label,
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
    }
    verdicts
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a valid C string owned by libc.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "(no dlerror)".into()
    } else {
        // SAFETY: non-NULL, NUL-terminated, per dlerror.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().replace('\n', " ")
    }
}

/// The child: opens each listed image with glibc and prints what it resolves. Does nothing when
/// run as an ordinary test.
#[test]
fn glibc_child() {
    let Some(list) = std::env::var_os(CHILD_ENV) else { return };
    let image = native();
    let version = CString::new(image.arch().version_node()).unwrap();
    let wrong = CString::new("LINUX_0.0").unwrap();
    let text = fs::read_to_string(list).expect("read list");
    for (i, path) in text.lines().enumerate() {
        println!("@@START {i}");
        let cpath = CString::new(path).expect("no NUL");
        // SAFETY: dlopen of an image file; a broken one may crash this child, which is what the
        // parent watches for. The image has no constructors (the verifier refuses DT_INIT).
        let handle = unsafe { libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            println!("@@REFUSED {i} {}", dlerror());
            continue;
        }
        let mut map: *mut libc::c_void = std::ptr::null_mut();
        // SAFETY: valid handle; RTLD_DI_LINKMAP stores a `struct link_map *` into `map`.
        let rc = unsafe { libc::dlinfo(handle, libc::RTLD_DI_LINKMAP, (&raw mut map).cast()) };
        assert_eq!(rc, 0, "dlinfo: {}", dlerror());
        // SAFETY: `l_addr` (the load bias) is the first member of glibc's `struct link_map`.
        let base = unsafe { *map.cast::<usize>() };
        let mut line = String::new();
        for sym in image.symbols() {
            let name = CString::new(sym.name).unwrap();
            // SAFETY: valid handle and C strings.
            let addr = unsafe { libc::dlvsym(handle, name.as_ptr(), version.as_ptr()) };
            if addr.is_null() {
                let _ = write!(line, " {}=none", sym.name);
            } else {
                let _ = write!(line, " {}={:x}", sym.name, (addr as usize).wrapping_sub(base));
            }
            // SAFETY: as above.
            if !unsafe { libc::dlvsym(handle, name.as_ptr(), wrong.as_ptr()) }.is_null() {
                line.push_str(" !wrong-version=1");
            }
        }
        println!("@@RESOLVED {i}{line}");
        // SAFETY: the handle came from dlopen; nothing from it is used afterwards.
        unsafe { libc::dlclose(handle) };
    }
}
