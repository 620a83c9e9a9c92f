//! The image's `getcpu` against the host kernel's, CPU by CPU.
//!
//! For every CPU the process may run on, the test thread pins itself there with
//! `sched_setaffinity` (which returns only once the thread runs on that CPU, and keeps it there),
//! then asks the image: the CPU must be exactly the pinned one and the node exactly what the raw
//! `getcpu` syscall says on that CPU. On x86_64 the image reads the CPU number without a syscall,
//! in one of two ways chosen by byte 0 of the data page (ABI.md section 2): `lsl` on the
//! CPU-number GDT segment (mode 0) and `rdpid` (mode 1, tested only when CPUID says the CPU has
//! it). On riscv64 the image makes the syscall; under qemu-riscv64 its answers must equal a raw
//! `ecall` of the same syscall.
//!
//! On loongarch64 the image reads the CPU number from `rdtime.d`'s counter-ID output (`CSR.TID`)
//! and the node from the per-CPU data page, with no syscall: the CPU must be exactly what
//! `rdtime.d` gives the test thread itself, and the node what the kernel stub stored in that
//! CPU's slot (`MappedVdso::set_cpu_node`). qemu-loongarch64 7.2 gives every guest thread the
//! counter ID 0, so pinning changes nothing there and only slot 0 is read; the fallback for a
//! CPU number past the array's slots (63 classic, 2048 modern) cannot be reached under qemu-user (the bare-metal
//! example kernel sets `CSR.TID` itself).
//!
//! aarch64 is not tested here because its image exports no `getcpu` (Linux's arm64 vDSO has none;
//! the architecture table's export list, which `image_elf_shape` checks, says so).
#![cfg(any(target_arch = "x86_64", target_arch = "riscv64", target_arch = "loongarch64"))]

mod common;

use common::harness::{variants, Vdso};

/// `getcpu` as a raw system call (never a vDSO, never libc's wrapper): return value, cpu, node.
fn raw_getcpu() -> (i64, u32, u32) {
    let mut cpu = u32::MAX;
    let mut node = u32::MAX;
    let ret: i64;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `getcpu` (309) writes one u32 through each valid pointer and ignores the third
    // argument; `syscall` clobbers rcx and r11 only.
    unsafe {
        std::arch::asm!("syscall", inlateout("rax") 309i64 => ret, in("rdi") &mut cpu as *mut u32,
            in("rsi") &mut node as *mut u32, in("rdx") 0usize, lateout("rcx") _, lateout("r11") _,
            options(nostack));
    }
    #[cfg(target_arch = "riscv64")]
    // SAFETY: `getcpu` (168) writes one u32 through each valid pointer and ignores the third
    // argument; `ecall` returns in a0 and clobbers nothing else.
    unsafe {
        std::arch::asm!("ecall", in("a7") 168usize, inlateout("a0") &mut cpu as *mut u32 as i64 => ret,
            in("a1") &mut node as *mut u32, in("a2") 0usize, options(nostack));
    }
    #[cfg(target_arch = "loongarch64")]
    // SAFETY: `getcpu` (168) writes one u32 through each valid pointer and ignores the third
    // argument; `syscall 0` returns in a0 and may clobber t0-t8.
    unsafe {
        std::arch::asm!("syscall 0", in("$a7") 168usize, inlateout("$a0") &mut cpu as *mut u32 as i64 => ret,
            in("$a1") &mut node as *mut u32, in("$a2") 0usize, out("$t0") _, out("$t1") _, out("$t2") _,
            out("$t3") _, out("$t4") _, out("$t5") _, out("$t6") _, out("$t7") _, out("$t8") _,
            options(nostack));
    }
    (ret, cpu, node)
}

/// loongarch64: the counter ID `rdtime.d` gives this thread (`CSR.TID`, the CPU number).
#[cfg(target_arch = "loongarch64")]
fn counter_id() -> u32 {
    let id: u64;
    // SAFETY: `rdtime.d` reads the stable counter and its ID into registers, nothing else.
    unsafe { std::arch::asm!("rdtime.d $zero, {}", out(reg) id, options(nomem, nostack, preserves_flags)) };
    id as u32
}

/// The node the image must report for the CPU it runs on: loongarch64's comes from the per-CPU
/// page (what the kernel stub stored), every other arch's from the kernel.
fn expected_node(vdso: &Vdso) -> u32 {
    #[cfg(target_arch = "loongarch64")]
    {
        node_in_page(vdso, counter_id())
    }
    #[cfg(not(target_arch = "loongarch64"))]
    {
        let _ = vdso;
        raw_getcpu().2
    }
}

/// loongarch64: the node stored for `cpu` in the mapping's per-CPU page (the writer's view).
#[cfg(target_arch = "loongarch64")]
fn node_in_page(vdso: &Vdso, cpu: u32) -> u32 {
    let page = vdso.mapped.pcpu_page_rw().expect("loongarch64 has a per-CPU page");
    let slots = vdso.mapped.layout().pcpu_slots_mapped();
    let p = vdso_kernel_stub::arch::loongarch64::cpu_node_ptr(page, cpu, slots).expect("a slot");
    // SAFETY: inside the mapped per-CPU page, 4-aligned; written only by this thread.
    unsafe { p.read_volatile() }
}

/// The CPUs this thread may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `cpu_set_t` is plain bits; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid set of the size passed; pid 0 is the calling thread.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    assert_eq!(r, 0, "sched_getaffinity: {}", std::io::Error::last_os_error());
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE, inside the set.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Restricts the calling thread to `cpus`.
fn set_affinity(cpus: &[usize]) {
    // SAFETY: `cpu_set_t` is plain bits; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: `cpu` came from `allowed_cpus`, so it is below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: a valid set of the size passed; pid 0 is the calling thread only.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    assert_eq!(r, 0, "sched_setaffinity({cpus:?}): {}", std::io::Error::last_os_error());
}

/// Runs `check(cpu)` with the thread pinned to each allowed CPU in turn, then restores the
/// thread's affinity.
fn on_each_cpu(mut check: impl FnMut(u32)) {
    let cpus = allowed_cpus();
    assert!(!cpus.is_empty(), "the process may run on no CPU?");
    if cpus.len() < 2 {
        // Still a check, but a getcpu that always answers 0 would pass it: say so.
        eprintln!("note: only CPU {cpus:?} is allowed; getcpu is checked on that one CPU alone");
    }
    for &cpu in &cpus {
        set_affinity(&[cpu]);
        check(cpu as u32);
    }
    set_affinity(&cpus);
}

/// The image's `getcpu`: return value, cpu, node.
fn image_getcpu(vdso: &Vdso) -> (i32, u32, u32) {
    let mut cpu = u32::MAX;
    let mut node = u32::MAX;
    // SAFETY: two writable u32s and a NULL cache pointer; the image is mapped while `vdso` lives.
    let r = unsafe { (vdso.getcpu.expect("getcpu exported"))(&mut cpu, &mut node, std::ptr::null_mut()) };
    (r, cpu, node)
}

/// Pinned to each CPU, the image names that CPU and the host's node for it.
#[cfg_attr(target_arch = "loongarch64", allow(dead_code))] // the CPU number is CSR.TID there
fn check_every_cpu(vdso: &Vdso, what: &str) {
    on_each_cpu(|pinned| {
        let (sr, scpu, snode) = raw_getcpu();
        assert_eq!((sr, scpu), (0, pinned), "{what}: the raw syscall disagrees with the pinning");
        for _ in 0..100 {
            let (r, cpu, node) = image_getcpu(vdso);
            assert_eq!((r, cpu, node), (0, pinned, snode), "{what}: pinned to CPU {pinned}");
        }
    });
}

/// Whether this CPU executes `rdpid` (CPUID leaf 7, subleaf 0, ECX bit 22).
#[cfg(target_arch = "x86_64")]
fn cpu_has_rdpid() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // Leaf 0 gives the highest basic leaf; leaf 7 is only asked for when the CPU reports it.
    __cpuid(0).eax >= 7 && __cpuid_count(7, 0).ecx & (1 << 22) != 0
}

#[test]
// x86_64 only: the getcpu modes (lsl, rdpid) are x86 instructions; riscv64's getcpu is the
// syscall, tested against a raw ecall below.
#[cfg(target_arch = "x86_64")]
fn lsl_mode_reports_the_pinned_cpu_and_the_host_node_on_every_cpu() {
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        vdso.mapped.set_getcpu_mode(0).expect("set mode 0");
        assert_eq!(vdso.mapped.getcpu_mode(), Some(0));
        check_every_cpu(&vdso, "lsl mode");
    }
}

#[test]
// x86_64 only: the getcpu modes (lsl, rdpid) are x86 instructions; riscv64's getcpu is the
// syscall, tested against a raw ecall below.
#[cfg(target_arch = "x86_64")]
fn rdpid_mode_reports_the_pinned_cpu_and_the_host_node_on_every_cpu() {
    if !cpu_has_rdpid() {
        eprintln!("skipped: CPUID leaf 7 ECX bit 22 (RDPID) is clear on this CPU; mode 1 would fault");
        return;
    }
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        vdso.mapped.set_getcpu_mode(1).expect("set mode 1");
        assert_eq!(vdso.mapped.getcpu_mode(), Some(1));
        check_every_cpu(&vdso, "rdpid mode");
    }
}

#[test]
// x86_64 only: the getcpu modes (lsl, rdpid) are x86 instructions; riscv64's getcpu is the
// syscall, tested against a raw ecall below.
#[cfg(target_arch = "x86_64")]
fn both_modes_agree_when_switched_back_and_forth_on_one_mapping() {
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        let modes: &[u8] = if cpu_has_rdpid() {
            &[0, 1, 0, 1]
        } else {
            eprintln!("note: no RDPID on this CPU; switching between lsl modes only");
            &[0, 0]
        };
        for &mode in modes {
            vdso.mapped.set_getcpu_mode(mode).expect("set mode");
            check_every_cpu(&vdso, &format!("mode {mode}"));
        }
    }
}

#[test]
#[cfg(target_arch = "riscv64")]
fn syscall_result_equals_a_raw_ecall_on_every_cpu() {
    // riscv64 has no user-readable CPU number: the image makes the syscall, so on every CPU
    // (under qemu-riscv64, the host CPUs qemu pins its thread to) it must say what `ecall` says.
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        check_every_cpu(&vdso, "syscall");
    }
}

#[test]
#[cfg(target_arch = "loongarch64")]
fn cpu_is_the_counter_id_and_node_is_that_cpus_slot_of_the_per_cpu_page() {
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        // Every slot a different node, twice (the second time the image must see the new values:
        // it reads the page on every call).
        for round in 0..2u32 {
            for cpu in 0..nr_cpus(&vdso) {
                vdso.mapped.set_cpu_node(cpu, 0x100 * (round + 1) + cpu).expect("set the node");
            }
            on_each_cpu(|_| {
                let id = counter_id();
                for _ in 0..100 {
                    assert_eq!(image_getcpu(&vdso), (0, id, 0x100 * (round + 1) + id), "round {round}");
                }
            });
        }
        // Past the slots: refused, the page unchanged.
        assert!(vdso.mapped.set_cpu_node(nr_cpus(&vdso), 1).is_err());
    }
}

/// The number of per-CPU slots of the mapping's row: the classic rows' 63, the modern row's
/// 2048 (Linux 6.18 defconfig's `NR_CPUS`).
#[cfg(target_arch = "loongarch64")]
fn nr_cpus(vdso: &Vdso) -> u32 {
    let layout = vdso.mapped.layout();
    let want = match layout.profile {
        vdso_kernel_stub::Profile::Classic => linux_vdso::abi::loongarch64::NR_CPUS,
        vdso_kernel_stub::Profile::Modern => linux_vdso::abi::modern::loongarch64::NR_CPUS,
    };
    assert_eq!(layout.pcpu_slots, want, "{layout:?}");
    want as u32
}

/// The CPU the image must report where the test thread is pinned to `pinned`: loongarch64's
/// counter ID (which qemu-user does not tie to the host CPU), elsewhere the pinned CPU.
fn expected_cpu(pinned: u32) -> u32 {
    #[cfg(target_arch = "loongarch64")]
    {
        let _ = pinned;
        counter_id()
    }
    #[cfg(not(target_arch = "loongarch64"))]
    {
        pinned
    }
}

/// Each of `cpu` and `node` may be NULL; the other is still written, and the result is 0.
fn check_null_pointers(vdso: &Vdso, what: &str) {
    on_each_cpu(|pinned| {
        let pinned = expected_cpu(pinned);
        let snode = expected_node(vdso);
        let mut cpu = u32::MAX;
        let mut node = u32::MAX;
        // SAFETY: NULL is allowed for `cpu` and `node`; the others are writable.
        unsafe {
            assert_eq!(
                (vdso.getcpu.expect("getcpu exported"))(
                    std::ptr::null_mut(),
                    &mut node,
                    std::ptr::null_mut()
                ),
                0,
                "{what}"
            );
            assert_eq!(node, snode, "{what}: node with cpu NULL");
            assert_eq!(
                (vdso.getcpu.expect("getcpu exported"))(&mut cpu, std::ptr::null_mut(), std::ptr::null_mut()),
                0,
                "{what}"
            );
            assert_eq!(cpu, pinned, "{what}: cpu with node NULL");
            let r = (vdso.getcpu.expect("getcpu exported"))(
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            assert_eq!(r, 0, "{what}: both NULL");
        }
    });
}

#[test]
fn null_cpu_or_node_pointer_returns_0_and_writes_the_other() {
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        #[cfg(target_arch = "x86_64")]
        {
            vdso.mapped.set_getcpu_mode(0).expect("set mode 0");
            check_null_pointers(&vdso, "lsl mode");
            if cpu_has_rdpid() {
                vdso.mapped.set_getcpu_mode(1).expect("set mode 1");
                check_null_pointers(&vdso, "rdpid mode");
            } else {
                println!("rdpid mode skipped: CPUID leaf 7 ECX bit 22 (RDPID) is clear on this CPU");
            }
        }
        #[cfg(target_arch = "riscv64")]
        check_null_pointers(&vdso, "syscall");
        #[cfg(target_arch = "loongarch64")]
        {
            vdso.mapped.set_cpu_node(counter_id(), 3).expect("set the node");
            check_null_pointers(&vdso, "CSR.TID and the per-CPU page");
        }
    }
}

#[test]
fn the_cache_argument_is_ignored_and_left_untouched() {
    // Linux has ignored `getcpu`'s third argument since 2.6.24; a caller may pass garbage memory.
    // Every row of the native arch (classic and modern pages: the mode byte and the
    // per-CPU data sit where each profile puts them).
    for v in variants() {
        let vdso = Vdso::map_variant(v);
        let mut cache = [0xa5u8; 128];
        let mut cpu = u32::MAX;
        let mut node = u32::MAX;
        // SAFETY: writable `cpu` and `node`; `cache` is valid memory the call must not write.
        let r = unsafe { (vdso.getcpu.expect("getcpu exported"))(&mut cpu, &mut node, cache.as_mut_ptr()) };
        assert_eq!(r, 0);
        assert!(cache.iter().all(|&b| b == 0xa5), "the cache buffer was written");
        assert_eq!(node, expected_node(&vdso));
        #[cfg(target_arch = "loongarch64")]
        assert_eq!(cpu, counter_id());
        #[cfg(not(target_arch = "loongarch64"))]
        assert!(allowed_cpus().contains(&(cpu as usize)), "cpu {cpu} is not one this thread may use");
    }
}
