//! Runs an unmodified Linux program with a vDSO image of one's choosing: the user-space half of
//! `vdso run`.
//!
//! No kernel lets a process choose its vDSO, and qemu-user gives its guests none, so the launcher
//! does what `execve` would, in its own process, and then *becomes* the program:
//!
//! 1. checks everything first — the options, the program (found like `execvp` does, an ELF
//!    executable of a supported architecture) and its `PT_INTERP` loader ([`program`]), the
//!    clocks the offsets would produce ([`clocks`]) — so a bad input never half-starts anything;
//! 2. maps `[data pages | image]` as docs/abi.md §1 lays it out, through the kernel stub's
//!    [`MappedVdso`] (the data page is a memfd, read-only here);
//! 3. maps the program and its loader ([`load`]) and builds a fresh initial stack ([`stack`])
//!    with an auxiliary vector ([`auxv`]) whose `AT_SYSINFO_EHDR` is our image;
//! 4. starts the page's writer in a process of its own ([`writer`]) and waits for its first
//!    update;
//! 5. tidies the process up as `execve` would ([`handoff`], [`fds`]) and jumps to the entry
//!    point with the registers the psABI asks for ([`arch`]).
//!
//! The process keeps its pid, parent, descriptors 0-2 (and any others its caller passed),
//! arguments and environment, so the program's exit status, signals and output are simply
//! its own. A program of another architecture of the table (riscv64, aarch64) started from the
//! x86_64 launcher runs under qemu-user on the launcher's static build for it ([`foreign`]).
//!
//! Failures before the jump are [`Error`]s with an exit status per class ([`error`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod auxv;
pub mod clocks;
pub mod error;
pub mod fds;
pub mod foreign;
pub mod handoff;
pub mod host_data;
pub mod load;
pub mod options;
pub mod program;
pub mod shown;
pub mod stack;
pub mod variant;
pub mod writer;

/// Entering the program, per architecture.
pub mod arch {
    #[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
    #[cfg_attr(target_arch = "riscv64", path = "riscv64.rs")]
    #[cfg_attr(target_arch = "aarch64", path = "aarch64.rs")]
    #[cfg_attr(target_arch = "loongarch64", path = "loongarch64.rs")]
    #[cfg_attr(
        not(any(
            target_arch = "x86_64",
            target_arch = "riscv64",
            target_arch = "aarch64",
            target_arch = "loongarch64"
        )),
        path = "unsupported.rs"
    )]
    mod imp;
    pub use imp::{jump, thread_pointer, RSEQ_SIG};
}

use std::convert::Infallible;
use std::ffi::{CStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use vdso_kernel_stub::{ArchLayout, MapOptions, MappedVdso, TickerConfig};

pub use error::{Error, Kind};
pub use options::{RealtimeSpec, RunOptions};
pub use vdso_kernel_stub::Arch;

/// The architecture this launcher runs as.
pub const NATIVE: Arch = match Arch::native() {
    Some(arch) => arch,
    None => panic!("the launcher runs only on an architecture of vdso-abi's table"),
};

/// Usage line shown when no program is given.
pub const USAGE: &str = "usage: vdso run [OPTIONS] -- PROGRAM [ARGS...]";

/// Runs `command` (program and arguments) with the vDSO image `image(variant)` of the program's
/// architecture and the host's page size ([`variant::for_host`]). Returns only if the program
/// could not be started; nothing of it ran then.
pub fn launch(
    image: &dyn Fn(&vdso_kernel_stub::Variant) -> &'static [u8],
    options: &RunOptions,
    command: &[OsString],
) -> Result<Infallible, Error> {
    let before = fds::open_fds();
    let (name, _) =
        command.split_first().ok_or_else(|| Error::usage(format!("no program given ({USAGE})")))?;
    let clocks = clocks::resolve(options)?;

    if let Some(arch) = options.arch {
        if arch != NATIVE {
            if options.host_data {
                return Err(host_data_foreign(arch));
            }
            return foreign_launch(arch, options, &clocks, command);
        }
    }
    let path = program::resolve(name, std::env::var_os("PATH").as_deref())?;
    // A `#!` script is run by its interpreter, as `execve` does; `argv` is what that gets.
    let (program, argv) = program::open_following_scripts(&path, command)?;
    match options.arch {
        Some(arch) if arch != program.arch => {
            return Err(Error::cannot_execute(format!(
                "{}: a {} program, but --arch {} was asked for",
                shown::path(&program.path),
                options::arch_name(program.arch),
                options::arch_name(arch)
            )))
        }
        None if program.arch != NATIVE => {
            let arch = program.arch;
            if options.host_data {
                return Err(host_data_foreign(arch));
            }
            drop(program);
            // The launcher of that architecture follows the scripts again from the command.
            return foreign_launch(arch, options, &clocks, command);
        }
        _ => {}
    }
    let interp = match &program.interp {
        Some(p) => Some(program::open_interpreter(p, program.arch, &program.path)?),
        None => None,
    };

    let region = if options.host_data {
        // The host kernel's own pages, moved before the image at the last moment; no writer.
        let layout =
            host_data::HostLayout::of(program.arch).ok_or_else(|| host_data_foreign(program.arch))?;
        let bytes = image(layout.variant());
        let reserved = host_data::reserve(&layout, bytes, bytes.len().div_ceil(layout.page_size))?;
        Region::Host(layout, reserved)
    } else {
        let variant = variant::for_host(program.arch, options.profile)?;
        let layout = ArchLayout::of_variant(variant);
        let map_options = match clocks.timens {
            Some(offsets) => MapOptions::new(layout).timens(offsets),
            None => MapOptions::new(layout),
        };
        Region::Stub(
            MappedVdso::map_with(image(variant), map_options).map_err(error::stub("cannot map the vDSO"))?,
            variant.page_size,
        )
    };
    let (sysinfo_ehdr, page_size) = match &region {
        Region::Stub(mapped, page_size) => (mapped.sysinfo_ehdr(), *page_size),
        Region::Host(layout, r) => (r.image, layout.page_size),
    };
    let loaded = load::load(&program)?;
    let interp_loaded = match &interp {
        Some(i) => Some(load::load(i)?),
        None => None,
    };
    let entry = interp_loaded.as_ref().map_or(loaded.entry, |i| i.entry);

    let mut random = [0u8; 16];
    rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty())
        .map_err(error::sys("getrandom"))?;
    let spec = stack::StackSpec {
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp: environment(),
        // The path exec was asked to run, a script's own rather than its interpreter's, as
        // the kernel's AT_EXECFN.
        execfn: path.as_os_str().as_bytes().to_vec(),
        platform: Some(auxv::platform(program.arch).to_vec()),
        random,
        auxv: auxv::entries(&program, &loaded, interp_loaded.as_ref(), sysinfo_ehdr as u64, page_size as u64),
    };
    // The block's length does not depend on where it goes (the top is 16-byte aligned).
    let needed = stack::build(&spec, 1 << 40).bytes.len();
    let top = stack::allocate(stack::exec_stack_wanted(&program), needed)?;
    let block = stack::build(&spec, top);
    // SAFETY: `allocate` returned the top of a fresh writable mapping of at least `needed`
    // bytes, the length of `block`.
    unsafe { stack::install(&block, top) };

    let config = TickerConfig {
        hz: options.hz,
        realtime_offset_ns: clocks.realtime_offset_ns,
        hwprobe: (program.arch == Arch::Riscv64).then(clocks::hwprobe_values),
        ..TickerConfig::default()
    };
    match region {
        Region::Stub(mapped, _) => {
            writer::start(&mapped, config, options.writer_stats.as_deref())?;
            handoff::keep_reader_view_only(mapped);
        }
        Region::Host(layout, reserved) => {
            // SAFETY: reserved for `layout` in this single-threaded launcher, which reads no
            // clock through libc from here on (the jump follows).
            unsafe { host_data::place(&layout, &reserved)? };
        }
    }

    // From here on nothing can fail: become the program.
    handoff::set_comm(&path);
    drop((program, interp));
    fds::close_new(&before);
    fds::close_std_closed_at_start();
    handoff::reset_signals();
    handoff::unregister_rseq();
    // SAFETY: `block` is installed at `block.sp` in a writable stack mapping; `entry` is the
    // entry point of the program or its loader, mapped executable by `load`; the page the image
    // reads is live (the writer published its first update).
    unsafe { arch::jump(entry, block.sp) }
}

/// Where the image and its data pages are.
enum Region {
    /// Mapped by the kernel stub (with its page size), its page kept fresh by our writer.
    Stub(MappedVdso, usize),
    /// Reserved for the host kernel's own pages (`--host-data`).
    Host(host_data::HostLayout, host_data::Reservation),
}

/// `--host-data` for a program the host's pages cannot serve.
fn host_data_foreign(arch: Arch) -> Error {
    Error::cannot_execute(format!(
        "--host-data: a {} program: the host kernel's pages serve only {} images whose host layout has \
         been checked (x86_64 on Linux 6.17+)",
        options::arch_name(arch),
        options::arch_name(NATIVE)
    ))
}

fn foreign_launch(
    arch: Arch,
    options: &RunOptions,
    clocks: &clocks::Clocks,
    command: &[OsString],
) -> Result<Infallible, Error> {
    match (NATIVE, arch) {
        // Which launcher can run which architecture under qemu-user: the x86_64 launcher (the
        // host qemu-user runs on) runs every other architecture of the table; `foreign.rs` has
        // everything else from the rows. A launcher already under qemu starts no second one.
        (Arch::X86_64, foreign) if foreign != Arch::X86_64 => {
            Err(foreign::exec_foreign(arch, options, clocks.realtime_offset_ns, command))
        }
        _ => Err(Error::cannot_execute(format!(
            "{}: cannot run {} programs from the {} launcher",
            shown::escaped(command[0].as_bytes()),
            options::arch_name(arch),
            options::arch_name(NATIVE)
        ))),
    }
}

/// The environment exactly as the launcher received it (every `environ` entry, in order).
fn environment() -> Vec<Vec<u8>> {
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    let mut out = Vec::new();
    // SAFETY: `environ` is libc's NULL-terminated array of NUL-terminated strings; nothing
    // changes the environment while this single-threaded launcher reads it.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            out.push(CStr::from_ptr(*p).to_bytes().to_vec());
            p = p.add(1);
        }
    }
    if out.is_empty() {
        out =
            std::env::vars_os().map(|(k, v)| [k.into_vec(), b"=".to_vec(), v.into_vec()].concat()).collect();
    }
    out
}
