//! The kernel proper: boot, the vDSO mapping, timekeeping, syscalls and signals.

use core::ptr::NonNull;

use linux_vdso::{Arch, Image};
use vdso_abi::riscv64;
use vdso_kernel_stub::layout::vdso_data_ptr;
use vdso_kernel_stub::update::set_hwprobe;
use vdso_kernel_stub::SeqlockWriter;

use crate::fdt::{be_number, Fdt};
use crate::loader::{self, Region};
use crate::mm::{self, pte, AddressSpace, PAGE_SIZE};
use crate::process::{self, splitmix, Clocks, Process, UserMemory};
use crate::proto;
use crate::trap::{reg, TrapFrame};
use crate::{println, rdtime, sbi, Global};

/// The image this kernel maps.
const IMAGE: Image = Image::get(Arch::Riscv64);
// The image's variant row is laid out for this kernel's pages (data pages and text alike).
const _: () = assert!(IMAGE.page_size() == PAGE_SIZE);
/// The kernel's name on the console.
const WHO: &str = "riscv-kernel";
/// Where the program's stack ends (grows down from here).
const STACK_TOP: usize = 0x3f_f000_0000;
const STACK_SIZE: usize = 64 * 1024;
/// The vDSO lands at a random page in `[VDSO_LO, VDSO_HI)`.
const VDSO_LO: usize = 0x10_0000_0000;
const VDSO_HI: usize = 0x30_0000_0000;

const SIE_STIE: usize = 1 << 5;
const SSTATUS_SPIE: usize = 1 << 5;
const SSTATUS_SPP: usize = 1 << 8;
const SSTATUS_FS_INITIAL: usize = 1 << 13;
const SSTATUS_SUM: usize = 1 << 18;
const SCOUNTEREN_TM: usize = 1 << 1;
const SCAUSE_INTERRUPT: usize = 1 << 63;
const IRQ_S_TIMER: usize = 5;
const EXC_ECALL_U: usize = 8;

/// What the kernel counts (every trap from user mode).
#[derive(Default)]
struct Stats {
    ecalls: u64,
    timer_irqs: u64,
    /// getcpu / riscv_flush_icache made from inside the image.
    passthrough_from_vdso: u64,
    signals_delivered: u64,
    /// rt_sigreturn ecalls made from `__vdso_rt_sigreturn`.
    sigreturn_via_vdso: u64,
    sigreturn_other: u64,
}

/// Everything the kernel knows after boot.
struct Kernel {
    space: AddressSpace,
    process: Process,
    freq: u64,
    writer: SeqlockWriter<riscv64::ArchData>,
    tick_cycles: u64,
    next_tick: u64,
    /// The mapping `[data | timens slot | image]` in user space.
    map_va: usize,
    /// The image (`AT_SYSINFO_EHDR`).
    vdso: usize,
    /// The real data page and the page a time namespace maps at page 0 (physical addresses).
    data_page: usize,
    ns_page: usize,
    /// `__vdso_rt_sigreturn` as `[start, end)` in user space, from the generated table.
    sigreturn: (usize, usize),
    stats: Stats,
    boot_cycles: u64,
    seed_source: &'static str,
}

static KERNEL: Global<Option<Kernel>> = Global::new(None);
static FRAME: Global<TrapFrame> = Global::new(TrapFrame { regs: [0; 32], kernel_sp: 0 });

/// A 64-bit seed: `/chosen/rng-seed` or `kaslr-seed` if the firmware passed one, mixed with the
/// counter either way.
fn seed(fdt: Option<&Fdt>) -> (u64, &'static str) {
    let mut s = rdtime();
    let mut source = "time-csr";
    if let Some(fdt) = fdt {
        for (name, label) in [("rng-seed", "rng-seed"), ("kaslr-seed", "kaslr-seed")] {
            if let Some(v) = fdt.prop(&["chosen"], name) {
                for chunk in v.chunks(8) {
                    let mut b = [0u8; 8];
                    b[..chunk.len()].copy_from_slice(chunk);
                    s = splitmix(s ^ u64::from_le_bytes(b));
                }
                source = label;
                break;
            }
        }
    }
    (splitmix(s), source)
}

/// Wall-clock time from the goldfish RTC QEMU's `virt` machine has, in ns since the epoch
/// (read once at boot, with the MMU still off).
fn read_rtc(fdt: Option<&Fdt>) -> Option<u64> {
    let reg = fdt?.reg_of_compatible("google,goldfish-rtc")?;
    let base = be_number(reg.get(..8)?)? as usize;
    // SAFETY: the device tree says a goldfish RTC lives at `base`; its TIME_LOW register (offset
    // 0) latches TIME_HIGH (offset 4) when read, so read low first. Paging is still off.
    unsafe {
        let lo = core::ptr::read_volatile(base as *const u32) as u64;
        let hi = core::ptr::read_volatile((base + 4) as *const u32) as u64;
        Some(hi << 32 | lo)
    }
}

/// Boots: called once from `_start` on the boot stack; never returns.
pub fn boot(hart: usize, dtb: usize, kernel_sp: u64) -> ! {
    println!("riscv-kernel: hart {hart}, device tree at {dtb:#x}");
    // SAFETY: OpenSBI passes the address of the device tree in a1; paging is off.
    let fdt = unsafe { Fdt::from_ptr(dtb as *const u8) };
    let freq = fdt
        .as_ref()
        .and_then(|f| f.prop(&["cpus"], "timebase-frequency"))
        .and_then(be_number)
        .unwrap_or_else(|| panic!("no /cpus/timebase-frequency in the device tree"));
    let (seed, seed_source) = seed(fdt.as_ref());
    let rtc = read_rtc(fdt.as_ref());

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
    // The image must speak this layout (its ELF machine and its own layout note), or its
    // first call would read the data page at the wrong offsets.
    vdso_kernel_stub::ArchLayout::RISCV64
        .check_image(IMAGE.bytes())
        .expect("the embedded image speaks the riscv64 layout");
    let image = IMAGE.bytes().as_ptr() as usize;
    for i in 0..IMAGE.pages() {
        space.map(vdso + i * PAGE_SIZE, image + i * PAGE_SIZE, pte::U | pte::R | pte::X);
    }
    mem.add(Region { start: map_va, end: vdso + IMAGE.pages() * PAGE_SIZE, writable: false });
    let sym = IMAGE.symbol("__vdso_rt_sigreturn").expect("the image exports __vdso_rt_sigreturn");
    let sigreturn = (vdso + sym.offset as usize, vdso + (sym.offset + sym.size.max(1)) as usize);

    // Timekeeping: MONOTONIC counts from the counter's reset, REALTIME from the RTC.
    let now = rdtime();
    let (clocks, mult, shift) = Clocks::start(freq, now, rtc.map(|ns| ns as i128), IMAGE.hz());
    let realtime = clocks.realtime_start();
    let pair = NonNull::new(vdso_data_ptr::<riscv64::ArchData>(data_page as *mut u8)).unwrap();
    // SAFETY: `data_page` is a pool page owned by this kernel; this writer is its only writer
    // (the kernel runs on one hart with interrupts off) and the program only reads it.
    let mut writer = unsafe { SeqlockWriter::new(pair) };
    writer.update(|vd| set_hwprobe(vd, proto::HWPROBE_VALUES, true));
    clocks.tk.publish(&mut writer);
    let tick_cycles = freq / IMAGE.hz() as u64;

    println!(
        "riscv-kernel: timebase {freq} Hz (from /cpus/timebase-frequency), mult {mult} shift {shift}, \
         tick {} Hz = {tick_cycles} cycles",
        IMAGE.hz()
    );
    println!(
        "riscv-kernel: realtime {}.{:09} from {}",
        realtime.sec,
        realtime.nsec,
        if rtc.is_some() { "goldfish RTC" } else { "a fixed default" }
    );
    println!(
        "riscv-kernel: vDSO mapped at {map_va:#x}: data {map_va:#x} (U+R), timens slot {:#x} (U+R), \
         image {vdso:#x} (U+R+X, {} page) [seed from {seed_source}]",
        map_va + PAGE_SIZE,
        IMAGE.pages()
    );
    println!(
        "riscv-kernel: __vdso_rt_sigreturn at image+{:#x} = {:#x} (generated table)",
        sym.offset, sigreturn.0
    );

    mm::activate(&space);
    // SAFETY: enabling SUM lets the kernel build the program's stack through its user mapping.
    unsafe { core::arch::asm!("csrs sstatus, {0}", in(reg) SSTATUS_SUM | SSTATUS_FS_INITIAL) };
    let sp = loader::build_stack(STACK_TOP, &loaded, vdso, process::at_random(seed));
    println!(
        "riscv-kernel: user program entry {:#x}, sp {sp:#x}, {} pool pages used; entering user mode",
        loaded.entry,
        mm::pages_used()
    );

    let next_tick = rdtime() + tick_cycles;
    // SAFETY: boot runs once, before any trap; nothing else holds these globals.
    let (k, frame) = unsafe { (KERNEL.get(), FRAME.get()) };
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
    frame.regs = [0; 32];
    frame.regs[reg::PC] = loaded.entry as u64;
    frame.regs[reg::SP] = sp as u64;
    frame.kernel_sp = kernel_sp;
    sbi::set_timer(next_tick);
    // SAFETY: the trap vector is in place before interrupts can reach us; `sret` goes to user
    // mode (SPP = 0) with interrupts on there; the program may read `time` (scounteren.TM).
    unsafe {
        core::arch::asm!(
            "csrw sscratch, zero",
            "csrw stvec, {vec}",
            "csrw scounteren, {cnt}",
            "csrs sie, {stie}",
            "csrc sstatus, {spp}",
            "csrs sstatus, {spie}",
            vec = in(reg) crate::trap::trap_entry as *const () as usize,
            cnt = in(reg) SCOUNTEREN_TM,
            stie = in(reg) SIE_STIE,
            spp = in(reg) SSTATUS_SPP,
            spie = in(reg) SSTATUS_SPIE,
        );
        crate::trap::trap_return(frame)
    }
}

/// Every trap lands here (from `trap_entry`, on the kernel stack).
#[unsafe(no_mangle)]
pub extern "C" fn trap_handler(frame: &mut TrapFrame) -> *mut TrapFrame {
    let (scause, stval): (usize, usize);
    // SAFETY: reading trap CSRs has no side effects.
    unsafe { core::arch::asm!("csrr {0}, scause", "csrr {1}, stval", out(reg) scause, out(reg) stval) };
    // SAFETY: one trap at a time (see `Global`); the reference dies before we return.
    let k = unsafe { KERNEL.get() }.as_mut().expect("trap before boot finished");
    if scause == SCAUSE_INTERRUPT | IRQ_S_TIMER {
        k.stats.timer_irqs += 1;
        k.tick();
    } else if scause == EXC_ECALL_U {
        k.stats.ecalls += 1;
        let pc = frame.regs[reg::PC] as usize;
        frame.regs[reg::PC] += 4;
        k.syscall(frame, pc);
    } else {
        println!(
            "riscv-kernel: user fault: scause {scause:#x} stval {stval:#x} pc {:#x} ra {:#x}",
            frame.regs[reg::PC],
            frame.regs[reg::RA]
        );
        k.finish(1);
    }
    k.deliver_signal(frame);
    frame
}

/// A trap taken while the kernel itself ran (which only a kernel bug causes): say so and stop,
/// rather than hang until the test's timeout.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_fault() -> ! {
    let (scause, sepc, stval): (usize, usize, usize);
    // SAFETY: reading trap CSRs has no side effects.
    unsafe {
        core::arch::asm!("csrr {0}, scause", "csrr {1}, sepc", "csrr {2}, stval",
                         out(reg) scause, out(reg) sepc, out(reg) stval)
    };
    panic!("trap in the kernel: scause {scause:#x} sepc {sepc:#x} stval {stval:#x}")
}

impl Kernel {
    /// The timer tick: advance the timekeeper to "counter now" and publish (docs/abi.md §5a: every
    /// tick, interrupts off, single writer), then re-arm.
    fn tick(&mut self) {
        let now = rdtime();
        self.process.clocks.tk.advance(now);
        self.process.clocks.tk.publish(&mut self.writer);
        while self.next_tick <= now {
            self.next_tick += self.tick_cycles;
        }
        sbi::set_timer(self.next_tick);
        self.process.sig.tick(now);
    }

    fn in_image(&self, pc: usize) -> bool {
        pc >= self.vdso && pc < self.vdso + IMAGE.load_size()
    }

    fn syscall(&mut self, frame: &mut TrapFrame, pc: usize) {
        let from_image = self.in_image(pc);
        let mut out = |bytes: &[u8]| bytes.iter().copied().for_each(sbi::putchar);
        let clock = (rdtime(), self.freq);
        let own = self.process.syscall_in_regs(&mut frame.regs, reg::SYSCALL, clock, from_image, &mut out);
        let Some((nr, a)) = own else { return };
        let ret: isize = match nr {
            proto::SYS_EXIT | proto::SYS_EXIT_GROUP => self.finish(a[0] as i32),
            proto::SYS_GETCPU => {
                if self.in_image(pc) {
                    self.stats.passthrough_from_vdso += 1;
                }
                // One hart, one node: 0 and 0.
                self.process.mem.put_getcpu((a[0], a[1]), (0, 0))
            }
            proto::SYS_RISCV_FLUSH_ICACHE => {
                if self.in_image(pc) {
                    self.stats.passthrough_from_vdso += 1;
                }
                // SAFETY: `fence.i` only orders instruction fetches after earlier stores.
                unsafe { core::arch::asm!("fence.i") };
                0
            }
            proto::SYS_RT_SIGRETURN => {
                self.sigreturn(frame, pc);
                return;
            }
            proto::SYS_ENTER_TIMENS => self.enter_timens(a[0] as i64),
            _ => -38, // ENOSYS
        };
        frame.regs[reg::A0] = ret as u64;
    }

    /// Moves the process into a time namespace `offset_sec` seconds ahead: the namespace page
    /// goes to page 0 and the real data page to the timens slot (docs/abi.md §4).
    fn enter_timens(&mut self, offset_sec: i64) -> isize {
        // SAFETY: `ns_page` is ours, not yet mapped anywhere, so nobody reads it yet.
        unsafe { self.process.write_timens::<riscv64::ArchData>(self.ns_page, offset_sec) };
        self.space.map(self.map_va, self.ns_page, pte::U | pte::R);
        self.space.map(self.map_va + PAGE_SIZE, self.data_page, pte::U | pte::R);
        mm::activate(&self.space);
        0
    }

    /// Delivers one pending, unblocked signal by building a Linux `rt_sigframe` on the user
    /// stack and entering the handler with `ra` = `__vdso_rt_sigreturn`.
    fn deliver_signal(&mut self, frame: &mut TrapFrame) {
        let ret = self.sigreturn.0 as u64;
        match self.process.deliver_plain(&mut frame.regs, reg::ENTRY, ret, WHO) {
            Ok(delivered) => self.stats.signals_delivered += delivered as u64,
            Err(code) => self.finish(code),
        }
    }

    /// `rt_sigreturn`: restore every register and the signal mask from the frame at `sp`.
    fn sigreturn(&mut self, frame: &mut TrapFrame, pc: usize) {
        let via_vdso = (self.sigreturn.0..self.sigreturn.1).contains(&pc);
        self.stats.sigreturn_via_vdso += via_vdso as u64;
        self.stats.sigreturn_other += !via_vdso as u64;
        if let Err(code) = self.process.sigreturn_plain(&mut frame.regs, reg::ENTRY, WHO) {
            self.finish(code);
        }
    }

    /// Prints the report and powers off.
    fn finish(&mut self, code: i32) -> ! {
        let elapsed = rdtime().wrapping_sub(self.boot_cycles);
        let ms = elapsed as u128 * 1000 / self.freq as u128;
        let s = &self.stats;
        let r = self.process.report.unwrap_or_default();
        let c = &self.process.clock_stats;
        let served_ecalls = c.served;
        let fallback = c.fallback_gettime + c.fallback_getres;
        let ok = code == 0
            && self.process.common_ok(s.signals_delivered, s.sigreturn_via_vdso, s.sigreturn_other)
            && r.hwprobe_ok == 1
            && r.passthrough_ok == 1
            && s.passthrough_from_vdso == 2;
        println!(
            "riscv-kernel: exit code {code}; traps from user mode: {} ecalls, {} timer interrupts",
            s.ecalls, s.timer_irqs
        );
        println!(
            "VDSO-KERNEL-REPORT: {} served_ecalls={served_ecalls} fallback_ecalls={fallback} \
             {} signals={} sigreturn_via_vdso={} sigreturn_other={} \
             handler_ra_ok={} frame_restored={} hwprobe_ok={} passthrough_from_vdso={} timens_ok={} {} ticks={} failures={} \
             vdso_base={:#x} seed={} user_run_ms={} total_ms={ms}",
            if ok { "ok" } else { "fail" },
            self.process.report_calls(),
            s.signals_delivered,
            s.sigreturn_via_vdso,
            s.sigreturn_other,
            r.handler_ra_is_vdso_sigreturn,
            r.sigreturn_restored_frame,
            r.hwprobe_ok,
            if r.passthrough_ok == 1 { s.passthrough_from_vdso } else { 0 },
            r.timens_ok,
            self.process.report_clocks(),
            s.timer_irqs,
            r.failures,
            self.vdso,
            self.seed_source,
            r.run_ns / 1_000_000,
        );
        sbi::shutdown(!ok)
    }
}
