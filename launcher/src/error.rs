//! Why a launch failed, and the exit status that says so.
//!
//! The statuses follow `env(1)` and POSIX shells where a convention exists (126: found but cannot
//! be run, 127: not found), so scripts that already handle those do the right thing:
//!
//! | status | meaning |
//! |---:|---|
//! | 124 | the launcher could not set up (mapping, writer process, calibration, qemu or another architecture's launcher missing) |
//! | 125 | bad usage: no program, an unknown option, a bad option value, an offset that puts a clock before its epoch |
//! | 126 | the program cannot be run: not an ELF file nor a `#!` script, another architecture, not executable, an unusable `PT_INTERP` loader or `#!` interpreter, `#!` interpreters nested too deep (`ELOOP`) |
//! | 127 | the program, or its `#!` interpreter, was not found |
//!
//! `vdso run --help` prints the same table, from [`Kind::ALL`] and [`Kind::meaning`].
//!
//! Once the program runs, every status is the program's own.

use std::fmt;

/// The class of a failure; its exit status is [`Kind::exit_code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The launcher could not set up.
    Setup,
    /// Bad usage or option value.
    Usage,
    /// The program cannot be run.
    CannotExecute,
    /// The program was not found.
    NotFound,
}

impl Kind {
    /// Every class, in the order of their statuses.
    pub const ALL: [Kind; 4] = [Kind::Setup, Kind::Usage, Kind::CannotExecute, Kind::NotFound];

    /// What the status means, one line for `--help` and the docs.
    pub const fn meaning(self) -> &'static str {
        match self {
            Kind::Setup => {
                "the launcher could not set up (mapping, writer, qemu or another arch's launcher missing)"
            }
            Kind::Usage => {
                "bad usage or option value (no program, an unknown option, an offset putting a clock before its epoch, ...)"
            }
            Kind::CannotExecute => {
                "PROGRAM cannot be run (not ELF nor a #! script, another architecture, not executable, bad or looping interpreter)"
            }
            Kind::NotFound => "PROGRAM (or its #! interpreter) not found",
        }
    }

    /// The exit status for this class.
    pub const fn exit_code(self) -> u8 {
        match self {
            Kind::Setup => 124,
            Kind::Usage => 125,
            Kind::CannotExecute => 126,
            Kind::NotFound => 127,
        }
    }
}

/// A failure before the program started: nothing of it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The class (and so the exit status).
    pub kind: Kind,
    /// One line for a human.
    pub message: String,
}

impl Error {
    /// A failure of `kind`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into() }
    }

    /// Bad usage.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    /// The program cannot be run.
    pub fn cannot_execute(message: impl Into<String>) -> Self {
        Error::new(Kind::CannotExecute, message)
    }

    /// The launcher could not set up.
    pub fn setup(message: impl Into<String>) -> Self {
        Error::new(Kind::Setup, message)
    }

    /// The exit status to end with.
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the cause carried.
        f.write_str(&self.message.replace('\n', " "))
    }
}

impl std::error::Error for Error {}

/// Shorthand: a setup failure from a kernel-stub error.
pub(crate) fn stub(what: &str) -> impl FnOnce(vdso_kernel_stub::Error) -> Error + '_ {
    move |e| Error::setup(format!("{what}: {e}"))
}

/// Shorthand: a setup failure from a system call.
pub(crate) fn sys(what: &str) -> impl FnOnce(rustix::io::Errno) -> Error + '_ {
    move |e| Error::setup(format!("{what}: {e}"))
}
