//! The CPU's own tables and registers: port I/O, MSRs, CPUID, each CPU's GDT (with the
//! CPU-number segment `getcpu` reads with `lsl`), TSS and `TSC_AUX` (what `rdpid` reads), the
//! IDT, the `syscall` MSRs, the local APIC (timer, inter-processor interrupts), and the PIT
//! the TSC is calibrated against.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

use vdso_abi::x86_64::GDT_CPUNODE_SELECTOR;

use crate::boot::{self, PerCpu, MAX_CPUS, STACK_SIZE, TRAP_STACKS};

/// Kernel code and data selectors, then the user's (`STAR` needs user data before user code).
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data.
pub const KERNEL_DS: u16 = 0x10;
/// User data (`0x18 | 3`).
pub const USER_DS: u64 = 0x1b;
/// User code (`0x20 | 3`).
pub const USER_CS: u64 = 0x23;
const TSS_SELECTOR: u16 = 0x28;
const GDT_ENTRIES: usize = 16;

const MSR_EFER: u32 = 0xc000_0080;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;
const MSR_GS_BASE: u32 = 0xc000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;
/// `IA32_TSC_AUX`: what `rdpid` and `rdtscp` return.
pub const MSR_TSC_AUX: u32 = 0xc000_0103;

/// The local APIC's registers (identity-mapped, uncached).
const LAPIC: usize = 0xfee0_0000;
const LAPIC_ID: usize = 0x20;
const LAPIC_EOI: usize = 0xb0;
const LAPIC_SVR: usize = 0xf0;
const LAPIC_ICR_LO: usize = 0x300;
const LAPIC_ICR_HI: usize = 0x310;
const LAPIC_LVT_TIMER: usize = 0x320;
const LAPIC_TIMER_INIT: usize = 0x380;
const LAPIC_TIMER_CURRENT: usize = 0x390;
const LAPIC_TIMER_DIVIDE: usize = 0x3e0;

/// Writes a byte to an I/O port.
pub fn outb(port: u16, v: u8) {
    // SAFETY: the ports this kernel uses (UART, PIT, PIC, CMOS, debug exit) have no effect on
    // memory safety.
    unsafe { asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags)) };
}

/// Reads a byte from an I/O port.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for `outb`.
    unsafe { asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack, preserves_flags)) };
    v
}

fn outw(port: u16, v: u16) {
    // SAFETY: as for `outb`.
    unsafe { asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags)) };
}

/// Reads an MSR.
pub fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: only architectural MSRs this kernel checked for are read.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack)) };
    (hi as u64) << 32 | lo as u64
}

/// Writes an MSR.
///
/// # Safety
///
/// The MSR and value must be valid and leave the CPU in a state the kernel expects.
pub unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: the caller's contract.
    unsafe { asm!("wrmsr", in("ecx") msr, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nostack)) };
}

/// CPUID leaf `leaf`, subleaf `sub`: `[eax, ebx, ecx, edx]`.
pub fn cpuid(leaf: u32, sub: u32) -> [u32; 4] {
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    [r.eax, r.ebx, r.ecx, r.edx]
}

/// Whether the CPU has RDPID (CPUID.(7,0):ECX[22]).
pub fn has_rdpid() -> bool {
    cpuid(0, 0)[0] >= 7 && cpuid(7, 0)[2] & (1 << 22) != 0
}

/// Whether the CPU has RDTSCP (CPUID.80000001H:EDX[27]), the other reader of `TSC_AUX`.
pub fn has_rdtscp() -> bool {
    cpuid(0x8000_0000, 0)[0] >= 0x8000_0001 && cpuid(0x8000_0001, 0)[3] & (1 << 27) != 0
}

/// Whether the TSC is invariant (CPUID.80000007H:EDX[8]).
pub fn invariant_tsc() -> bool {
    cpuid(0x8000_0000, 0)[0] >= 0x8000_0007 && cpuid(0x8000_0007, 0)[3] & (1 << 8) != 0
}

/// A hardware random number, if the CPU has RDRAND (CPUID.1:ECX[30]) and it delivers.
pub fn rdrand() -> Option<u64> {
    if cpuid(1, 0)[2] & (1 << 30) == 0 {
        return None;
    }
    for _ in 0..16 {
        let (v, ok): (u64, u8);
        // SAFETY: RDRAND exists (checked above); it only writes the registers.
        unsafe {
            asm!("rdrand {v}", "setc {ok}", v = out(reg) v, ok = out(reg_byte) ok, options(nomem, nostack))
        };
        if ok != 0 {
            return Some(v);
        }
    }
    None
}

/// The TSC.
pub fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` only reads the counter (CR4.TSD is clear).
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn lapic_read(reg: usize) -> u32 {
    // SAFETY: the LAPIC page is identity-mapped (boot.rs) and `reg` is one of its registers.
    unsafe { core::ptr::read_volatile((LAPIC + reg) as *const u32) }
}

fn lapic_write(reg: usize, v: u32) {
    // SAFETY: as for `lapic_read`.
    unsafe { core::ptr::write_volatile((LAPIC + reg) as *mut u32, v) }
}

/// Signals the end of an interrupt to the local APIC.
pub fn eoi() {
    lapic_write(LAPIC_EOI, 0);
}

/// Which CPU (index in start order) each APIC id is.
static APIC_TO_CPU: [AtomicU8; 256] = [const { AtomicU8::new(u8::MAX) }; 256];

/// This CPU's index (0 = the bootstrap CPU).
pub fn current() -> usize {
    let id = (lapic_read(LAPIC_ID) >> 24) as usize;
    let cpu = APIC_TO_CPU[id].load(Ordering::Relaxed);
    assert!(cpu != u8::MAX, "APIC id {id} has no CPU index");
    cpu as usize
}

/// [`current`], or 0 before this CPU got its index (for the panic message).
pub fn current_or_zero() -> usize {
    let id = (lapic_read(LAPIC_ID) >> 24) as usize;
    match APIC_TO_CPU[id].load(Ordering::Relaxed) {
        u8::MAX => 0,
        c => c as usize,
    }
}

#[repr(C, packed)]
struct Tss {
    reserved0: u32,
    rsp0: u64,
    rsp1: u64,
    rsp2: u64,
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

const _: () = assert!(size_of::<Tss>() == 104);

#[repr(C, align(16))]
struct CpuTables {
    gdt: [u64; GDT_ENTRIES],
    tss: Tss,
    percpu: PerCpu,
}

const EMPTY_TABLES: CpuTables = CpuTables {
    gdt: [0; GDT_ENTRIES],
    tss: Tss {
        reserved0: 0,
        rsp0: 0,
        rsp1: 0,
        rsp2: 0,
        reserved1: 0,
        ist: [0; 7],
        reserved2: 0,
        reserved3: 0,
        iomap_base: 104,
    },
    percpu: PerCpu { trap_stack_top: 0, user_rsp: 0 },
};

/// Each CPU's tables; CPU `i` only ever touches `TABLES[i]` (in `init`).
static mut TABLES: [CpuTables; MAX_CPUS] = [EMPTY_TABLES; MAX_CPUS];

#[repr(C, align(16))]
struct Idt([u64; 512]);

/// The IDT, shared by every CPU (written once by the bootstrap CPU before any other starts).
static mut IDT: Idt = Idt([0; 512]);

/// A code or data segment descriptor: `access` byte, flags nibble, limit (20 bits), base 0.
const fn segment(access: u64, flags: u64, limit: u64) -> u64 {
    (limit & 0xffff) | ((limit >> 16) & 0xf) << 48 | access << 40 | flags << 52
}

/// The CPU-number segment's limit: `(node << 12) | cpu` (one node here).
pub fn cpunode(cpu: usize) -> u64 {
    cpu as u64
}

/// The top of CPU `cpu`'s trap stack.
pub fn trap_stack_top(cpu: usize) -> u64 {
    (&raw const TRAP_STACKS) as u64 + ((cpu + 1) * STACK_SIZE) as u64
}

/// Fills the IDT with the stubs (interrupt gates, kernel code, DPL 0). Bootstrap CPU, once.
pub fn init_idt() {
    // SAFETY: runs once on the bootstrap CPU before any other CPU or interrupt exists.
    let idt = unsafe { (&raw mut IDT).as_mut() }.expect("the IDT");
    for (i, &v) in boot::VECTORS.iter().enumerate() {
        // SAFETY: `ISR_TABLE` is a table of stub addresses in .rodata.
        let addr = unsafe { boot::ISR_TABLE[i] };
        let lo = (addr & 0xffff) | (KERNEL_CS as u64) << 16 | 0x8e << 40 | (addr >> 16 & 0xffff) << 48;
        idt.0[v as usize * 2] = lo;
        idt.0[v as usize * 2 + 1] = addr >> 32;
    }
}

/// Sets up CPU `cpu` (running on it): its GDT with the CPU-number segment, TSS, the IDT,
/// `syscall`, `TSC_AUX`, and its local APIC with a periodic timer of `lapic_ticks` per tick.
pub fn init(cpu: usize, lapic_ticks: u32) {
    let id = (lapic_read(LAPIC_ID) >> 24) as usize;
    APIC_TO_CPU[id].store(cpu as u8, Ordering::Relaxed);
    // SAFETY: CPU `cpu` is the only one that touches `TABLES[cpu]`.
    let t = &mut unsafe { (&raw mut TABLES).as_mut() }.expect("the CPU tables")[cpu];
    let top = trap_stack_top(cpu);
    t.percpu.trap_stack_top = top;
    t.tss.rsp0 = top;
    t.gdt[1] = segment(0x9a, 0xa, 0xfffff); // kernel code: present, DPL 0, exec/read; L, G
    t.gdt[2] = segment(0x92, 0xc, 0xfffff); // kernel data
    t.gdt[3] = segment(0xf2, 0xc, 0xfffff); // user data, DPL 3
    t.gdt[4] = segment(0xfa, 0xa, 0xfffff); // user code, DPL 3, L
    let tss = (&raw const t.tss) as u64;
    t.gdt[5] =
        (size_of::<Tss>() as u64 - 1) | (tss & 0xff_ffff) << 16 | 0x89 << 40 | (tss >> 24 & 0xff) << 56;
    t.gdt[6] = tss >> 32;
    // The CPU-number segment: a present, DPL 3, read-only data segment with byte granularity
    // whose limit is the number (so `lsl` from ring 3 returns it).
    let index = (GDT_CPUNODE_SELECTOR >> 3) as usize;
    t.gdt[index] = segment(0xf1, 0x4, cpunode(cpu));
    let gdtr: [u64; 2] = [
        ((GDT_ENTRIES * 8 - 1) as u64) | ((&raw const t.gdt) as u64) << 16,
        ((&raw const t.gdt) as u64) >> 48,
    ];
    let idtr: [u64; 2] = [(512 * 8 - 1) | ((&raw const IDT) as u64) << 16, ((&raw const IDT) as u64) >> 48];
    // SAFETY: the new GDT keeps the boot GDT's selectors 0x08 and 0x10 (so CS and the data
    // segments stay valid), the TSS descriptor is fresh (available), and the IDT is complete.
    unsafe {
        asm!(
            "lgdt [{gdtr}]",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            "lidt [{idtr}]",
            gdtr = in(reg) gdtr.as_ptr(),
            idtr = in(reg) idtr.as_ptr(),
            ds = in(reg) KERNEL_DS as u64,
            tss = in(reg) TSS_SELECTOR as u64,
            options(nostack)
        );
        // syscall: kernel CS/SS from STAR[47:32], sysret's user SS/CS from STAR[63:48] + 8/+16;
        // clear IF, TF, DF and AC on entry.
        wrmsr(MSR_STAR, (KERNEL_DS as u64) << 48 | (KERNEL_CS as u64) << 32);
        wrmsr(MSR_LSTAR, boot::syscall_entry as *const () as u64);
        wrmsr(MSR_SFMASK, 0x4_0700);
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
        wrmsr(MSR_GS_BASE, 0);
        wrmsr(MSR_KERNEL_GS_BASE, (&raw const t.percpu) as u64);
        if has_rdpid() || has_rdtscp() {
            wrmsr(MSR_TSC_AUX, cpunode(cpu));
        }
    }
    // Local APIC: software-enabled (spurious vector 255); the timer periodic at the tick rate,
    // divide by 1.
    lapic_write(LAPIC_SVR, 0x100 | boot::SPURIOUS_VECTOR as u32);
    lapic_write(LAPIC_TIMER_DIVIDE, 0xb);
    if lapic_ticks != 0 {
        lapic_write(LAPIC_LVT_TIMER, 1 << 17 | boot::TIMER_VECTOR as u32);
        lapic_write(LAPIC_TIMER_INIT, lapic_ticks);
    }
}

/// Masks every line of both legacy 8259 PICs (the firmware leaves the PIT's IRQ 0 on, at a
/// vector that would collide with the CPU's exceptions).
pub fn mask_pic() {
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

/// The PIT's input clock, in Hz.
pub const PIT_HZ: u64 = 1_193_182;

/// Measures the TSC and the local APIC timer against the PIT: channel 2 counts `pit_ticks`
/// down (mode 0, gate on, speaker off) while both run. Returns `(tsc cycles, lapic ticks)` for
/// that span.
pub fn calibrate(pit_ticks: u16) -> (u64, u64) {
    lapic_write(LAPIC_TIMER_DIVIDE, 0xb);
    lapic_write(LAPIC_LVT_TIMER, 1 << 16); // masked, one-shot
    outb(0x61, (inb(0x61) & !0x02) | 0x01);
    outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0, binary
    outb(0x42, pit_ticks as u8);
    lapic_write(LAPIC_TIMER_INIT, u32::MAX);
    let a0 = lapic_read(LAPIC_TIMER_CURRENT);
    let t0 = rdtsc();
    outb(0x42, (pit_ticks >> 8) as u8); // counting starts now
    while inb(0x61) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    let t1 = rdtsc();
    let a1 = lapic_read(LAPIC_TIMER_CURRENT);
    lapic_write(LAPIC_TIMER_INIT, 0);
    (t1 - t0, (a0 - a1) as u64)
}

/// Starts every other CPU: INIT, then two STARTUP IPIs at the trampoline (to all but self).
/// `wait_us` waits (the TSC is calibrated by then).
pub fn start_aps(wait_us: impl Fn(u64)) {
    // SAFETY: the trampoline is position-independent code (its only absolute addresses are
    // computed for TRAMPOLINE), and the page at TRAMPOLINE is free low memory.
    unsafe {
        let start = &raw const boot::ap_tramp_start;
        let len = (&raw const boot::ap_tramp_end).offset_from(start) as usize;
        core::ptr::copy_nonoverlapping(start, boot::TRAMPOLINE as *mut u8, len);
    }
    let send = |lo: u32| {
        lapic_write(LAPIC_ICR_HI, 0);
        lapic_write(LAPIC_ICR_LO, lo);
        while lapic_read(LAPIC_ICR_LO) & (1 << 12) != 0 {
            core::hint::spin_loop();
        }
    };
    send(0xc_4500); // INIT, all excluding self
    wait_us(10_000);
    for _ in 0..2 {
        send(0xc_4600 | (boot::TRAMPOLINE >> 12) as u32); // STARTUP at 0x8000
        wait_us(200);
    }
}

/// The number of CPUs QEMU gave the machine (fw_cfg `FW_CFG_NB_CPUS`).
pub fn qemu_cpu_count() -> usize {
    outw(0x510, 0x05);
    let lo = inb(0x511) as usize;
    let hi = inb(0x511) as usize;
    (hi << 8 | lo).max(1)
}

/// Wall-clock time from the CMOS RTC, in seconds since the epoch (UTC, as QEMU keeps it).
pub fn cmos_time() -> Option<u64> {
    let read = |reg: u8| {
        outb(0x70, reg);
        inb(0x71)
    };
    // Wait for an update not to be in progress, then read twice until two reads agree.
    let snap = || {
        while read(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        [read(0x00), read(0x02), read(0x04), read(0x07), read(0x08), read(0x09), read(0x32)]
    };
    let mut v = snap();
    loop {
        let w = snap();
        if w == v {
            break;
        }
        v = w;
    }
    let status_b = read(0x0b);
    let bcd = |x: u8| if status_b & 0x04 == 0 { (x >> 4) * 10 + (x & 0xf) } else { x };
    let (sec, min, hour) = (bcd(v[0]) as u64, bcd(v[1]) as u64, bcd(v[2] & 0x7f) as u64);
    let (day, month, year) = (bcd(v[3]) as i64, bcd(v[4]) as i64, bcd(v[5]) as i64 + bcd(v[6]) as i64 * 100);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), March-based years.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as u64 * 86_400 + hour * 3600 + min * 60 + sec)
}

/// Ends QEMU through `isa-debug-exit` at port 0xf4 (QEMU exits with `(v << 1) | 1`).
pub fn power_off(ok: bool) -> ! {
    outb(0xf4, if ok { 0 } else { 1 });
    loop {
        // SAFETY: halting with interrupts off stops this CPU for good.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// Waits for the next interrupt with interrupts enabled only while halted.
pub fn idle_once() {
    // SAFETY: `sti; hlt` enables interrupts for the halt only (the `sti` shadow covers `hlt`),
    // and `cli` after it; the interrupt handlers save and restore everything they touch.
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) };
}
