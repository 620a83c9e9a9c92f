//! The kernel proper: boot, the vDSO mapping, timekeeping, syscalls, signals, and moving the
//! program between CPUs.
//!
//! SMP model: every CPU runs the same code; the program runs on one CPU at a time. Kernel state
//! is one [`Kernel`] behind a spinlock, taken by syscalls and interrupts (which run with IF
//! clear) and never held across a return to user mode. The bootstrap CPU's LAPIC timer is the
//! tick that advances the timekeeper and publishes the page (the single writer); the other
//! CPUs' timers only let a pending signal reach the program wherever it runs. An idle CPU waits
//! in `sti; hlt` for the program to be handed to it (`sched_setaffinity`).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use linux_vdso::{Arch, Image};
use vdso_abi::{clock, x86_64};
use vdso_kernel_stub::layout::vdso_data_ptr;
use vdso_kernel_stub::{SeqlockWriter, Timespec};

use crate::boot::{self, Frame};
use crate::cpu::{self, rdtsc, USER_CS, USER_DS};
use crate::loader::{self, Region};
use crate::mm::{self, pte, AddressSpace, PAGE_SIZE};
use crate::process::{self, splitmix, Clocks, Process, UserMemory, EFAULT};
use crate::proto;
use crate::{println, Lock};

/// The image this kernel maps.
const IMAGE: Image = Image::get(Arch::X86_64);
// The image's variant row is laid out for this kernel's pages (data pages and text alike).
const _: () = assert!(IMAGE.page_size() == PAGE_SIZE);
/// The kernel's name on the console.
const WHO: &str = "x86-kernel";
/// Where the program's stack ends (grows down from here).
const STACK_TOP: usize = 0x3f_f000_0000;
const STACK_SIZE: usize = 64 * 1024;
/// The vDSO lands at a random page in `[VDSO_LO, VDSO_HI)`.
const VDSO_LO: usize = 0x10_0000_0000;
const VDSO_HI: usize = 0x30_0000_0000;
/// PIT ticks the calibration spans (50 ms).
const CALIBRATION_PIT_TICKS: u16 = 59_659;
/// RFLAGS bits a signal frame may set: CF, PF, AF, ZF, SF, TF, DF, OF, AC.
const FLAGS_USER: u64 = 0x4_0dd5;
/// RFLAGS: IF and the always-one bit 1.
const FLAGS_FIXED: u64 = 0x202;

/// What the kernel counts (every entry from user mode).
#[derive(Default)]
struct Stats {
    syscalls: u64,
    timer_irqs: u64,
    /// getcpu syscalls (the program's own, to compare) and those made from inside the image
    /// (which must be none: the image reads the CPU number itself).
    getcpu_syscalls: u64,
    getcpu_from_vdso: u64,
    signals_delivered: u64,
    /// rt_sigreturn syscalls made from the handler's registered `sa_restorer`.
    sigreturn_via_restorer: u64,
    sigreturn_other: u64,
    /// CPUs the program was handed to (counting the first).
    cpus_run: u64,
}

/// Everything the kernel knows after boot.
struct Kernel {
    space: AddressSpace,
    process: Process,
    tsc_hz: u64,
    writer: SeqlockWriter<x86_64::ArchData>,
    /// The mapping `[vvar | pvclock | hvclock | timens slot | image]` in user space.
    map_va: usize,
    /// The image (`AT_SYSINFO_EHDR`).
    vdso: usize,
    /// The real data page, the page a time namespace maps at page 0, and the zero page the
    /// other slots hold (physical addresses).
    data_page: usize,
    ns_page: usize,
    zero_page: usize,
    /// The program's context, handed to CPU `.0` (which takes it from its idle loop).
    handoff: Option<(usize, Frame)>,
    /// CPUs running (bit i = CPU i).
    cpu_mask: u64,
    stats: Stats,
    boot_tsc: u64,
    seed_source: &'static str,
    rdpid: bool,
}

static KERNEL: Lock<Option<Kernel>> = Lock::new(None);
/// LAPIC timer count per tick, for the application processors to program theirs.
static LAPIC_TICKS: AtomicU32 = AtomicU32::new(0);
static CPUS_UP: AtomicUsize = AtomicUsize::new(1);

/// Every CPU arrives here from the boot code on its own boot stack (CPU 0 first).
pub extern "C" fn cpu_main(cpu: usize) -> ! {
    if cpu == 0 {
        boot()
    }
    cpu::init(cpu, LAPIC_TICKS.load(Ordering::Acquire));
    CPUS_UP.fetch_add(1, Ordering::AcqRel);
    idle(cpu)
}

/// Waits for the program to be handed to this CPU, taking timer interrupts meanwhile.
fn idle(cpu: usize) -> ! {
    loop {
        let frame = {
            let mut k = KERNEL.lock();
            match k.as_mut() {
                Some(k) if k.handoff.is_some_and(|(to, _)| to == cpu) => {
                    k.stats.cpus_run += 1;
                    k.handoff.take().map(|(_, f)| f)
                }
                _ => None,
            }
        };
        if let Some(frame) = frame {
            run_user(cpu, &frame)
        }
        cpu::idle_once();
    }
}

/// Enters user mode on this CPU with `frame`: copies it to the top of the trap stack (where
/// the next entry from user mode builds its own) and `iretq`s.
fn run_user(cpu: usize, frame: &Frame) -> ! {
    mm::activate();
    let slot = (cpu::trap_stack_top(cpu) as usize - size_of::<Frame>()) as *mut Frame;
    // SAFETY: the top of this CPU's trap stack is not in use: the code running now is either
    // below it (a syscall handler's call chain) or on the boot stack.
    unsafe {
        slot.write(*frame);
        boot::enter_user(slot)
    }
}

/// Boots: the bootstrap CPU, once, on its boot stack; never returns.
fn boot() -> ! {
    println!("x86-kernel: PVH entry, long mode, 4-level paging");
    cpu::mask_pic();
    cpu::init_idt();
    cpu::init(0, 0);

    // The TSC and the LAPIC timer, measured against the PIT (1.193182 MHz) over 50 ms.
    let (tsc, apic) = cpu::calibrate(CALIBRATION_PIT_TICKS);
    let tsc_hz = (tsc as u128 * cpu::PIT_HZ as u128 / CALIBRATION_PIT_TICKS as u128) as u64;
    let apic_hz = apic * cpu::PIT_HZ / CALIBRATION_PIT_TICKS as u64;
    let lapic_ticks = (apic_hz / IMAGE.hz() as u64) as u32;
    let rdpid = cpu::has_rdpid();
    println!(
        "x86-kernel: TSC {tsc_hz} Hz (invariant: {}), LAPIC timer {apic_hz} Hz, both against the PIT; \
         rdpid: {}, rdtscp: {}",
        cpu::invariant_tsc(),
        rdpid,
        cpu::has_rdtscp()
    );
    assert!(tsc_hz > 1_000_000 && lapic_ticks > 100, "calibration failed");
    LAPIC_TICKS.store(lapic_ticks, Ordering::Release);

    // The other CPUs.
    let wait_us = |us: u64| {
        let end = rdtsc() + us * tsc_hz / 1_000_000;
        while rdtsc() < end {
            core::hint::spin_loop();
        }
    };
    let machine = cpu::qemu_cpu_count();
    let want = machine.min(boot::MAX_CPUS);
    if want > 1 {
        cpu::start_aps(wait_us);
        let deadline = rdtsc() + tsc_hz;
        while CPUS_UP.load(Ordering::Acquire) < want && rdtsc() < deadline {
            core::hint::spin_loop();
        }
    }
    let cpus = CPUS_UP.load(Ordering::Acquire);
    println!(
        "x86-kernel: {cpus} of {machine} CPUs up (this kernel runs at most {}); each has its GDT CPU-number \
         segment (0x7b) and TSC_AUX",
        boot::MAX_CPUS
    );

    let (seed, seed_source) = match cpu::rdrand() {
        Some(r) => (splitmix(r ^ rdtsc()), "rdrand"),
        None => (splitmix(rdtsc()), "tsc"),
    };
    let rtc = cpu::cmos_time();

    // The address space: the kernel's identity map, the program, its stack, the vDSO.
    let mut space = AddressSpace::new();
    let mut mem = UserMemory::default();
    let loaded = loader::load(&mut space, &mut |r| mem.add(r));
    space.map_fresh(STACK_TOP - STACK_SIZE, STACK_SIZE, pte::U | pte::R | pte::W);
    mem.add(Region { start: STACK_TOP - STACK_SIZE, end: STACK_TOP, writable: true });

    let data_pages = IMAGE.data_pages();
    assert_eq!(data_pages, 4);
    assert_eq!(IMAGE.timens_page(), x86_64::TIMENS_PAGE);
    let total_pages = data_pages + IMAGE.pages();
    let map_va = process::random_base(seed, VDSO_LO, VDSO_HI, total_pages);
    let vdso = map_va + data_pages * PAGE_SIZE;
    let data_page = mm::alloc_page();
    let ns_page = mm::alloc_page();
    // pvclock, hvclock (no paravirtual clocks here) and, outside a time namespace, the timens
    // slot hold nothing the image reads: one zero page for all three.
    let zero_page = mm::alloc_page();
    // docs/abi.md §1: data pages read-only (and not executable) for the process, the image
    // read + execute, unchanged.
    space.map(map_va, data_page, pte::U | pte::R);
    for i in 1..data_pages {
        space.map(map_va + i * PAGE_SIZE, zero_page, pte::U | pte::R);
    }
    vdso_kernel_stub::ArchLayout::X86_64
        .check_image(IMAGE.bytes())
        .expect("the embedded image speaks the x86_64 layout");
    let image = IMAGE.bytes().as_ptr() as usize;
    for i in 0..IMAGE.pages() {
        space.map(vdso + i * PAGE_SIZE, image + i * PAGE_SIZE, pte::U | pte::R | pte::X);
    }
    mem.add(Region { start: map_va, end: vdso + IMAGE.pages() * PAGE_SIZE, writable: false });

    // Timekeeping: MONOTONIC counts from the TSC's reset, REALTIME from the CMOS clock.
    let now = rdtsc();
    let (clocks, mult, shift) =
        Clocks::start(tsc_hz, now, rtc.map(|s| s as i128 * 1_000_000_000), IMAGE.hz());
    let realtime = clocks.realtime_start();
    let pair = NonNull::new(vdso_data_ptr::<x86_64::ArchData>(data_page as *mut u8)).unwrap();
    // SAFETY: `data_page` is a pool page owned by this kernel; this writer is its only writer
    // (it lives in the locked `Kernel`, and only the bootstrap CPU's tick and the timens call
    // use it) and the program only reads it.
    let mut writer = unsafe { SeqlockWriter::new(pair) };
    clocks.tk.publish(&mut writer);

    println!(
        "x86-kernel: mult {mult} shift {shift}, tick {} Hz = {lapic_ticks} LAPIC counts (periodic, every CPU; CPU 0 publishes)",
        IMAGE.hz()
    );
    println!(
        "x86-kernel: realtime {}.{:09} from {}",
        realtime.sec,
        realtime.nsec,
        if rtc.is_some() { "the CMOS RTC" } else { "a fixed default" }
    );
    println!(
        "x86-kernel: vDSO mapped at {map_va:#x}: vvar {map_va:#x} (U+R+NX), pvclock, hvclock, timens slot \
         (U+R+NX, zero), image {vdso:#x} (U+R+X, {} page) [seed from {seed_source}]",
        IMAGE.pages()
    );

    mm::activate();
    let sp = loader::build_stack(STACK_TOP, &loaded, vdso, process::at_random(seed));
    println!(
        "x86-kernel: user program entry {:#x}, sp {sp:#x}, {} pool pages used; entering ring 3 on CPU 0",
        loaded.entry,
        mm::pages_used()
    );

    let mut k = KERNEL.lock();
    *k = Some(Kernel {
        space,
        process: Process::new(mem, clocks),
        tsc_hz,
        writer,
        map_va,
        vdso,
        data_page,
        ns_page,
        zero_page,
        handoff: None,
        cpu_mask: (1u64 << cpus) - 1,
        stats: Stats { cpus_run: 1, ..Stats::default() },
        boot_tsc: now,
        seed_source,
        rdpid,
    });
    drop(k);
    cpu::init(0, lapic_ticks);
    let frame = Frame {
        rip: loaded.entry as u64,
        rsp: sp as u64,
        cs: USER_CS,
        ss: USER_DS,
        rflags: FLAGS_FIXED,
        ..Frame::default()
    };
    run_user(0, &frame)
}

/// Every interrupt and exception lands here (from `isr_common`, on the trap stack when it came
/// from user mode, on the interrupted kernel stack when it came from an idle CPU).
pub extern "C" fn trap_handler(frame: &mut Frame) {
    let from_user = frame.cs & 3 == 3;
    match frame.vector {
        boot::TIMER_VECTOR => {
            cpu::eoi();
            let this = cpu::current();
            let mut k = KERNEL.lock();
            let Some(k) = k.as_mut() else { return };
            if this == 0 {
                k.tick();
            }
            if from_user {
                k.stats.timer_irqs += 1;
                k.deliver_signal(frame);
            }
        }
        boot::SPURIOUS_VECTOR => {}
        v if from_user => {
            println!(
                "x86-kernel: user fault: vector {v} error {:#x} rip {:#x} rsp {:#x} cr2 {:#x}",
                frame.error,
                frame.rip,
                frame.rsp,
                cr2()
            );
            let mut k = KERNEL.lock();
            k.as_mut().expect("user mode before boot finished").finish(1)
        }
        v => panic!(
            "exception {v} in the kernel: error {:#x} rip {:#x} cr2 {:#x}",
            frame.error,
            frame.rip,
            cr2()
        ),
    }
}

fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { core::arch::asm!("mov {0}, cr2", out(reg) v, options(nomem, nostack)) };
    v
}

/// Every `syscall` lands here (from `syscall_entry`, on the trap stack). Returns nonzero when
/// the frame must be restored as a whole (`iretq`), zero for `sysretq`.
pub extern "C" fn syscall_handler(frame: &mut Frame) -> u64 {
    let this = cpu::current();
    let mut guard = KERNEL.lock();
    let k = guard.as_mut().expect("syscall before boot finished");
    k.stats.syscalls += 1;
    match k.syscall(frame, this) {
        Next::Return => {
            let delivered = k.deliver_signal(frame);
            delivered as u64
        }
        Next::Restore => 1,
        Next::MoveTo(to) => {
            k.handoff = Some((to, *frame));
            drop(guard);
            idle(this)
        }
    }
}

/// What a syscall does next.
enum Next {
    /// Return to the program (`rax` holds the result).
    Return,
    /// The frame was rewritten as a whole (`rt_sigreturn`): leave with `iretq`.
    Restore,
    /// The program continues on another CPU; this one goes idle.
    MoveTo(usize),
}

impl Kernel {
    /// The tick on the bootstrap CPU: advance the timekeeper to "TSC now" and publish
    /// (docs/abi.md §5a: every tick, the single writer, under the kernel lock).
    fn tick(&mut self) {
        let now = rdtsc();
        self.process.clocks.tk.advance(now);
        self.process.clocks.tk.publish(&mut self.writer);
        self.process.sig.tick(now);
    }

    fn in_image(&self, pc: usize) -> bool {
        pc >= self.vdso && pc < self.vdso + IMAGE.load_size()
    }

    fn syscall(&mut self, frame: &mut Frame, this: usize) -> Next {
        let nr = frame.rax as usize;
        let args = [frame.rdi as usize, frame.rsi as usize, frame.rdx as usize];
        let a = |i: usize| args[i];
        // The `syscall` instruction is 2 bytes before the return address.
        let pc = frame.rip as usize - 2;
        let from_image = self.in_image(pc);
        let mut out = |bytes: &[u8]| {
            let mut c = crate::console::Console::take();
            bytes.iter().for_each(|&b| c.put(b));
        };
        if let Some(ret) = self.process.syscall(nr, args, (rdtsc(), self.tsc_hz), from_image, &mut out) {
            frame.rax = ret as u64;
            return Next::Return;
        }
        let ret: isize = match nr {
            proto::SYS_EXIT | proto::SYS_EXIT_GROUP => self.finish(a(0) as i32),
            proto::SYS_TIME => {
                self.process.clock_stats.served += 1;
                let ns = self.process.clocks.ns(clock::REALTIME, rdtsc()).unwrap_or(0);
                let sec = Timespec::from_nanos(ns).sec;
                if a(0) != 0 && self.process.mem.write(a(0), sec) != 0 {
                    -EFAULT
                } else {
                    sec as isize
                }
            }
            proto::SYS_GETCPU => {
                self.stats.getcpu_syscalls += 1;
                if self.in_image(pc) {
                    self.stats.getcpu_from_vdso += 1;
                }
                self.process.mem.put_getcpu((a(0), a(1)), (this as u32, 0))
            }
            proto::SYS_SCHED_GETAFFINITY => {
                if a(1) < 8 {
                    -proto::EINVAL
                } else if self.process.mem.write(a(2), self.cpu_mask) != 0 {
                    -EFAULT
                } else {
                    8
                }
            }
            proto::SYS_SCHED_SETAFFINITY => {
                match self.process.mem.read::<u64>(a(2)).map(|m| m & self.cpu_mask) {
                    _ if a(1) < 8 => -proto::EINVAL,
                    None => -EFAULT,
                    Some(0) => -proto::EINVAL,
                    Some(mask) if mask & (1 << this) != 0 => 0,
                    Some(mask) => {
                        frame.rax = 0;
                        return Next::MoveTo(mask.trailing_zeros() as usize);
                    }
                }
            }
            proto::SYS_SET_GETCPU_MODE => match a(0) as u8 {
                x86_64::GETCPU_MODE_RDPID if !self.rdpid => -proto::EINVAL,
                mode @ (x86_64::GETCPU_MODE_LSL | x86_64::GETCPU_MODE_RDPID) => {
                    let byte = (self.data_page + x86_64::GETCPU_MODE_OFFSET) as *mut u8;
                    // SAFETY: the data page is ours; byte 0 lies outside `vdso_data` (which starts
                    // at 128) and the program only reads it.
                    unsafe { byte.write_volatile(mode) };
                    0
                }
                _ => -proto::EINVAL,
            },
            proto::SYS_RT_SIGRETURN => {
                self.sigreturn(frame, pc);
                return Next::Restore;
            }
            proto::SYS_ENTER_TIMENS => self.enter_timens(a(0) as i64),
            _ => -38, // ENOSYS
        };
        frame.rax = ret as u64;
        Next::Return
    }

    /// Moves the process into a time namespace `offset_sec` seconds ahead: the namespace page
    /// goes to page 0 and the real data page to the timens slot, page 3 (docs/abi.md §4).
    fn enter_timens(&mut self, offset_sec: i64) -> isize {
        // SAFETY: `ns_page` is ours, not yet mapped anywhere, so nobody reads it yet.
        unsafe { self.process.write_timens::<x86_64::ArchData>(self.ns_page, offset_sec) };
        self.space.map(self.map_va, self.ns_page, pte::U | pte::R);
        self.space.map(self.map_va + x86_64::TIMENS_PAGE * PAGE_SIZE, self.data_page, pte::U | pte::R);
        // Only this CPU has run the program since the last hand-off, and every hand-off
        // flushes the receiving CPU's TLB.
        mm::activate();
        let _ = self.zero_page;
        0
    }

    /// Delivers one pending, unblocked signal: builds Linux's x86_64 `struct rt_sigframe` on the
    /// user stack (below the 128-byte red zone; the FXSAVE area first, 64-aligned), with
    /// `pretcode` = the handler's `sa_restorer`. Returns whether it rewrote the frame.
    fn deliver_signal(&mut self, frame: &mut Frame) -> bool {
        let taken = self.process.take_signal(WHO).unwrap_or_else(|code| self.finish(code));
        let Some((sig, act)) = taken else { return false };
        if act.flags & proto::SA_RESTORER == 0 {
            // x86_64 has no vDSO trampoline to fall back on: Linux kills such a process too.
            println!("x86-kernel: signal {sig} without SA_RESTORER: terminating");
            self.finish(128 + sig as i32);
        }
        let fx = ((frame.rsp as usize - 128) - 512) & !63;
        let sf = ((fx - proto::RT_SIGFRAME_SIZE) & !15) - 8;
        if !self.process.mem.ok(sf, fx + 512 - sf, true) {
            println!("x86-kernel: no room for a signal frame at {sf:#x}");
            self.finish(1);
        }
        let uc = sf + 8;
        let info = uc + proto::UCONTEXT_SIZE;
        let f = frame;
        let sc: [u64; 32] = [
            f.r8,
            f.r9,
            f.r10,
            f.r11,
            f.r12,
            f.r13,
            f.r14,
            f.r15,
            f.rdi,
            f.rsi,
            f.rbp,
            f.rbx,
            f.rdx,
            f.rax,
            f.rcx,
            f.rsp,
            f.rip,
            f.rflags,
            f.cs | f.ss << 48,
            0,
            0,
            self.process.sig.blocked,
            0,
            fx as u64,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        // SAFETY: the frame lies inside the writable user stack (checked); FXSAVE stores the
        // program's x87/SSE state (the kernel itself never touches it: soft-float target).
        unsafe {
            core::ptr::write_bytes(sf as *mut u8, 0, fx + 512 - sf);
            core::arch::asm!("fxsave64 [{0}]", in(reg) fx, options(nostack));
            (sf as *mut u64).write(act.restorer);
            process::write_ucontext_head(uc, self.process.sig.blocked);
            ((uc + proto::UC_MCONTEXT) as *mut [u64; 32]).write(sc);
            process::write_siginfo(info, sig);
        }
        self.process.sig.enter_handler(sig, act.flags, act.mask);
        f.rip = act.handler;
        f.rsp = sf as u64;
        f.rdi = sig as u64;
        f.rsi = info as u64;
        f.rdx = uc as u64;
        f.rax = 0;
        f.rflags &= !(1 << 8 | 1 << 10); // TF, DF
        self.stats.signals_delivered += 1;
        true
    }

    /// `rt_sigreturn`: the restorer's `syscall` runs with `rsp` just past `pretcode`, at the
    /// `ucontext`; restore every register, the FP state and the signal mask from it.
    fn sigreturn(&mut self, frame: &mut Frame, pc: usize) {
        let from_restorer = self
            .process
            .actions
            .0
            .iter()
            .any(|a| a.restorer != 0 && (pc as u64).wrapping_sub(a.restorer) < 16);
        if from_restorer {
            self.stats.sigreturn_via_restorer += 1;
        } else {
            self.stats.sigreturn_other += 1;
        }
        let uc = frame.rsp as usize;
        let Some((sc, mask)) = self.process.read_sigframe::<[u64; 32]>(uc, uc + proto::UC_MCONTEXT) else {
            println!("{WHO}: rt_sigreturn with a bad frame at {uc:#x}");
            self.finish(1)
        };
        let fx = sc[23] as usize;
        if fx != 0 {
            if !fx.is_multiple_of(16) || !self.process.mem.ok(fx, 512, false) {
                println!("x86-kernel: rt_sigreturn with a bad FP state at {fx:#x}");
                self.finish(1);
            }
            // SAFETY: a 16-aligned, 512-byte user area (checked); a malformed MXCSR would fault
            // in the kernel, but this area is the one `deliver_signal` filled.
            unsafe { core::arch::asm!("fxrstor64 [{0}]", in(reg) fx, options(nostack)) };
        }
        if sc[16] >= 1 << 47 {
            println!("x86-kernel: rt_sigreturn to a non-canonical rip {:#x}", sc[16]);
            self.finish(1);
        }
        let f = frame;
        [f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15] = sc[..8].try_into().unwrap();
        [f.rdi, f.rsi, f.rbp, f.rbx, f.rdx, f.rax, f.rcx, f.rsp, f.rip] = sc[8..17].try_into().unwrap();
        f.rflags = (sc[17] & FLAGS_USER) | FLAGS_FIXED;
        f.cs = USER_CS;
        f.ss = USER_DS;
        self.process.sig.restore_mask(mask);
    }

    /// Prints the report and powers off.
    fn finish(&mut self, code: i32) -> ! {
        let elapsed = rdtsc().wrapping_sub(self.boot_tsc);
        let ms = elapsed as u128 * 1000 / self.tsc_hz as u128;
        let s = &self.stats;
        let r = self.process.report.unwrap_or_default();
        let cpus = self.cpu_mask.count_ones() as u64;
        let c = &self.process.clock_stats;
        let fallback = c.fallback_gettime + c.fallback_getres;
        let modes = 1 + self.rdpid as u32;
        let ok = code == 0
            && self.process.common_ok(s.signals_delivered, s.sigreturn_via_restorer, s.sigreturn_other)
            && r.time_ok == 1
            && s.cpus_run == cpus
            && r.cpus_run as u64 == cpus
            && r.getcpu_ok == cpus as u32 * modes
            && r.rdpid == self.rdpid as u32
            && r.tsc_aux_ok == if cpu::has_rdtscp() { cpus as u32 } else { 0 }
            && s.getcpu_from_vdso == 0;
        println!(
            "x86-kernel: exit code {code}; entries from user mode: {} syscalls, {} timer interrupts",
            s.syscalls, s.timer_irqs
        );
        println!(
            "VDSO-KERNEL-REPORT: {} served_syscalls={} fallback_syscalls={fallback} \
             {} signals={} sigreturn_via_restorer={} sigreturn_other={} \
             handler_ret_ok={} frame_restored={} time_ok={} timens_ok={} cpus={cpus} cpus_run={} \
             getcpu_ok={} rdpid={} tsc_aux_ok={} getcpu_syscalls={} getcpu_from_vdso={} {} ticks={} failures={} vdso_base={:#x} seed={} \
             tsc_hz={} user_run_ms={} total_ms={ms}",
            if ok { "ok" } else { "fail" },
            c.served,
            self.process.report_calls(),
            s.signals_delivered,
            s.sigreturn_via_restorer,
            s.sigreturn_other,
            r.handler_ra_is_vdso_sigreturn,
            r.sigreturn_restored_frame,
            r.time_ok,
            r.timens_ok,
            s.cpus_run.min(r.cpus_run as u64),
            r.getcpu_ok,
            r.rdpid,
            r.tsc_aux_ok,
            s.getcpu_syscalls,
            s.getcpu_from_vdso,
            self.process.report_clocks(),
            s.timer_irqs,
            r.failures,
            self.vdso,
            self.seed_source,
            self.tsc_hz,
            r.run_ns / 1_000_000,
        );
        cpu::power_off(ok)
    }
}
