//! Prints the architecture and variant tables as plain lines, for the shell scripts.
//!
//! `scripts/test.sh` and `scripts/build.sh` loop over the table's rows instead of naming
//! architectures, so adding a row adds its lint, test and bare-metal steps with no script edit.
//!
//! ```text
//! cargo run -q -p vdso-abi --example table -- arches
//!   <name> <linux target> <bare-metal target> <std: prebuilt|build-std> <profiles, comma-separated>
//! cargo run -q -p vdso-abi --example table -- variants
//!   <dir> <arch> <profile> <page size>
//! ```

use std::process::ExitCode;

use vdso_abi::{Arch, VARIANTS};

fn main() -> ExitCode {
    let what: Vec<String> = std::env::args().skip(1).collect();
    match what.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["arches"] => {
            for arch in Arch::ALL {
                let info = arch.info();
                let mut profiles: Vec<&str> = Vec::new();
                for v in VARIANTS.iter().filter(|v| v.arch == arch) {
                    if !profiles.contains(&v.profile.name()) {
                        profiles.push(v.profile.name());
                    }
                }
                println!(
                    "{} {} {} {} {}",
                    info.name,
                    info.linux_target,
                    info.bare_target,
                    if info.build_std { "build-std" } else { "prebuilt" },
                    profiles.join(",")
                );
            }
            ExitCode::SUCCESS
        }
        ["variants"] => {
            for v in VARIANTS {
                println!("{} {} {} {}", v.dir, v.arch.info().name, v.profile.name(), v.page_size);
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: table arches | table variants");
            ExitCode::from(2)
        }
    }
}
