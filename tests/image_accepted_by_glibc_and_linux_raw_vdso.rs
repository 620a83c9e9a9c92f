//! Independent acceptance of the native images, every row of the variant table for the
//! architecture (classic and modern; x86_64 natively, riscv64, aarch64 and loongarch64 under qemu):
//! glibc's own loader opens the image file and resolves every symbol with `dlvsym` at the
//! architecture's version, and the `linux-raw-vdso` crate, which insists on every symbol of its
//! architecture, parses it from memory. Neither uses this project's ELF code.
//!
//! The glibc half needs glibc: the loongarch64 test binaries are static musl programs (Debian 12
//! has no loongarch64 glibc runtime, NOTES.md), whose `dlopen` opens nothing, so it is compiled
//! only where the tests link glibc (`target_env = "gnu"`).
#![cfg_attr(not(target_env = "gnu"), allow(unused_imports))]

mod common;

use std::ffi::{CStr, CString};
use std::fs;

use linux_vdso::{Arch, Image};

fn native() -> Image {
    Image::native().expect("tests run on an architecture of the table")
}

/// Every image of the native architecture (its classic default and any modern row).
fn native_images() -> impl Iterator<Item = &'static Image> {
    Image::all().iter().filter(|i| i.arch() == native().arch())
}

#[cfg(target_env = "gnu")]
fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a valid C string owned by libc.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "(no dlerror)".into()
    } else {
        // SAFETY: non-NULL, NUL-terminated, per dlerror.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

#[cfg(target_env = "gnu")]
fn write_image(image: &Image, name: &str) -> CString {
    let dir = common::scratch_dir(name);
    let path = dir.join("linux-vdso.so.1");
    fs::write(&path, image.bytes()).expect("write image");
    CString::new(path.to_str().expect("utf-8 path")).expect("no NUL")
}

#[test]
#[cfg(target_env = "gnu")] // glibc's loader (see the module doc)
fn glibc_dlvsym_resolves_every_symbol_at_the_arch_version() {
    for image in native_images() {
        let path = write_image(image, &format!("dlvsym-{}", image.variant().name()));
        // SAFETY: dlopen of a file we wrote; the image has no constructors or relocations.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(!handle.is_null(), "dlopen: {}", dlerror());
        let version = CString::new(image.arch().version_node()).unwrap();
        let mut base = None;
        for sym in image.symbols() {
            let name = CString::new(sym.name).unwrap();
            // SAFETY: valid handle and C strings.
            let addr = unsafe { libc::dlvsym(handle, name.as_ptr(), version.as_ptr()) };
            assert!(!addr.is_null(), "dlvsym({}, {}): {}", sym.name, sym.version, dlerror());
            let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
            // SAFETY: `addr` lies in the object dlopen mapped; `info` is writable.
            assert_ne!(unsafe { libc::dladdr(addr, &mut info) }, 0);
            let fbase = info.dli_fbase as usize;
            assert_eq!(*base.get_or_insert(fbase), fbase);
            assert_eq!((addr as usize - fbase) as u64, sym.offset, "{} at the generated offset", sym.name);
            let wrong = CString::new("LINUX_0.0").unwrap();
            // SAFETY: as above.
            let none = unsafe { libc::dlvsym(handle, name.as_ptr(), wrong.as_ptr()) };
            assert!(none.is_null(), "{} must not resolve at a version the image does not define", sym.name);
        }
        // SAFETY: the handle came from dlopen and no pointer into it is used afterwards.
        assert_eq!(unsafe { libc::dlclose(handle) }, 0);
    }
}

#[test]
#[cfg(target_env = "gnu")] // glibc's loader (see the module doc)
fn glibc_refuses_the_other_architectures_images() {
    for arch in Arch::ALL.into_iter().filter(|&a| a != native().arch()) {
        let other = Image::get(arch);
        let path = write_image(&other, &format!("dlopen-foreign-{}", arch.name()));
        // SAFETY: dlopen of a file we wrote; it must fail before mapping anything executable.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(handle.is_null(), "glibc loaded the {} image", arch.name());
    }
}

#[test]
fn linux_raw_vdso_parses_the_image_and_finds_every_symbol() {
    for image in native_images() {
        let base = image.bytes().as_ptr();
        // SAFETY: the bytes are a complete image file; the crate reads headers, tables and sections
        // at their file offsets, which equal their addresses in our single-segment image.
        let vdso =
            unsafe { linux_raw_vdso::Vdso::from_ptr(base.cast()) }.expect("linux-raw-vdso accepts the image");
        let off = |p: *const core::ffi::c_void| p as usize - base as usize;
        #[cfg(target_arch = "x86_64")]
        let found = [
            ("__vdso_clock_gettime", off(vdso.clock_gettime)),
            ("__vdso_gettimeofday", off(vdso.gettimeofday)),
            ("__vdso_time", off(vdso.time)),
            ("__vdso_getcpu", off(vdso.getcpu)),
        ];
        #[cfg(target_arch = "riscv64")]
        let found = [
            ("__vdso_rt_sigreturn", off(vdso.rt_sigreturn)),
            ("__vdso_gettimeofday", off(vdso.gettimeofday)),
            ("__vdso_clock_gettime", off(vdso.clock_gettime)),
            ("__vdso_clock_getres", off(vdso.clock_getres)),
            ("__vdso_getcpu", off(vdso.getcpu)),
            ("__vdso_flush_icache", off(vdso.flush_icache)),
        ];
        #[cfg(target_arch = "aarch64")]
        let found = [
            ("__kernel_rt_sigreturn", off(vdso.rt_sigreturn)),
            ("__kernel_gettimeofday", off(vdso.gettimeofday)),
            ("__kernel_clock_gettime", off(vdso.clock_gettime)),
            ("__kernel_clock_getres", off(vdso.clock_getres)),
        ];
        #[cfg(target_arch = "loongarch64")]
        let found = [
            ("__vdso_getcpu", off(vdso.getcpu)),
            ("__vdso_clock_getres", off(vdso.clock_getres)),
            ("__vdso_clock_gettime", off(vdso.clock_gettime)),
            ("__vdso_gettimeofday", off(vdso.gettimeofday)),
            ("__vdso_rt_sigreturn", off(vdso.rt_sigreturn)),
        ];
        for (name, offset) in found {
            assert_eq!(offset as u64, image.symbol(name).unwrap().offset, "{} {name}", image.variant());
        }
    }
}
