//! `__vdso_flush_icache` (riscv64 only: the call and the syscall exist only there, so on every
//! other arch this file compiles to an empty test binary).
//!
//! The image makes the `riscv_flush_icache` syscall (259) and returns its answer unchanged, so
//! for every argument, valid or not, its result must equal a raw `ecall` of the same arguments.
//! (qemu-user 7.2 answers 0 whatever the arguments, since it detects self-modifying code itself;
//! a newer qemu or a real kernel answers `-EINVAL` for unknown flags, and the comparison stays
//! right.) Then the use it exists for: code written into a fresh mapping runs after the call.
//!
//! Under qemu-user these two alone cannot tell the syscall from a stub that returns 0. That the
//! image really makes syscall 259 is checked where a kernel answers it: the riscv64 kernel example
//! counts `riscv_flush_icache` calls made from inside the image (`tests/riscv_kernel.rs`,
//! `passthrough_from_vdso=2` with getcpu).
#![cfg(target_arch = "riscv64")]

mod common;

use common::harness::Vdso;

/// `int __vdso_flush_icache(void *start, void *end, unsigned long flags)`.
type FlushIcache = unsafe extern "C" fn(usize, usize, usize) -> i32;

/// `SYS_RISCV_FLUSH_ICACHE_LOCAL`: only the calling thread needs to see the new code.
const FLUSH_LOCAL: usize = 1;

fn flush_icache(vdso: &Vdso) -> FlushIcache {
    // SAFETY: the prototype matches ABI.md section 5; used only while `vdso` lives.
    unsafe { vdso.mapped.resolve("__vdso_flush_icache", "LINUX_4.15") }.expect("__vdso_flush_icache")
}

/// `riscv_flush_icache` as a raw `ecall`, its answer as the kernel gives it.
fn raw_flush_icache(start: usize, end: usize, flags: usize) -> i32 {
    let ret: isize;
    // SAFETY: the syscall only flushes caches (or rejects its arguments); it never writes
    // memory. `ecall` returns in a0 and clobbers nothing else.
    unsafe {
        std::arch::asm!("ecall", in("a7") 259usize, inlateout("a0") start as isize => ret,
            in("a1") end, in("a2") flags, options(nostack));
    }
    ret as i32
}

#[test]
fn result_equals_a_raw_ecall_for_valid_and_invalid_arguments() {
    let vdso = Vdso::map();
    let flush = flush_icache(&vdso);
    let text = flush as usize;
    let stack = &vdso as *const Vdso as usize;
    let ranges = [
        (0, 0),
        (text, text + 16),
        (text & !4095, (text & !4095) + 4096),
        (stack, stack + 64),
        (text + 16, text), // end before start
        (0, usize::MAX),
        (usize::MAX - 4095, usize::MAX),
        (0x10, 0x20), // unmapped
        (1, 3),       // unaligned
    ];
    // 0 = all threads, 1 = LOCAL, 2 and 3 and the rest: no such flag (Linux: -EINVAL).
    let flags = [0, FLUSH_LOCAL, 2, 3, 4, 0x8000_0000, usize::MAX];
    let mut answers = std::collections::BTreeMap::new();
    for &(start, end) in &ranges {
        for &f in &flags {
            // SAFETY: the call only flushes caches or rejects its arguments, like the syscall.
            let ours = unsafe { flush(start, end, f) };
            let raw = raw_flush_icache(start, end, f);
            assert_eq!(ours, raw, "flush_icache({start:#x}, {end:#x}, {f:#x})");
            *answers.entry(raw).or_insert(0) += 1;
        }
    }
    println!("answers of the syscall (value: count): {answers:?}");
}

/// `li a0, <imm>; ret` as two uncompressed instructions (`addi a0, zero, imm`; `jalr zero, ra`).
fn li_a0_ret(imm: u32) -> [u32; 2] {
    assert!(imm < 2048, "12-bit immediate");
    [(imm << 20) | (10 << 7) | 0x13, 0x0000_8067]
}

fn protect(page: *mut libc::c_void, prot: libc::c_int) {
    // SAFETY: `page` is our own anonymous mapping of one page.
    let r = unsafe { libc::mprotect(page, 4096, prot) };
    assert_eq!(r, 0, "mprotect: {}", std::io::Error::last_os_error());
}

#[test]
fn code_written_to_a_fresh_mapping_runs_after_the_call_and_after_a_rewrite() {
    let vdso = Vdso::map();
    let flush = flush_icache(&vdso);
    // SAFETY: a fresh private anonymous page at an address the kernel picks.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(page, libc::MAP_FAILED, "mmap: {}", std::io::Error::last_os_error());
    let start = page as usize;

    for (round, value) in [42u32, 43, 1234].into_iter().enumerate() {
        if round > 0 {
            protect(page, libc::PROT_READ | libc::PROT_WRITE);
        }
        let code = li_a0_ret(value);
        // SAFETY: the page is mapped read-write and 4-aligned; 8 bytes fit.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), page.cast::<u32>(), code.len()) };
        // SAFETY: flushing our own mapping.
        let r = unsafe { flush(start, start + 8, 0) };
        assert_eq!(r, raw_flush_icache(start, start + 8, 0));
        assert_eq!(r, 0, "flush_icache of our own page");
        protect(page, libc::PROT_READ | libc::PROT_EXEC);
        // SAFETY: the page now holds `li a0, value; ret`, a complete function of this type,
        // mapped read+execute, and the instruction cache has been flushed for it.
        let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(page) };
        assert_eq!(f(), value, "round {round}: the freshly written code ran");
    }
    // SAFETY: our own mapping, no longer used.
    unsafe { libc::munmap(page, 4096) };
}
