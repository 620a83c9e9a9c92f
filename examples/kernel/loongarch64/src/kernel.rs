//! The kernel proper: boot, the vDSO mapping, timekeeping, syscalls and signals.

use core::ptr::NonNull;

use linux_vdso::abi::variant::VARIANTS;
use linux_vdso::{Arch, Image, Profile, Variant};
use vdso_abi::loongarch64::{self, NR_CPUS};
use vdso_kernel_stub::arch::loongarch64 as arch;
use vdso_kernel_stub::layout::vdso_data_ptr;
use vdso_kernel_stub::{ArchLayout, SeqlockWriter};

use crate::loader::{self, Region};
use crate::mm::{self, pte, AddressSpace, PAGE_SIZE};
use crate::process::{self, splitmix, Clocks, Process, UserMemory};
use crate::trap::{reg, TrapFrame};
use crate::{console, counter_freq, csr, csrrd, csrwr, now, println, proto, Global};

/// The image this kernel maps: the loongarch64 variant linked for this kernel's page size, or,
/// while the table has none for it, the default one (16 KiB; a 4 KiB kernel then maps each of its
/// pages as four).
const IMAGE: Image = match variant_for(PAGE_SIZE) {
    Some(v) => Image::of(v),
    None => Image::get(Arch::Loongarch64),
};
/// The page size the image's layout is in (its row's): the data pages and the image each start
/// on a multiple of it from the mapping's start.
const VPAGE: usize = IMAGE.page_size();

/// The classic-profile loongarch64 row of the variant table for `page_size`, if there is one.
const fn variant_for(page_size: usize) -> Option<&'static Variant> {
    let mut i = 0;
    while i < VARIANTS.len() {
        let v = &VARIANTS[i];
        if matches!(v.arch, Arch::Loongarch64)
            && matches!(v.profile, Profile::Classic)
            && v.page_size == page_size
        {
            return Some(v);
        }
        i += 1;
    }
    None
}
const _: () = assert!(VPAGE.is_multiple_of(PAGE_SIZE), "a layout page is whole kernel pages");
/// The kernel's name on the console.
const WHO: &str = "loongarch-kernel";
/// Where the program's stack ends (grows down from here).
const STACK_TOP: usize = 0x3f_f000_0000;
const STACK_SIZE: usize = 64 * 1024;
/// The vDSO lands at a random page in `[VDSO_LO, VDSO_HI)`.
const VDSO_LO: usize = 0x10_0000_0000;
const VDSO_HI: usize = 0x30_0000_0000;
/// The `virt` machine's LS7A RTC, uncached window: its TOY counter (date and time fields in
/// TOY_READ0, the year since 1900 in TOY_READ1) counts once RTC_CTRL enables it.
const RTC_BASE: usize = 0x8000_0000_100d_0100;
const RTC_TOY_READ0: usize = RTC_BASE + 0x2c;
const RTC_TOY_READ1: usize = RTC_BASE + 0x30;
const RTC_CTRL: usize = RTC_BASE + 0x40;
/// RTC_CTRL: TOYEN (bit 11) and EO (bit 8, the oscillator).
const RTC_CTRL_TOY_ON: u32 = 1 << 11 | 1 << 8;

/// ESTAT.Ecode of an interrupt and of `syscall`.
const ECODE_INT: u64 = 0x0;
const ECODE_SYS: u64 = 0xb;
/// ESTAT.IS / ECFG.LIE bit of the constant timer.
const IRQ_TIMER: u64 = 1 << 11;
/// PRMD for the program: PPLV 3, PIE (interrupts on after `ertn`).
const PRMD_USER: u64 = 3 | 1 << 2;

/// What the kernel counts (every exception from PLV3).
#[derive(Default)]
struct Stats {
    syscalls: u64,
    timer_irqs: u64,
    signals_delivered: u64,
    /// rt_sigreturn `syscall`s made from `__vdso_rt_sigreturn`.
    sigreturn_via_vdso: u64,
    sigreturn_other: u64,
    /// `SYS_SET_CPU` moves the program asked for.
    cpu_moves: u64,
    /// `getcpu` syscalls made from inside the image (its fallback for a CPU past the slots: the
    /// program calls it twice there, with pointers and with NULL ones).
    getcpu_from_vdso: u64,
}

/// Everything the kernel knows after boot.
struct Kernel {
    space: AddressSpace,
    process: Process,
    freq: u64,
    writer: SeqlockWriter<loongarch64::ArchData>,
    /// The mapping `[data | timens slot | per-CPU | image]` in user space.
    map_va: usize,
    /// The image (`AT_SYSINFO_EHDR`).
    vdso: usize,
    /// The real data page and the page a time namespace maps at page 0 (kernel addresses).
    data_page: usize,
    ns_page: usize,
    /// The per-CPU page and the image's pages as mapped (kernel addresses), and the image's length.
    pcpu_page: usize,
    image: usize,
    image_len: usize,
    /// A second copy of the data page the program sees in a time namespace, when the page itself
    /// cannot be mapped there (`enter_timens`); published every tick like the page.
    mirror: Option<SeqlockWriter<loongarch64::ArchData>>,
    /// `__vdso_rt_sigreturn` as `[start, end)` in user space, from the generated table.
    sigreturn: (usize, usize),
    stats: Stats,
    boot_cycles: u64,
}

static KERNEL: Global<Option<Kernel>> = Global::new(None);
/// The one trap frame (the program's registers while the kernel runs).
static FRAME: Global<TrapFrame> = Global::new(TrapFrame { regs: [0; 33], prmd: 0, kernel_sp: 0 });

/// Wall-clock time from the LS7A RTC's TOY registers, in ns since the epoch; `None` if they do
/// not hold a plausible date.
fn read_rtc() -> Option<i128> {
    // SAFETY: QEMU's `virt` machine has the LS7A RTC there; enabling the TOY counter only starts
    // it, and reading its registers has no side effects.
    let (r0, r1) = unsafe {
        core::ptr::write_volatile(RTC_CTRL as *mut u32, RTC_CTRL_TOY_ON);
        (
            core::ptr::read_volatile(RTC_TOY_READ0 as *const u32),
            core::ptr::read_volatile(RTC_TOY_READ1 as *const u32),
        )
    };
    let (sec, min, hour) = ((r0 >> 4) & 0x3f, (r0 >> 10) & 0x3f, (r0 >> 16) & 0x1f);
    let (day, mon, year) = ((r0 >> 21) & 0x1f, (r0 >> 26) & 0x3f, r1 as i64 + 1900);
    if !(2000..3000).contains(&year) || !(1..=12).contains(&mon) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, mon as i64, day as i64);
    Some(((days * 86400 + hour as i64 * 3600 + min as i64 * 60 + sec as i64) as i128) * 1_000_000_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era arithmetic).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Boots: called once from `_start` on the boot stack; never returns.
pub fn boot(kernel_sp: u64) -> ! {
    // Exceptions first, so a kernel bug is reported (`kernel_fault`) rather than looping.
    csrwr!(csr::EENTRY, crate::trap::exception_entry as *const () as u64); // 4 KiB-aligned entry
    let freq = counter_freq();
    println!("loongarch-kernel: PLV0, paging on, kernel in DMW1 (0x9000...), devices in DMW0 (0x8000...)");
    let rtc = read_rtc();
    // No RNG device on `virt`: the seed is the stable counter (it counts from QEMU's start, so
    // its value at this point differs from boot to boot) mixed with the RTC.
    let seed = splitmix(now() ^ rtc.unwrap_or(0) as u64);

    // The address space: the program, its stack, the vDSO.
    let mut space = AddressSpace::new();
    let mut mem = UserMemory::default();
    let loaded = loader::load(&mut space, &mut |r| mem.add(r));
    space.map_fresh(STACK_TOP - STACK_SIZE, STACK_SIZE, pte::U | pte::R | pte::W);
    mem.add(Region { start: STACK_TOP - STACK_SIZE, end: STACK_TOP, writable: true });

    // The image must speak this layout (its ELF machine and its own layout note), or its first
    // call would read the data pages at the wrong offsets.
    ArchLayout::of_variant(IMAGE.variant())
        .check_image(IMAGE.bytes())
        .expect("the embedded image speaks its loongarch64 row's layout");
    // The image's layout is in its row's pages (`VPAGE`); this kernel's pages may be smaller
    // (4 KiB with the `pages-4k` feature), then each layout page is several kernel pages.
    let data_pages = IMAGE.data_pages();
    assert_eq!((data_pages, IMAGE.timens_page(), loongarch64::PCPU_PAGE), (3, 1, 2));
    let image_len = IMAGE.load_size().next_multiple_of(PAGE_SIZE);
    let map_va = process::random_base(seed, VDSO_LO, VDSO_HI, (data_pages * VPAGE + image_len) / PAGE_SIZE)
        & !(mm::MAP_ALIGN - 1);
    let vdso = map_va + data_pages * VPAGE;
    let data_page = mm::alloc_pages(VPAGE / PAGE_SIZE);
    // Outside a time namespace the slot holds nothing the image reads; map zero pages there.
    let slot_page = mm::alloc_pages(VPAGE / PAGE_SIZE);
    let ns_page = mm::alloc_pages(VPAGE / PAGE_SIZE);
    // The per-CPU page: `vdso_pcpu_data { u32 node }` per CPU slot.
    let pcpu_page = mm::alloc_pages(VPAGE / PAGE_SIZE);
    fill_nodes(pcpu_page);
    // docs/abi.md §1: data pages read-only for the process, the image read + execute, unchanged.
    space.map_range(map_va, data_page, VPAGE, pte::U | pte::R);
    space.map_range(map_va + VPAGE, slot_page, VPAGE, pte::U | pte::R);
    space.map_range(map_va + 2 * VPAGE, pcpu_page, VPAGE, pte::U | pte::R);
    // The image's bytes are mapped where they are when they start on a layout page (the library
    // aligns them to 4 KiB), else copied into fresh pages.
    let bytes = IMAGE.bytes();
    let in_place = (bytes.as_ptr() as usize).is_multiple_of(VPAGE);
    let image = if in_place {
        bytes.as_ptr() as usize
    } else {
        let copy = mm::alloc_pages(image_len / PAGE_SIZE);
        // SAFETY: `copy` is `image_len` >= `bytes.len()` fresh pool bytes.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), copy as *mut u8, bytes.len()) };
        copy
    };
    space.map_range(vdso, image, image_len, pte::U | pte::R | pte::X);
    mem.add(Region { start: map_va, end: vdso + image_len, writable: false });
    let sym = IMAGE.symbol("__vdso_rt_sigreturn").expect("the image exports __vdso_rt_sigreturn");
    let sigreturn = (vdso + sym.offset as usize, vdso + (sym.offset + sym.size.max(1)) as usize);

    // Timekeeping: MONOTONIC counts from the counter's start, REALTIME from the RTC.
    let start = now();
    #[allow(unused_mut)]
    let (mut clocks, mult, shift) = Clocks::start(freq, start, rtc, IMAGE.hz());
    // The test's control: publish `clock_mode = NONE`, so every served call falls back to a
    // syscall, which the count of served syscalls must then see.
    #[cfg(feature = "control-clock-mode-none")]
    clocks.tk.set_clock_mode(0).expect("mode 0 (NONE) is a mode");
    let realtime = clocks.realtime_start();
    let pair = NonNull::new(vdso_data_ptr::<loongarch64::ArchData>(data_page as *mut u8)).unwrap();
    // SAFETY: `data_page` is a pool page owned by this kernel; this writer is its only writer
    // (the kernel runs on one CPU with interrupts off) and the program only reads it.
    let mut writer = unsafe { SeqlockWriter::new(pair) };
    clocks.tk.publish(&mut writer);
    let tick_cycles = (freq / IMAGE.hz() as u64) & !3;

    println!(
        "loongarch-kernel: stable counter {freq} Hz (CPUCFG 4, 5), mult {mult} shift {shift}, tick {} Hz = \
         {tick_cycles} counts (constant timer, periodic)",
        IMAGE.hz()
    );
    println!(
        "loongarch-kernel: realtime {}.{:09} from {}",
        realtime.sec,
        realtime.nsec,
        if rtc.is_some() { "the LS7A RTC" } else { "a default (no RTC date)" }
    );
    println!(
        "loongarch-kernel: {PAGE_SIZE}-byte pages, image laid out in {VPAGE}-byte pages; vDSO mapped at \
         {map_va:#x}: data {map_va:#x} (PLV3 R), timens slot {:#x} (PLV3 R), per-CPU {:#x} (PLV3 R), image \
         {vdso:#x} (PLV3 R+X, {image_len} bytes, {})",
        map_va + VPAGE,
        map_va + 2 * VPAGE,
        match (in_place, mm::maps_in_place(image)) {
            (true, true) => "in place",
            (true, false) => "copied into a whole 16 KiB block (QEMU 7.2, see mm.rs)",
            _ => "copied: the embedded bytes are not aligned to the layout's page size",
        }
    );
    println!(
        "loongarch-kernel: __vdso_rt_sigreturn at image+{:#x} = {:#x} (generated table)",
        sym.offset, sigreturn.0
    );

    mm::activate(&space);
    let sp = loader::build_stack(STACK_TOP, &loaded, vdso, process::at_random(seed));
    println!(
        "loongarch-kernel: user program entry {:#x}, sp {sp:#x}, {} pool pages used; entering PLV3",
        loaded.entry,
        mm::pages_used()
    );

    // SAFETY: boot runs once, before any exception; nothing else holds this global.
    let k = unsafe { KERNEL.get() };
    *k = Some(Kernel {
        space,
        process: Process::new(mem, clocks),
        freq,
        writer,
        map_va,
        vdso,
        data_page,
        ns_page,
        pcpu_page,
        image,
        image_len,
        mirror: None,
        sigreturn,
        stats: Stats::default(),
        boot_cycles: start,
    });
    // SAFETY: boot runs once; the frame is only touched by the exception entry from now on.
    let frame = unsafe { FRAME.get() };
    frame.regs[reg::PC] = loaded.entry as u64;
    frame.regs[reg::SP] = sp as u64;
    frame.prmd = PRMD_USER;
    frame.kernel_sp = kernel_sp;
    // This CPU's number, what `rdtime.d` and so `__vdso_getcpu` report.
    csrwr!(csr::TID, 0);
    // PLV3 may `rdtime`: CSR.MISC.DRDTL3 is clear from reset (QEMU 7.2 has no CSR.MISC at all:
    // `csrwr` to it is an instruction-not-exist exception, so the kernel leaves it alone).
    // Only the timer's interrupt line, one entry for everything (VS 0).
    csrwr!(csr::ECFG, IRQ_TIMER);
    // Nothing pending yet; then En | Periodic, every `tick_cycles` counts.
    csrwr!(csr::TICLR, 1);
    csrwr!(csr::TCFG, tick_cycles | 0b11);
    // SAFETY: the entry points, the page table and the frame are in place; `trap_return` enters
    // PLV3 with interrupts on and never returns.
    unsafe { crate::trap::trap_return(frame) }
}

/// Fills the per-CPU page: one `vdso_pcpu_data { u32 node }` per CPU slot, as Linux's
/// `init_vdso` does with `cpu_to_node`. This machine has one CPU and one node; the kernel
/// publishes a made-up topology of two nodes (even CPUs on node 0, odd ones on node 1) so the
/// program can tell a node read from the page from a constant 0 (see `SYS_SET_CPU`).
fn fill_nodes(page: usize) {
    for cpu in 0..NR_CPUS {
        // SAFETY: `page` is a fresh pool page, aligned to the page size (so to 64), with room
        // for the classic row's `NR_CPUS` 64-byte slots (the image this kernel maps).
        let stored =
            unsafe { arch::store_cpu_node(page as *mut u8, cpu as u32, node_of(cpu) as u32, NR_CPUS) };
        assert!(stored);
    }
}

/// The node the kernel publishes for `cpu`.
fn node_of(cpu: usize) -> usize {
    cpu & 1
}

/// Every exception from PLV3 lands here (from `exception_entry`, on the kernel stack).
#[unsafe(no_mangle)]
pub extern "C" fn trap_handler(frame: &mut TrapFrame) -> *mut TrapFrame {
    // SAFETY: one exception at a time (see `Global`); the reference dies before we return.
    let k = unsafe { KERNEL.get() }.as_mut().expect("exception before boot finished");
    let estat = csrrd!(csr::ESTAT);
    let ecode = (estat >> 16) & 0x3f;
    if ecode == ECODE_INT && estat & IRQ_TIMER != 0 {
        csrwr!(csr::TICLR, 1); // acknowledge the timer
        k.stats.timer_irqs += 1;
        k.tick();
    } else if ecode == ECODE_SYS {
        k.stats.syscalls += 1;
        // ERA is the `syscall` instruction itself: return past it.
        let pc = frame.regs[reg::PC] as usize;
        frame.regs[reg::PC] += 4;
        k.syscall(frame, pc);
    } else {
        println!(
            "loongarch-kernel: PLV3 exception: ESTAT {estat:#x} (Ecode {ecode:#x}) BADV {:#x} pc {:#x} \
             ra {:#x}",
            csrrd!(csr::BADV),
            frame.regs[reg::PC],
            frame.regs[reg::RA]
        );
        k.finish(1);
    }
    k.deliver_signal(frame);
    frame
}

/// An exception taken at PLV0 (which only a kernel bug causes): say so and stop, rather than hang
/// until the test's timeout.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_fault() -> ! {
    panic!(
        "exception in the kernel: ESTAT {:#x} ERA {:#x} BADV {:#x}",
        csrrd!(csr::ESTAT),
        csrrd!(csr::ERA),
        csrrd!(csr::BADV)
    )
}

impl Kernel {
    /// The timer tick: advance the timekeeper to "counter now" and publish (docs/abi.md §5a: every
    /// tick, interrupts off, single writer). The constant timer reloads itself (periodic).
    fn tick(&mut self) {
        let now = now();
        self.process.clocks.tk.advance(now);
        self.process.clocks.tk.publish(&mut self.writer);
        if let Some(mirror) = self.mirror.as_mut() {
            self.process.clocks.tk.publish(mirror);
        }
        self.process.sig.tick(now);
    }

    fn in_image(&self, pc: usize) -> bool {
        pc >= self.vdso && pc < self.vdso + IMAGE.load_size()
    }

    fn syscall(&mut self, frame: &mut TrapFrame, pc: usize) {
        let from_image = self.in_image(pc);
        let mut out = |bytes: &[u8]| bytes.iter().copied().for_each(console::putchar);
        let clock = (now(), self.freq);
        let own = self.process.syscall_in_regs(&mut frame.regs, reg::SYSCALL, clock, from_image, &mut out);
        let Some((nr, a)) = own else { return };
        let ret: isize = match nr {
            proto::SYS_EXIT | proto::SYS_EXIT_GROUP => self.finish(a[0] as i32),
            proto::SYS_RT_SIGRETURN => {
                self.sigreturn(frame, pc);
                return;
            }
            proto::SYS_ENTER_TIMENS => self.enter_timens(a[0] as i64),
            proto::SYS_GETCPU => {
                self.stats.getcpu_from_vdso += from_image as u64;
                self.getcpu(a[0], a[1])
            }
            proto::SYS_SET_CPU => self.set_cpu(a[0]),
            _ => -38, // ENOSYS
        };
        frame.regs[reg::A0] = ret as u64;
    }

    /// `getcpu(cpu, node)`: the kernel's own answer (CSR.TID and the node it published), for the
    /// program to compare with the image's.
    fn getcpu(&mut self, cpu: usize, node: usize) -> isize {
        let id = csrrd!(csr::TID) as usize;
        self.process.mem.put_getcpu((cpu, node), (id as u32, node_of(id) as u32))
    }

    /// Runs the program on CPU `cpu` from now on: what Linux does when it moves a task is to
    /// resume it on a CPU whose `CSR.TID` is that CPU's number; here the one CPU takes the number.
    fn set_cpu(&mut self, cpu: usize) -> isize {
        if cpu >= proto::MAX_CPUS {
            return -proto::EINVAL;
        }
        csrwr!(csr::TID, cpu as u64); // the CPU number the program now runs on
        self.stats.cpu_moves += 1;
        0
    }

    /// Moves the process into a time namespace `offset_sec` seconds ahead: the namespace page
    /// goes to page 0 and the real data page to the timens slot (docs/abi.md §4).
    fn enter_timens(&mut self, offset_sec: i64) -> isize {
        // SAFETY: `ns_page` is ours, not yet mapped anywhere, so nobody reads it yet.
        unsafe { self.process.write_timens::<loongarch64::ArchData>(self.ns_page, offset_sec) };
        self.space.map_range(self.map_va, self.ns_page, VPAGE, pte::U | pte::R);
        self.space.map_range(self.map_va + VPAGE, self.data_page, VPAGE, pte::U | pte::R);
        // The rest of the layout again, so that under QEMU 7.2's 16 KiB blocks (mm.rs) every
        // page of the block the namespace page now leads comes from one physical block.
        self.space.map_range(self.map_va + 2 * VPAGE, self.pcpu_page, VPAGE, pte::U | pte::R);
        self.space.map_range(self.vdso, self.image, self.image_len, pte::U | pte::R | pte::X);
        // Where the data page is not mapped itself (4 KiB pages under that rule: it had to be
        // copied into the namespace page's block), keep the copy as fresh as the page: a second
        // writer the tick publishes through too. With 16 KiB pages, or on hardware, there is none.
        let seen = self.space.user_kaddr(self.map_va + VPAGE);
        if seen != Some(self.data_page) {
            let copy = seen.expect("the timens slot is mapped");
            let pair = NonNull::new(vdso_data_ptr::<loongarch64::ArchData>(copy as *mut u8)).unwrap();
            // SAFETY: `copy` is a pool page the address space holds for this slot alone; this
            // writer is its only writer (the tick runs with interrupts off on the one CPU).
            let mut mirror = unsafe { SeqlockWriter::new(pair) };
            self.process.clocks.tk.publish(&mut mirror);
            self.mirror = Some(mirror);
            println!(
                "loongarch-kernel: time namespace: the data page is seen through a copy in the namespace \
                 page's 16 KiB block, published every tick too (QEMU 7.2, mm.rs)"
            );
        }
        mm::activate(&self.space);
        0
    }

    /// Delivers one pending, unblocked signal by building Linux's loongarch `rt_sigframe` on the
    /// user stack and entering the handler with `ra` = `__vdso_rt_sigreturn` (loongarch has no
    /// `SA_RESTORER`: the vDSO's trampoline is the only way back, in Linux as here).
    fn deliver_signal(&mut self, frame: &mut TrapFrame) {
        let ret = self.sigreturn.0 as u64;
        match self.process.deliver_plain(&mut frame.regs, reg::ENTRY, ret, WHO) {
            Ok(delivered) => self.stats.signals_delivered += delivered as u64,
            Err(code) => self.finish(code),
        }
    }

    /// `rt_sigreturn`: restore `pc` and every register, and the signal mask, from the frame at
    /// `sp`.
    fn sigreturn(&mut self, frame: &mut TrapFrame, pc: usize) {
        let via_vdso = (self.sigreturn.0..self.sigreturn.1).contains(&pc);
        self.stats.sigreturn_via_vdso += via_vdso as u64;
        self.stats.sigreturn_other += !via_vdso as u64;
        if let Err(code) = self.process.sigreturn_plain(&mut frame.regs, reg::ENTRY, WHO) {
            self.finish(code);
        }
        frame.regs[1] = 0; // r0
    }

    /// Prints the report and powers off.
    fn finish(&mut self, code: i32) -> ! {
        let elapsed = now().wrapping_sub(self.boot_cycles);
        let ms = elapsed as u128 * 1000 / self.freq as u128;
        let s = &self.stats;
        let r = self.process.report.unwrap_or_default();
        let c = &self.process.clock_stats;
        let fallback = c.fallback_gettime + c.fallback_getres;
        let ok = code == 0
            && self.process.common_ok(s.signals_delivered, s.sigreturn_via_vdso, s.sigreturn_other)
            && r.arch_checks_ok == 1
            && r.getcpu_ok == s.cpu_moves as u32 + 1
            && s.cpu_moves >= 3
            && s.getcpu_from_vdso == 2;
        println!(
            "loongarch-kernel: exit code {code}; exceptions from PLV3: {} syscall, {} timer interrupts",
            s.syscalls, s.timer_irqs
        );
        println!(
            "VDSO-KERNEL-REPORT: {} served_syscalls={} fallback_syscalls={fallback} \
             {} signals={} sigreturn_via_vdso={} sigreturn_other={} \
             handler_ra_ok={} frame_restored={} arch_checks_ok={} getcpu_ok={} cpu_moves={} \
             getcpu_from_vdso={} timens_ok={} \
             {} ticks={} \
             failures={} vdso_base={:#x} page_size={PAGE_SIZE} layout_page_size={VPAGE} counter_hz={} \
             user_run_ms={} total_ms={ms}",
            if ok { "ok" } else { "fail" },
            c.served,
            self.process.report_calls(),
            s.signals_delivered,
            s.sigreturn_via_vdso,
            s.sigreturn_other,
            r.handler_ra_is_vdso_sigreturn,
            r.sigreturn_restored_frame,
            r.arch_checks_ok,
            r.getcpu_ok,
            s.cpu_moves,
            s.getcpu_from_vdso,
            r.timens_ok,
            self.process.report_clocks(),
            s.timer_irqs,
            r.failures,
            self.vdso,
            self.freq,
            r.run_ns / 1_000_000,
        );
        crate::power_off()
    }
}
