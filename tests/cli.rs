//! The `vdso` command as a user meets it: `build` writes exactly the embedded bytes and a header,
//! `inspect` summarises any image and the host's own, `verify` judges a file, and every bad input
//! gets one clear line and a non-zero exit status, never a panic.

mod common;

use std::ffi::CString;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use linux_vdso::{Arch, Image};

/// Every `vdso` run here must end by itself; this long only because qemu-riscv64 is slow.
const LIMIT: Duration = Duration::from_secs(60);

fn vdso(args: &[&str]) -> Output {
    common::output_within(common::bin_command(env!("CARGO_BIN_EXE_vdso")).args(args), LIMIT)
}

fn mkfifo(path: &Path) {
    let _ = fs::remove_file(path);
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// Opens `path` non-blocking: read-only as `vdso` does, or (`write`) read-write, which on Linux
/// opens a FIFO at once and holds it open as a writer that never writes.
fn open_nonblocking(path: &Path, write: bool) -> OwnedFd {
    let mut o = fs::OpenOptions::new();
    o.read(true).write(write).custom_flags(libc::O_NONBLOCK);
    o.open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display())).into()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn build_writes_the_embedded_images_with_headers_and_summarises_them() {
    let dir = common::scratch_dir("cli-build");
    let o = vdso(&["build", "--out", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for arch in Arch::ALL {
        let image = Image::get(arch);
        let file = fs::read(dir.join(arch.name()).join("linux-vdso.so.1")).expect("image written");
        assert_eq!(file, image.bytes(), "{arch:?}: file bytes equal the embedded bytes");
        let header = fs::read_to_string(dir.join(arch.name()).join("vdso.h")).expect("header written");
        assert_eq!(header, image.c_header());
        for sym in image.symbols() {
            assert!(out.contains(&format!("{:#x}", sym.offset)), "summary shows {}'s offset", sym.name);
            assert!(out.contains(&format!("{}@@{}", sym.name, sym.version)), "summary shows {}", sym.name);
        }
        let pages =
            if image.pages() == 1 { "1 page".to_string() } else { format!("{} pages", image.pages()) };
        assert!(out.contains(&format!("{} bytes mapped ({pages})", image.load_size())), "{out}");
    }
}

#[test]
fn inspect_summarises_an_image_file() {
    let dir = common::scratch_dir("cli-inspect");
    let path = dir.join("img.so");
    fs::write(&path, Image::get(Arch::Riscv64).bytes()).unwrap();
    let o = vdso(&["inspect", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("riscv64 ELF shared object, soname linux-vdso.so.1"), "{out}");
    assert!(out.contains("classic profile, 2 data pages of 4096 bytes before the image"), "{out}");
    assert!(out.contains("__vdso_rt_sigreturn@@LINUX_4.15"), "{out}");
    assert!(out.contains("\"Linux\" note: 6.8.0"), "{out}");
}

#[test]
fn inspect_names_the_modern_profile_and_where_its_fields_are() {
    let dir = common::scratch_dir("cli-inspect-modern");
    let path = dir.join("img.so");
    let image =
        Image::find(Arch::X86_64, linux_vdso::Profile::Modern, 4096).expect("the modern x86_64 image");
    fs::write(&path, image.bytes()).unwrap();
    let o = vdso(&["inspect", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("modern profile, 6 data pages of 4096 bytes before the image"), "{out}");
    assert!(out.contains("\"Linux\" note: 6.18.0"), "{out}");
    assert!(out.contains("getcpu: byte 2368 of page 0"), "{out}");
}

#[test]
fn inspect_states_loongarch64_per_cpu_array_per_profile() {
    let dir = common::scratch_dir("cli-inspect-pcpu");
    let path = dir.join("img.so");
    // Modern: Linux 6.18 defconfig (NR_CPUS 2048): 8 arch pages from page 3, 11 data pages.
    let modern =
        Image::find(Arch::Loongarch64, linux_vdso::Profile::Modern, 16384).expect("loongarch64-modern");
    fs::write(&path, modern.bytes()).unwrap();
    let o = vdso(&["inspect", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("modern profile, 11 data pages of 16384 bytes before the image"), "{out}");
    assert!(
        out.contains("getcpu: per-CPU nodes from page 3 (8 pages), 64-byte slots for CPUs 0..2047"),
        "{out}"
    );
    // Classic: 63 CPUs on page 2.
    fs::write(&path, Image::get(Arch::Loongarch64).bytes()).unwrap();
    let out = stdout(&vdso(&["inspect", path.to_str().unwrap()]));
    assert!(out.contains("classic profile, 3 data pages of 16384 bytes before the image"), "{out}");
    assert!(
        out.contains("getcpu: per-CPU nodes from page 2 (1 page), 64-byte slots for CPUs 0..62"),
        "{out}"
    );
    // No per-CPU array elsewhere.
    fs::write(&path, Image::get(Arch::X86_64).bytes()).unwrap();
    assert!(!stdout(&vdso(&["inspect", path.to_str().unwrap()])).contains("per-CPU nodes"));
}

#[test]
fn inspect_host_reads_this_process_vdso_or_says_there_is_none() {
    let o = vdso(&["inspect", "--host"]);
    if common::EMULATED {
        // qemu-user 7.2 gives guests no vDSO: the command must say so and fail cleanly.
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("has no vDSO"), "{}", stderr(&o));
    } else {
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains("host kernel vDSO at 0x"), "{out}");
        assert!(out.contains("__vdso_clock_gettime@@LINUX_2.6"), "{out}");
    }
}

#[test]
fn verify_accepts_good_images_and_names_violations_of_broken_ones() {
    let dir = common::scratch_dir("cli-verify");
    for image in Image::all() {
        let v = image.variant();
        let path = dir.join(format!("{}.so", v.name()));
        fs::write(&path, image.bytes()).unwrap();
        // The row is found back from the image's own note (arch, profile, page size).
        let o = vdso(&["verify", path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        let want =
            format!("a valid {} vDSO image ({} profile, {}-byte pages;", v.name(), v.profile, v.page_size);
        assert!(stdout(&o).contains(&want), "{}", stdout(&o));
        // Judged against a page size no row has, the command refuses the request.
        let o = vdso(&["verify", "--page-size", "8192", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("8192-byte pages; this project builds"), "{}", stderr(&o));
    }
    let path = dir.join("x86_64.so");
    let o = vdso(&["verify", "--arch", "riscv64", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("e_machine is 62"), "{}", stderr(&o));
}

#[test]
fn bad_inputs_get_one_line_and_a_nonzero_exit() {
    let dir = common::scratch_dir("cli-bad");
    let text = dir.join("text");
    fs::write(&text, "hello\n").unwrap();
    let truncated = dir.join("truncated");
    fs::write(&truncated, &Image::get(Arch::X86_64).bytes()[..100]).unwrap();
    let mut class32 = Image::get(Arch::X86_64).bytes().to_vec();
    class32[4] = 1;
    let wrong_class = dir.join("class32");
    fs::write(&wrong_class, class32).unwrap();
    let missing = dir.join("missing");
    let huge = dir.join("huge");
    fs::write(&huge, vec![0u8; 2 << 20]).unwrap();
    // A FIFO with no writer: opening it for reading would block for ever.
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let devzero = std::path::PathBuf::from("/dev/zero");
    for (path, needle) in [
        (&text, "not an ELF file"),
        (&truncated, "truncated"),
        (&wrong_class, "32-bit"),
        (&missing, "cannot open"),
        (&huge, "too large for a vDSO image"),
        (&fifo, "not a regular file"),
        (&devzero, "not a regular file"),
        (&dir, "not a regular file"),
    ] {
        for cmd in ["inspect", "verify"] {
            let o = vdso(&[cmd, path.to_str().unwrap()]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{cmd} {}: {err}", path.display());
            assert_eq!(err.lines().count(), 1, "one line: {err}");
            assert!(err.starts_with("vdso: ") && err.contains(needle), "{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    // Usage errors: status 2 and one line naming the problem, like every other error.
    for (args, needle) in [
        (&["verify", "--arch", "sparc", text.to_str().unwrap()][..], "unknown architecture"),
        (&["verify", text.to_str().unwrap(), "--arch"][..], "a value is required for '--arch <ARCH>'"),
        (&["inspect"][..], "required arguments were not provided: <FILE>"),
        (&["inspect", "--bogus", "x"][..], "unexpected argument '--bogus'"),
        (&["frobnicate"][..], "unrecognized subcommand 'frobnicate'"),
    ] {
        let o = vdso(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: usage error; {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.starts_with("vdso: ") && err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn help_explains_every_command() {
    let o = vdso(&["--help"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for cmd in ["build", "inspect", "verify"] {
        assert!(out.contains(cmd), "{out}");
    }
}

#[test]
fn a_fifo_is_refused_at_once_with_or_without_a_writer() {
    let dir = common::scratch_dir("cli-fifo");
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let check = |what: &str| {
        for cmd in ["inspect", "verify"] {
            let o = vdso(&[cmd, fifo.to_str().unwrap()]);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{cmd}, {what}: {err}");
            assert!(err.contains("not a regular file (a FIFO)"), "{cmd}, {what}: {err}");
        }
    };
    check("no writer");
    // A writer that holds the FIFO open and never writes: a blocking read would wait for ever.
    let writer = open_nonblocking(&fifo, true);
    check("a silent writer");
    drop(writer);
}

#[test]
fn the_opened_descriptor_is_judged_not_the_path() {
    use linux_vdso::image_file::{read_opened, ReadError, MAX_IMAGE_FILE};
    let dir = common::scratch_dir("cli-opened");
    // What a path swapped to a FIFO after a check yields: an open FIFO. fstat on the descriptor
    // refuses it without reading.
    let fifo = dir.join("fifo");
    mkfifo(&fifo);
    let writer = open_nonblocking(&fifo, true);
    let fd = open_nonblocking(&fifo, false);
    assert_eq!(read_opened(fd), Err(ReadError::NotRegular("FIFO")));
    drop(writer);
    // A pipe with data waiting is no image either.
    let (r, w) = std::io::pipe().unwrap();
    let mut w = w;
    std::io::Write::write_all(&mut w, b"\x7fELF").unwrap();
    assert_eq!(read_opened(r.into()), Err(ReadError::NotRegular("FIFO")));
    let zero = open_nonblocking(Path::new("/dev/zero"), false);
    assert_eq!(read_opened(zero), Err(ReadError::NotRegular("character device")));
    // A regular file is read whole, up to the bound; one byte more is refused.
    let image = Image::get(Arch::X86_64).bytes();
    let good = dir.join("good");
    fs::write(&good, image).unwrap();
    assert_eq!(read_opened(open_nonblocking(&good, false)).as_deref(), Ok(image));
    let big = dir.join("big");
    fs::File::create(&big).unwrap().set_len(MAX_IMAGE_FILE + 1).unwrap();
    assert_eq!(read_opened(open_nonblocking(&big, false)), Err(ReadError::TooLarge));
    let exact = dir.join("exact");
    fs::File::create(&exact).unwrap().set_len(MAX_IMAGE_FILE).unwrap();
    assert_eq!(read_opened(open_nonblocking(&exact, false)).map(|b| b.len() as u64), Ok(MAX_IMAGE_FILE));
}

#[test]
fn a_path_swapped_between_a_file_and_a_fifo_never_hangs() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = common::scratch_dir("cli-swap");
    let target = dir.join("image");
    let (reg, fifo) = (dir.join("reg"), dir.join("fifo"));
    fs::write(&target, Image::get(Arch::X86_64).bytes()).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            // Alternates what `target` names, each swap one atomic rename.
            while !stop.load(Ordering::Relaxed) {
                fs::write(&reg, Image::get(Arch::X86_64).bytes()).unwrap();
                fs::rename(&reg, &target).unwrap();
                mkfifo(&fifo);
                fs::rename(&fifo, &target).unwrap();
            }
        });
        for i in 0..20 {
            let cmd = if i % 2 == 0 { "inspect" } else { "verify" };
            let o = vdso(&[cmd, target.to_str().unwrap()]);
            let err = stderr(&o);
            assert!(
                o.status.success() || (o.status.code() == Some(1) && err.contains("not a regular file")),
                "{cmd}: {:?} {err}",
                o.status
            );
        }
        stop.store(true, Ordering::Relaxed);
    });
}

#[test]
fn control_characters_from_the_image_and_paths_are_escaped() {
    let dir = common::scratch_dir("cli-escape");
    let mut bytes = Image::get(Arch::X86_64).bytes().to_vec();
    let soname = b"linux-vdso.so.1";
    let mut n = 0;
    while let Some(at) = bytes.windows(soname.len()).position(|w| w == soname) {
        bytes[at + 5] = 0x1b; // linux<ESC>vdso.so.1
        n += 1;
    }
    assert!(n > 0, "the image names its soname");
    let path = dir.join("esc.so");
    fs::write(&path, &bytes).unwrap();
    let o = vdso(&["inspect", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("soname linux\\x1bvdso.so.1"), "{out}");
    assert!(!o.stdout.contains(&0x1b), "no raw ESC reaches the terminal: {out:?}");

    let evil = dir.join("red\x1b[31m\nline");
    fs::write(&evil, "not an image\n").unwrap();
    for cmd in ["inspect", "verify"] {
        let o = vdso(&[cmd, evil.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err:?}");
        assert_eq!(err.lines().count(), 1, "one line: {err:?}");
        assert!(err.contains("red\\x1b[31m\\nline: "), "{err:?}");
        assert!(!o.stderr.contains(&0x1b), "{err:?}");
    }
}

/// The "Exit status:" table of `vdso CMD --help`: each code with its meaning.
fn exit_table(cmd: &str) -> std::collections::BTreeMap<i32, String> {
    let o = vdso(&[cmd, "--help"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    common::exit_status_rows(&out).into_iter().collect()
}

#[test]
fn help_lists_exactly_the_exit_statuses_inspect_and_verify_return() {
    let inspect = exit_table("inspect");
    let verify = exit_table("verify");
    assert_eq!(inspect.keys().copied().collect::<Vec<_>>(), [0, 1, 2], "{inspect:?}");
    assert_eq!(verify.keys().copied().collect::<Vec<_>>(), [0, 1, 2, 3], "{verify:?}");

    // Each status the commands return is the one the table gives for that case.
    let dir = common::scratch_dir("cli-exit-table");
    let good = dir.join("good.so");
    fs::write(&good, Image::get(Arch::X86_64).bytes()).unwrap();
    let missing = dir.join("missing");
    let (good, missing) = (good.to_str().unwrap(), missing.to_str().unwrap());
    for (table, args, meaning) in [
        (&inspect, &["inspect", good][..], "summary was printed"),
        (&inspect, &["inspect", missing][..], "cannot be read"),
        (&inspect, &["inspect", "--bogus"][..], "bad usage"),
        (&verify, &["verify", good][..], "valid image"),
        (&verify, &["verify", missing][..], "cannot be read"),
        (&verify, &["verify", "--arch", "sparc", good][..], "bad usage"),
        (&verify, &["verify", "--arch", "riscv64", good][..], "breaks the contract"),
    ] {
        let code = vdso(args).status.code().expect("an exit status");
        let said = table.get(&code).unwrap_or_else(|| panic!("{args:?} exits {code}, not in {table:?}"));
        assert!(said.contains(meaning), "{args:?} exits {code}, whose meaning is {said:?}, not {meaning:?}");
    }
}

#[test]
fn the_readme_lists_the_same_exit_statuses_as_help() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table =
        readme.split_once("| exit status | `vdso inspect` | `vdso verify` |").expect("the README's table").1;
    let (mut inspect, mut verify) = (Vec::new(), Vec::new());
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let code: i32 = cells[1].parse().unwrap();
        if cells[2] != "-" {
            inspect.push(code);
        }
        if cells[3] != "-" {
            verify.push(code);
        }
    }
    assert_eq!(inspect, exit_table("inspect").into_keys().collect::<Vec<_>>());
    assert_eq!(verify, exit_table("verify").into_keys().collect::<Vec<_>>());
}

/// `vdso verify` sends the user to the section of the project's docs/abi.md that describes what
/// is missing; it once cited a section 7 that does not exist there.
#[test]
fn verify_cites_a_section_docs_abi_md_has() {
    let abi = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/abi.md")).unwrap();
    assert!(abi.contains("\n## 6. The image describes itself\n"), "docs/abi.md's section 6");
    let dir = common::scratch_dir("cli-verify-cites");
    let mut bytes = Image::get(Arch::X86_64).bytes().to_vec();
    let owner = b"rs-vdso\0";
    let at = bytes.windows(owner.len()).position(|w| w == owner).expect("the layout note's owner");
    bytes[at..at + 2].copy_from_slice(b"xx");
    let path = dir.join("no-note.so");
    fs::write(&path, bytes).unwrap();
    let o = vdso(&["verify", "--arch", "x86_64", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("layout note (docs/abi.md section 6, \"The image describes itself\")"),
        "{}",
        stderr(&o)
    );
}
