//! The kernel proper: boot, the vDSO mapping, timekeeping, syscalls and signals.

use core::arch::asm;
use core::ptr::NonNull;

use linux_vdso::{Arch, Image};
use vdso_abi::aarch64;
use vdso_kernel_stub::layout::vdso_data_ptr;
use vdso_kernel_stub::{ArchLayout, SeqlockWriter};

use crate::loader::{self, Region};
use crate::mm::{self, pte, AddressSpace, PAGE_SIZE};
use crate::process::{self, splitmix, Clocks, Process, UserMemory};
use crate::trap::{kind, reg, TrapFrame, FRAME_SIZE};
use crate::{cntfrq, cntvct, console, gic, println, proto, Global};

/// The image this kernel maps.
const IMAGE: Image = Image::get(Arch::Aarch64);
// The image's variant row is laid out for this kernel's pages (data pages and text alike).
const _: () = assert!(IMAGE.page_size() == PAGE_SIZE);
/// The kernel's name on the console.
const WHO: &str = "aarch64-kernel";
/// Where the program's stack ends (grows down from here).
const STACK_TOP: usize = 0x3f_f000_0000;
const STACK_SIZE: usize = 64 * 1024;
/// The vDSO lands at a random page in `[VDSO_LO, VDSO_HI)`.
const VDSO_LO: usize = 0x10_0000_0000;
const VDSO_HI: usize = 0x30_0000_0000;
/// The `virt` machine's PL031 RTC (seconds since the epoch in RTCDR, offset 0).
const PL031_BASE: usize = 0x0901_0000;

/// CNTKCTL_EL1.EL0VCTEN: EL0 may read `CNTVCT_EL0` (and `CNTFRQ_EL0`).
const CNTKCTL_EL0VCTEN: u64 = 1 << 1;
/// ESR_EL1.EC of an `svc` from AArch64.
const EC_SVC64: u64 = 0x15;
/// `struct fpsimd_context` (Linux arm64 `uapi/asm/sigcontext.h`): its magic and size.
const FPSIMD_MAGIC: u32 = 0x4650_8001;
const FPSIMD_SIZE: u32 = 528;
/// `SA_RESTORER`: `sa_restorer` holds the handler's return address.
const SA_RESTORER: u64 = 0x0400_0000;

/// What the kernel counts (every exception from EL0).
#[derive(Default)]
struct Stats {
    svcs: u64,
    timer_irqs: u64,
    signals_delivered: u64,
    /// rt_sigreturn `svc`s made from `__kernel_rt_sigreturn`.
    sigreturn_via_vdso: u64,
    sigreturn_other: u64,
    /// Handlers entered with x30 = `__kernel_rt_sigreturn` (no `SA_RESTORER`).
    x30_to_vdso: u64,
}

/// Everything the kernel knows after boot.
struct Kernel {
    space: AddressSpace,
    process: Process,
    freq: u64,
    writer: SeqlockWriter<aarch64::ArchData>,
    tick_cycles: u64,
    next_tick: u64,
    /// The mapping `[data | timens slot | image]` in user space.
    map_va: usize,
    /// The image (`AT_SYSINFO_EHDR`).
    vdso: usize,
    /// The real data page and the page a time namespace maps at page 0 (physical addresses).
    data_page: usize,
    ns_page: usize,
    /// `__kernel_rt_sigreturn` as `[start, end)` in user space, from the generated table.
    sigreturn: (usize, usize),
    stats: Stats,
    boot_cycles: u64,
    seed_source: &'static str,
}

static KERNEL: Global<Option<Kernel>> = Global::new(None);
static STARTED_AT_EL2: Global<bool> = Global::new(false);

/// Whether QEMU started the kernel at EL2 (then PSCI is reached with `smc`).
pub fn started_at_el2() -> bool {
    // SAFETY: written once at boot before anything reads it; a plain bool.
    unsafe { *STARTED_AT_EL2.get() }
}

/// A 64-bit seed: `RNDR` (FEAT_RNG, which `-cpu max` has) when ID_AA64ISAR0_EL1 says the CPU
/// has it, mixed with the counter either way.
fn seed() -> (u64, &'static str) {
    let isar0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {0}, id_aa64isar0_el1", out(reg) isar0, options(nomem, nostack)) };
    let mut s = cntvct();
    let mut source = "cntvct";
    if (isar0 >> 60) & 0xf >= 1 {
        for _ in 0..4 {
            let (v, ok): (u64, u64);
            // SAFETY: RNDR exists (checked above); it writes a register and NZCV (Z set = failed).
            unsafe {
                asm!("mrs {v}, s3_3_c2_c4_0", "cset {ok}, ne", v = out(reg) v, ok = out(reg) ok,
                     options(nomem, nostack))
            };
            if ok == 1 {
                s = splitmix(s ^ v);
                source = "rndr";
                break;
            }
        }
    }
    (splitmix(s), source)
}

/// Wall-clock time from the PL031 RTC, in ns since the epoch (read once at boot, MMU off).
fn read_rtc() -> u64 {
    // SAFETY: QEMU's `virt` machine has a PL031 at PL031_BASE; reading RTCDR has no side effect.
    let secs = unsafe { core::ptr::read_volatile(PL031_BASE as *const u32) };
    secs as u64 * 1_000_000_000
}

/// Boots: called once from `_start` on the boot stack; never returns.
pub fn boot(el: u64, kernel_sp: u64) -> ! {
    // SAFETY: boot runs once, before anything reads it.
    unsafe { *STARTED_AT_EL2.get() = el == 2 };
    let freq = cntfrq();
    println!(
        "aarch64-kernel: entered at EL{el}{}, running at EL1",
        if el == 2 { " (dropped to EL1)" } else { "" }
    );
    let (seed, seed_source) = seed();
    let rtc = read_rtc();

    // The address space: the kernel's identity map, the program, its stack, the vDSO.
    let mut space = AddressSpace::new();
    let mut mem = UserMemory::default();
    let loaded = loader::load(&mut space, &mut |r| mem.add(r));
    space.map_fresh(STACK_TOP - STACK_SIZE, STACK_SIZE, pte::U | pte::R | pte::W);
    mem.add(Region { start: STACK_TOP - STACK_SIZE, end: STACK_TOP, writable: true });

    let data_pages = IMAGE.data_pages();
    let total_pages = data_pages + IMAGE.pages();
    let map_va = process::random_base(seed, VDSO_LO, VDSO_HI, total_pages);
    let vdso = map_va + data_pages * PAGE_SIZE;
    let data_page = mm::alloc_page();
    // Outside a time namespace the slot holds nothing the image reads; map a zero page there.
    let slot_page = mm::alloc_page();
    let ns_page = mm::alloc_page();
    assert_eq!(data_pages, 2);
    assert_eq!(IMAGE.timens_page(), 1);
    // docs/abi.md §1: data pages read-only for the process, the image read + execute, unchanged.
    space.map(map_va, data_page, pte::U | pte::R);
    space.map(map_va + PAGE_SIZE, slot_page, pte::U | pte::R);
    // The image must speak this layout (its ELF machine and its own layout note), or its first
    // call would read the data page at the wrong offsets.
    ArchLayout::of(Arch::Aarch64)
        .check_image(IMAGE.bytes())
        .expect("the embedded image speaks the aarch64 layout");
    let image = IMAGE.bytes().as_ptr() as usize;
    for i in 0..IMAGE.pages() {
        space.map(vdso + i * PAGE_SIZE, image + i * PAGE_SIZE, pte::U | pte::R | pte::X);
    }
    mem.add(Region { start: map_va, end: vdso + IMAGE.pages() * PAGE_SIZE, writable: false });
    let sym = IMAGE.symbol("__kernel_rt_sigreturn").expect("the image exports __kernel_rt_sigreturn");
    let sigreturn = (vdso + sym.offset as usize, vdso + (sym.offset + sym.size.max(1)) as usize);

    // Timekeeping: MONOTONIC counts from the counter's reset, REALTIME from the RTC.
    let now = cntvct();
    let (clocks, mult, shift) = Clocks::start(freq, now, Some(rtc as i128), IMAGE.hz());
    let realtime = clocks.realtime_start();
    let pair = NonNull::new(vdso_data_ptr::<aarch64::ArchData>(data_page as *mut u8)).unwrap();
    // SAFETY: `data_page` is a pool page owned by this kernel; this writer is its only writer
    // (the kernel runs on one CPU with interrupts masked) and the program only reads it.
    let mut writer = unsafe { SeqlockWriter::new(pair) };
    clocks.tk.publish(&mut writer);
    let tick_cycles = freq / IMAGE.hz() as u64;

    println!(
        "aarch64-kernel: CNTFRQ_EL0 {freq} Hz, mult {mult} shift {shift}, tick {} Hz = {tick_cycles} counts \
         (virtual timer, INTID {})",
        IMAGE.hz(),
        gic::VTIMER_INTID
    );
    println!("aarch64-kernel: realtime {}.{:09} from the PL031 RTC", realtime.sec, realtime.nsec);
    println!(
        "aarch64-kernel: vDSO mapped at {map_va:#x}: data {map_va:#x} (EL0 R), timens slot {:#x} (EL0 R), \
         image {vdso:#x} (EL0 R+X, {} page) [seed from {seed_source}]",
        map_va + PAGE_SIZE,
        IMAGE.pages()
    );
    println!(
        "aarch64-kernel: __kernel_rt_sigreturn at image+{:#x} = {:#x} (generated table)",
        sym.offset, sigreturn.0
    );

    mm::activate(&space);
    let sp = loader::build_stack(STACK_TOP, &loaded, vdso, process::at_random(seed));
    println!(
        "aarch64-kernel: user program entry {:#x}, sp {sp:#x}, {} pool pages used; entering EL0",
        loaded.entry,
        mm::pages_used()
    );

    // SAFETY: boot runs once, before any exception; nothing else holds this global.
    let k = unsafe { KERNEL.get() };
    let next_tick = cntvct() + tick_cycles;
    *k = Some(Kernel {
        space,
        process: Process::new(mem, clocks),
        freq,
        writer,
        tick_cycles,
        next_tick,
        map_va,
        vdso,
        data_page,
        ns_page,
        sigreturn,
        stats: Stats::default(),
        boot_cycles: now,
        seed_source,
    });
    gic::init(gic::VTIMER_INTID);
    println!("aarch64-kernel: interrupt controller {:?} (ID_AA64PFR0_EL1.GIC)", gic::version());
    // The frame sits just below the kernel stack's top, where every exception from EL0 builds it.
    let frame_addr = kernel_sp as usize - FRAME_SIZE;
    // SAFETY: the top FRAME_SIZE bytes of the boot stack are not in use by this function's frame
    // (it lives further down); from here on they are only the trap frame.
    let frame = unsafe {
        core::ptr::write_bytes(frame_addr as *mut u8, 0, FRAME_SIZE);
        &mut *(frame_addr as *mut TrapFrame)
    };
    frame.regs[reg::PC] = loaded.entry as u64;
    frame.regs[reg::SP] = sp as u64;
    frame.regs[reg::PSTATE] = 0; // EL0t, nothing masked
                                 // SAFETY: the vector table is in place before the first exception can come; EL0 may read the
                                 // virtual counter; the timer fires first at `next_tick`; the caches see the program's code
                                 // (the loader wrote it with data stores). `trap_return` drops to EL0 and never returns.
    unsafe {
        asm!(
            "msr vbar_el1, {vec}",
            "msr cntkctl_el1, {kctl}",
            "msr cntv_cval_el0, {cval}",
            "msr cntv_ctl_el0, {one}",
            "dsb ish",
            "ic iallu",
            "dsb ish",
            "isb",
            vec = in(reg) crate::trap::vectors as *const () as usize,
            kctl = in(reg) CNTKCTL_EL0VCTEN,
            cval = in(reg) next_tick,
            one = in(reg) 1u64,
        );
        crate::trap::trap_return(frame)
    }
}

/// Every exception from EL0 lands here (from the vectors, on the kernel stack).
#[unsafe(no_mangle)]
pub extern "C" fn trap_handler(frame: &mut TrapFrame, what: u64) -> *mut TrapFrame {
    // SAFETY: one exception at a time (see `Global`); the reference dies before we return.
    let k = unsafe { KERNEL.get() }.as_mut().expect("exception before boot finished");
    if what == kind::IRQ {
        let iar = gic::ack();
        let id = gic::intid(iar);
        if id == gic::VTIMER_INTID {
            k.stats.timer_irqs += 1;
            k.tick();
        }
        if id < gic::SPURIOUS {
            gic::eoi(iar);
        }
    } else {
        let (esr, far): (u64, u64);
        // SAFETY: reading the syndrome registers has no side effects.
        unsafe { asm!("mrs {0}, esr_el1", "mrs {1}, far_el1", out(reg) esr, out(reg) far) };
        if esr >> 26 == EC_SVC64 {
            k.stats.svcs += 1;
            // ELR_EL1 is the instruction after the `svc`.
            let pc = frame.regs[reg::PC] as usize - 4;
            k.syscall(frame, pc);
        } else {
            println!(
                "aarch64-kernel: EL0 fault: ESR {esr:#x} FAR {far:#x} pc {:#x} x30 {:#x}",
                frame.regs[reg::PC],
                frame.regs[reg::LR]
            );
            k.finish(1);
        }
    }
    k.deliver_signal(frame);
    frame
}

/// An exception taken at EL1 (which only a kernel bug causes): say so and stop, rather than hang
/// until the test's timeout. `vector` is the entry's index in the table.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_fault(vector: u64) -> ! {
    let (esr, elr, far): (u64, u64, u64);
    // SAFETY: reading the syndrome registers has no side effects.
    unsafe {
        asm!("mrs {0}, esr_el1", "mrs {1}, elr_el1", "mrs {2}, far_el1", out(reg) esr, out(reg) elr, out(reg) far)
    };
    panic!("exception in the kernel: vector {vector} ESR {esr:#x} ELR {elr:#x} FAR {far:#x}")
}

impl Kernel {
    /// The timer tick: advance the timekeeper to "counter now" and publish (docs/abi.md §5a: every
    /// tick, interrupts masked, single writer), then re-arm the virtual timer (a new compare value
    /// also lowers its interrupt).
    fn tick(&mut self) {
        let now = cntvct();
        self.process.clocks.tk.advance(now);
        self.process.clocks.tk.publish(&mut self.writer);
        while self.next_tick <= now {
            self.next_tick += self.tick_cycles;
        }
        // SAFETY: writing the virtual timer's compare value only re-arms it.
        unsafe { asm!("msr cntv_cval_el0, {0}", "isb", in(reg) self.next_tick) };
        self.process.sig.tick(now);
    }

    fn in_image(&self, pc: usize) -> bool {
        pc >= self.vdso && pc < self.vdso + IMAGE.load_size()
    }

    fn syscall(&mut self, frame: &mut TrapFrame, pc: usize) {
        let from_image = self.in_image(pc);
        let mut out = |bytes: &[u8]| bytes.iter().copied().for_each(console::putchar);
        let clock = (cntvct(), self.freq);
        let own = self.process.syscall_in_regs(&mut frame.regs, reg::SYSCALL, clock, from_image, &mut out);
        let Some((nr, a)) = own else { return };
        let ret: isize = match nr {
            proto::SYS_EXIT | proto::SYS_EXIT_GROUP => self.finish(a[0] as i32),
            proto::SYS_RT_SIGRETURN => {
                self.sigreturn(frame, pc);
                return;
            }
            proto::SYS_ENTER_TIMENS => self.enter_timens(a[0] as i64),
            _ => -38, // ENOSYS
        };
        frame.regs[reg::X0] = ret as u64;
    }

    /// Moves the process into a time namespace `offset_sec` seconds ahead: the namespace page
    /// goes to page 0 and the real data page to the timens slot (docs/abi.md §4).
    fn enter_timens(&mut self, offset_sec: i64) -> isize {
        // SAFETY: `ns_page` is ours, not yet mapped anywhere, so nobody reads it yet.
        unsafe { self.process.write_timens::<aarch64::ArchData>(self.ns_page, offset_sec) };
        self.space.map(self.map_va, self.ns_page, pte::U | pte::R);
        self.space.map(self.map_va + PAGE_SIZE, self.data_page, pte::U | pte::R);
        mm::activate(&self.space);
        0
    }

    /// Delivers one pending, unblocked signal by building Linux's arm64 `rt_sigframe` (siginfo,
    /// ucontext with the `fpsimd_context` record in `__reserved`) and a frame record on the user
    /// stack, and entering the handler with x30 = `__kernel_rt_sigreturn` (or `sa_restorer`).
    fn deliver_signal(&mut self, frame: &mut TrapFrame) {
        let taken = self.process.take_signal(WHO).unwrap_or_else(|code| self.finish(code));
        let Some((sig, act)) = taken else { return };
        // The frame record { x29, x30 } sits right above the rt_sigframe, as Linux puts it.
        let total = proto::RT_SIGFRAME_SIZE + 16;
        let begun = self.process.begin_sigframe(frame.regs[reg::SP] as usize, total, sig, WHO);
        let f = begun.unwrap_or_else(|code| self.finish(code));
        let mc = f.uc + proto::UC_MCONTEXT;
        let record = f.sf + proto::RT_SIGFRAME_SIZE;
        // SAFETY: the frame lies inside the writable user stack (checked).
        unsafe {
            // uc_mcontext = { fault_address, regs[31], sp, pc, pstate, __reserved }.
            ((mc + proto::SC_REGS) as *mut [u64; 34]).write(frame.regs);
            let fp = mc + proto::SC_RESERVED;
            (fp as *mut u32).write(FPSIMD_MAGIC);
            ((fp + 4) as *mut u32).write(FPSIMD_SIZE);
            ((fp + 8) as *mut u32).write(frame.fpsr);
            ((fp + 12) as *mut u32).write(frame.fpcr);
            ((fp + 16) as *mut [u128; 32]).write(frame.vregs);
            // The terminating null record follows (already zero).
            (record as *mut [u64; 2]).write([frame.regs[reg::FP], frame.regs[reg::LR]]);
        }
        let ret = if act.flags & SA_RESTORER != 0 {
            act.restorer
        } else {
            self.stats.x30_to_vdso += 1;
            self.sigreturn.0 as u64
        };
        self.process.enter_handler(&mut frame.regs, reg::ENTRY, (sig, act), ret, f);
        frame.regs[reg::FP] = record as u64;
        self.stats.signals_delivered += 1;
    }

    /// `rt_sigreturn`: restore every register, the FP/SIMD state and the signal mask from the
    /// frame at `sp`. PSTATE keeps only the condition flags the program may set (EL0t, nothing
    /// masked), as Linux's `valid_user_regs` insists.
    fn sigreturn(&mut self, frame: &mut TrapFrame, pc: usize) {
        if pc >= self.sigreturn.0 && pc < self.sigreturn.1 {
            self.stats.sigreturn_via_vdso += 1;
        } else {
            self.stats.sigreturn_other += 1;
        }
        let sf = frame.regs[reg::SP] as usize;
        let uc = sf + proto::SIGINFO_SIZE;
        let mc = uc + proto::UC_MCONTEXT;
        let fp = mc + proto::SC_RESERVED;
        let mem = &self.process.mem;
        let (Some((regs, mask)), Some([magic, size, fpsr, fpcr]), Some(vregs)) = (
            self.process.read_sigframe::<[u64; 34]>(uc, mc + proto::SC_REGS),
            mem.read::<[u32; 4]>(fp),
            mem.read::<[u128; 32]>(fp + 16),
        ) else {
            println!("{WHO}: rt_sigreturn with a bad frame at {sf:#x}");
            self.finish(1)
        };
        if magic != FPSIMD_MAGIC || size != FPSIMD_SIZE {
            println!("aarch64-kernel: rt_sigreturn: no fpsimd_context at {fp:#x}");
            self.finish(1);
        }
        frame.regs = regs;
        frame.regs[reg::PSTATE] &= 0xf000_0000;
        frame.vregs = vregs;
        frame.fpsr = fpsr;
        frame.fpcr = fpcr;
        self.process.sig.restore_mask(mask);
    }

    /// Prints the report and powers off.
    fn finish(&mut self, code: i32) -> ! {
        let elapsed = cntvct().wrapping_sub(self.boot_cycles);
        let ms = elapsed as u128 * 1000 / self.freq as u128;
        let s = &self.stats;
        let r = self.process.report.unwrap_or_default();
        let c = &self.process.clock_stats;
        let fallback = c.fallback_gettime + c.fallback_getres;
        let ok = code == 0
            && self.process.common_ok(s.signals_delivered, s.sigreturn_via_vdso, s.sigreturn_other)
            && s.x30_to_vdso == 2
            && r.arch_checks_ok == 1;
        println!(
            "aarch64-kernel: exit code {code}; exceptions from EL0: {} svc, {} timer interrupts",
            s.svcs, s.timer_irqs
        );
        println!(
            "VDSO-KERNEL-REPORT: {} served_svcs={} fallback_svcs={fallback} \
             {} signals={} x30_to_vdso={} sigreturn_via_vdso={} sigreturn_other={} \
             handler_x30_ok={} frame_restored={} arch_checks_ok={} timens_ok={} {} ticks={} failures={} \
             vdso_base={:#x} seed={} el_entry={} gic={:?} cntfrq={} user_run_ms={} total_ms={ms}",
            if ok { "ok" } else { "fail" },
            c.served,
            self.process.report_calls(),
            s.signals_delivered,
            s.x30_to_vdso,
            s.sigreturn_via_vdso,
            s.sigreturn_other,
            r.handler_ra_is_vdso_sigreturn,
            r.sigreturn_restored_frame,
            r.arch_checks_ok,
            r.timens_ok,
            self.process.report_clocks(),
            s.timer_irqs,
            r.failures,
            self.vdso,
            self.seed_source,
            if started_at_el2() { 2 } else { 1 },
            gic::version(),
            self.freq,
            r.run_ns / 1_000_000,
        );
        crate::power_off(started_at_el2())
    }
}
