//! What every arch's kernel does the same way for its one process: where the program's memory
//! is (and checking every pointer it passes against it), the kernel's own clocks (the
//! timekeeper's math, namespace applied), the clock syscalls the image falls back to, signal
//! bookkeeping (`kill`, a one-shot `ITIMER_REAL`, the masks), and taking the final report.
//!
//! Shared by every kernel of the example (included with `#[path]`); the arch parts keep what
//! differs: traps, frames, page tables, the counter. Each kernel reaches user memory directly
//! through the program's addresses (riscv64 with `sstatus.SUM` set, x86_64 with SMAP off).

use vdso_abi::clock;
use vdso_kernel_stub::{Timekeeper, Timespec};

use crate::loader::Region;
use crate::proto::{self, Report};

/// `EFAULT`.
pub const EFAULT: isize = 14;
/// `ESRCH`.
pub const ESRCH: isize = 3;

/// The clock ids the data page serves (docs/abi.md §3): their syscalls must never come.
pub fn served_id(id: i32) -> bool {
    matches!(id, 0 | 1 | 4 | 5 | 6 | 7 | 11)
}

/// A 64-bit mixer (splitmix64's finaliser) for turning a seed into addresses and bytes.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The program's mapped regions, and access to them on its behalf.
#[derive(Default)]
pub struct UserMemory {
    regions: [Region; 8],
    n: usize,
}

impl UserMemory {
    /// Records a mapped region.
    pub fn add(&mut self, r: Region) {
        self.regions[self.n] = r;
        self.n += 1;
    }

    /// Whether `[addr, addr + len)` lies in one region (a writable one if `write`).
    pub fn ok(&self, addr: usize, len: usize, write: bool) -> bool {
        let Some(end) = addr.checked_add(len) else { return false };
        self.regions[..self.n].iter().any(|r| addr >= r.start && end <= r.end && (r.writable || !write))
    }

    /// Reads a `T` the program passed by pointer.
    pub fn read<T: Copy>(&self, addr: usize) -> Option<T> {
        // SAFETY: checked: inside a mapped user region, which the kernel can read.
        self.ok(addr, size_of::<T>(), false).then(|| unsafe { (addr as *const T).read_unaligned() })
    }

    /// Writes a `T` where the program asked; `-EFAULT` if it may not.
    pub fn write<T: Copy>(&self, addr: usize, v: T) -> isize {
        if !self.ok(addr, size_of::<T>(), true) {
            return -EFAULT;
        }
        // SAFETY: checked: inside a writable user region, which the kernel can write.
        unsafe { (addr as *mut T).write_unaligned(v) };
        0
    }

    /// The program's bytes `[addr, addr + len)`.
    pub fn bytes(&self, addr: usize, len: usize) -> Option<&[u8]> {
        // SAFETY: checked: inside a mapped user region, which stays mapped while the kernel runs.
        self.ok(addr, len, false).then(|| unsafe { core::slice::from_raw_parts(addr as *const u8, len) })
    }

    /// `getcpu`'s answer: `cpu` and `node` written where the program asked (either pointer may be
    /// NULL); `-EFAULT` at the first it may not write.
    #[cfg(not(target_arch = "aarch64"))] // arm64 Linux has no getcpu in its vDSO, nor this kernel
    pub fn put_getcpu(&self, (cpu_at, node_at): (usize, usize), (cpu, node): (u32, u32)) -> isize {
        for (p, v) in [(cpu_at, cpu), (node_at, node)] {
            if p != 0 && self.write(p, v) != 0 {
                return -EFAULT;
            }
        }
        0
    }

    /// Stores a `struct timespec` of `ns`.
    pub fn put_timespec(&self, addr: usize, ns: i128) -> isize {
        let t = Timespec::from_nanos(ns);
        self.write(addr, [t.sec, t.nsec as i64])
    }
}

/// The kernel's own time: the timekeeper the page is published from, and the process's time
/// namespace offset.
pub struct Clocks {
    /// The timekeeper (advanced every tick).
    pub tk: Timekeeper,
    /// Offset of the namespace's MONOTONIC/BOOTTIME/MONOTONIC_RAW (0 outside a namespace).
    pub timens_ns: i128,
    /// The tick rate (the COARSE clocks' resolution is one tick).
    pub hz: u32,
}

impl Clocks {
    /// The kernel's own reading of `id` at counter value `now`, in ns (namespace applied),
    /// computed from the timekeeper, never from the page.
    pub fn ns(&self, id: i32, now: u64) -> Option<i128> {
        let snap = self.tk.snapshot();
        let mono = self.tk.monotonic_at(now).as_nanos();
        let coarse = self.tk.monotonic().as_nanos();
        let ns = self.timens_ns;
        Some(match id {
            clock::REALTIME => mono + snap.realtime_offset,
            clock::MONOTONIC => mono + ns,
            clock::MONOTONIC_RAW => self.tk.raw_at(now).as_nanos() + ns,
            clock::REALTIME_COARSE => coarse + snap.realtime_offset,
            clock::MONOTONIC_COARSE => coarse + ns,
            clock::BOOTTIME => mono + snap.boot_offset + ns,
            clock::TAI => mono + snap.realtime_offset + snap.tai_offset,
            _ => return None,
        })
    }

    /// `clock_getres` of a served id.
    fn res(&self, id: i32) -> i128 {
        if matches!(id, clock::REALTIME_COARSE | clock::MONOTONIC_COARSE) {
            1_000_000_000 / self.hz as i128
        } else {
            1
        }
    }
}

/// The clock syscalls that reached the kernel.
#[derive(Default)]
pub struct ClockStats {
    /// clock_gettime / clock_getres / gettimeofday / time for what the page serves.
    pub served: u64,
    /// clock_gettime for unserved ids (2, 10, -1 ...).
    pub fallback_gettime: u64,
    /// clock_getres for unserved ids.
    pub fallback_getres: u64,
    /// Fallbacks whose syscall instruction sat inside the vDSO image.
    pub fallback_from_vdso: u64,
}

impl ClockStats {
    /// `clock_gettime(id, ptr)` or `clock_getres(id, ptr)` at counter value `now`; `from_image`
    /// says whether the syscall instruction lay inside the image.
    pub fn clock_call(
        &mut self,
        clocks: &Clocks,
        mem: &UserMemory,
        getres: bool,
        (id, ptr): (i32, usize),
        now: u64,
        from_image: bool,
    ) -> isize {
        if served_id(id) {
            self.served += 1;
            let ns = if getres { Some(clocks.res(id)) } else { clocks.ns(id, now) };
            return match (ptr, ns) {
                (0, _) if getres => 0,
                (p, Some(ns)) => mem.put_timespec(p, ns),
                _ => -proto::EINVAL,
            };
        }
        // CPU-time clocks, ALARM clocks, 10, negative or too large ids: this kernel has no such
        // clocks, and says so the way Linux does for unknown ids.
        if getres {
            self.fallback_getres += 1;
        } else {
            self.fallback_gettime += 1;
        }
        if from_image {
            self.fallback_from_vdso += 1;
        }
        -proto::EINVAL
    }

    /// `gettimeofday(tv, tz)` (tz ignored, as Linux does for a NULL one).
    pub fn gettimeofday(&mut self, clocks: &Clocks, mem: &UserMemory, tv: usize, now: u64) -> isize {
        self.served += 1;
        if tv == 0 {
            return 0;
        }
        let t = Timespec::from_nanos(clocks.ns(clock::REALTIME, now).unwrap_or(0));
        mem.write(tv, [t.sec, (t.nsec / 1000) as i64])
    }

    /// Whether every served clock stayed in the image and the four expected fallbacks (three
    /// `clock_gettime`, one `clock_getres`) came from it.
    pub fn as_expected(&self) -> bool {
        self.served == 0
            && self.fallback_gettime == 3
            && self.fallback_getres == 1
            && self.fallback_from_vdso == self.fallback_gettime + self.fallback_getres
    }
}

/// Signal state the arch's delivery code works from.
#[derive(Default)]
pub struct Signals {
    /// Pending signals (bit `sig - 1`).
    pub pending: u64,
    /// Blocked signals.
    pub blocked: u64,
    /// Counter value at which `SIGALRM` becomes pending.
    pub alarm: Option<u64>,
}

impl Signals {
    /// `kill(pid, sig)` for this one process (pid 1, or 0 for "my group").
    pub fn kill(&mut self, pid: usize, sig: usize) -> isize {
        if !(pid == 1 || pid == 0) {
            -ESRCH
        } else if (1..=64).contains(&sig) {
            self.pending |= 1 << (sig - 1);
            0
        } else {
            -proto::EINVAL
        }
    }

    /// `setitimer(which, new, old)`: `ITIMER_REAL` only, one-shot (`new->it_value`, the
    /// timeval at offset 16), at `freq` counter ticks per second.
    pub fn setitimer(
        &mut self,
        mem: &UserMemory,
        (which, new): (usize, usize),
        now: u64,
        freq: u64,
    ) -> isize {
        match mem.read::<[u64; 4]>(new) {
            Some([_, _, sec, usec]) if which == 0 => {
                let cycles = (sec * 1_000_000 + usec) as u128 * freq as u128 / 1_000_000;
                self.alarm = Some(now + cycles as u64);
                0
            }
            _ => -proto::EINVAL,
        }
    }

    /// The tick: the alarm fires once `now` passes it.
    pub fn tick(&mut self, now: u64) {
        if self.alarm.is_some_and(|a| now >= a) {
            self.alarm = None;
            self.pending |= 1 << (proto::SIGALRM - 1);
        }
    }

    /// Takes the lowest pending, unblocked signal.
    pub fn take_ready(&mut self) -> Option<usize> {
        let ready = self.pending & !self.blocked;
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() as usize + 1;
        self.pending &= !(1 << (sig - 1));
        Some(sig)
    }

    /// Blocks what a handler for `sig` runs with (itself unless `SA_NODEFER`, and its mask).
    pub fn enter_handler(&mut self, sig: usize, flags: u64, mask: u64) {
        const SA_NODEFER: u64 = 0x4000_0000;
        if flags & SA_NODEFER == 0 {
            self.blocked |= 1 << (sig - 1);
        }
        self.blocked |= mask;
    }

    /// The mask `rt_sigreturn` restores (SIGKILL and SIGSTOP can never be blocked).
    pub fn restore_mask(&mut self, mask: u64) {
        self.blocked = mask & !(1 << 8 | 1 << 18);
    }
}

/// One signal's disposition, as `rt_sigaction` set it.
#[derive(Clone, Copy, Default)]
pub struct SigAction {
    /// `sa_handler` (0 = default, 1 = ignore).
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
    /// `sa_restorer` (0 where the arch's `struct sigaction` has none).
    pub restorer: u64,
    /// `sa_mask` (64 signals).
    pub mask: u64,
}

/// Every signal's disposition, and `rt_sigaction` over the arch's `struct sigaction`.
pub struct SigActions(pub [SigAction; 65]);

impl Default for SigActions {
    fn default() -> Self {
        SigActions([SigAction::default(); 65])
    }
}

impl SigActions {
    /// `rt_sigaction(sig, act, oldact)`. The user's struct is `{ handler, flags, restorer, mask }`
    /// where the arch has `SA_RESTORER` (`with_restorer`: x86_64, aarch64), else `{ handler,
    /// flags, mask }` (riscv64, loongarch64).
    pub fn rt_sigaction(
        &mut self,
        mem: &UserMemory,
        (sig, act, oldact): (usize, usize, usize),
        with_restorer: bool,
    ) -> isize {
        if !(1..=64).contains(&sig) || sig == 9 || sig == 19 {
            return -proto::EINVAL;
        }
        if oldact != 0 {
            let o = self.0[sig];
            let written = if with_restorer {
                mem.write(oldact, [o.handler, o.flags, o.restorer, o.mask])
            } else {
                mem.write(oldact, [o.handler, o.flags, o.mask])
            };
            if written != 0 {
                return -EFAULT;
            }
        }
        if act != 0 {
            let new = if with_restorer {
                mem.read::<[u64; 4]>(act).map(|[handler, flags, restorer, mask]| SigAction {
                    handler,
                    flags,
                    restorer,
                    mask,
                })
            } else {
                mem.read::<[u64; 3]>(act).map(|[handler, flags, mask]| SigAction {
                    handler,
                    flags,
                    restorer: 0,
                    mask,
                })
            };
            let Some(new) = new else { return -EFAULT };
            self.0[sig] = new;
        }
        0
    }
}

/// The program's final [`Report`] at `p` (its `SYS_REPORT` argument).
fn take_report(mem: &UserMemory, p: usize, into: &mut Option<Report>) -> isize {
    match mem.read::<Report>(p) {
        Some(r) => {
            *into = Some(r);
            0
        }
        None => -EFAULT,
    }
}

/// The process as every kernel keeps it: its memory, the kernel's clocks it reads, the clock
/// syscalls it made, its signals and its final report.
pub struct Process {
    /// Where the program's memory is.
    pub mem: UserMemory,
    /// The kernel's clocks.
    pub clocks: Clocks,
    /// The clock syscalls that reached the kernel.
    pub clock_stats: ClockStats,
    /// Pending and blocked signals, the alarm.
    pub sig: Signals,
    /// What the program handed over at the end.
    pub report: Option<Report>,
    /// Every signal's disposition.
    pub actions: SigActions,
}

impl Process {
    /// A process in `mem` reading `clocks`, before it ran.
    pub fn new(mem: UserMemory, clocks: Clocks) -> Self {
        Process {
            mem,
            clocks,
            clock_stats: ClockStats::default(),
            sig: Signals::default(),
            report: None,
            actions: SigActions::default(),
        }
    }

    /// The syscalls every arch's kernel answers the same way (`None` for the others): `write`
    /// (to `out`), the clock fallbacks, `getpid`, `kill`, `setitimer`, `rt_sigaction` (over the
    /// arch's `struct sigaction`: `proto::SIGACTION_HAS_RESTORER`), and the private kernel clock
    /// and report. `now` is the counter (at `freq` Hz); `from_image` says whether the
    /// syscall instruction lay inside the vDSO image.
    pub fn syscall(
        &mut self,
        nr: usize,
        a: [usize; 3],
        (now, freq): (u64, u64),
        from_image: bool,
        out: &mut dyn FnMut(&[u8]),
    ) -> Option<isize> {
        let (mem, clocks) = (&self.mem, &self.clocks);
        Some(match nr {
            proto::SYS_WRITE => match mem.bytes(a[1], a[2]) {
                Some(bytes) => {
                    out(bytes);
                    a[2] as isize
                }
                None => -EFAULT,
            },
            proto::SYS_CLOCK_GETTIME | proto::SYS_CLOCK_GETRES => {
                let getres = nr == proto::SYS_CLOCK_GETRES;
                self.clock_stats.clock_call(clocks, mem, getres, (a[0] as i32, a[1]), now, from_image)
            }
            proto::SYS_GETTIMEOFDAY => self.clock_stats.gettimeofday(clocks, mem, a[0], now),
            proto::SYS_GETPID => 1,
            proto::SYS_KILL => self.sig.kill(a[0], a[1]),
            proto::SYS_SETITIMER => self.sig.setitimer(mem, (a[0], a[1]), now, freq),
            proto::SYS_KTIME => clocks.ns(a[0] as i32, now).map_or(-proto::EINVAL, |ns| ns as isize),
            proto::SYS_REPORT => take_report(mem, a[0], &mut self.report),
            proto::SYS_RT_SIGACTION => {
                self.actions.rt_sigaction(mem, (a[0], a[1], a[2]), proto::SIGACTION_HAS_RESTORER)
            }
            _ => return None,
        })
    }
}

impl Process {
    /// Whether the report and the kernel's counts show what every arch must: a report with no
    /// failure, no served clock in the kernel and the four fallbacks from the image answered
    /// -EINVAL, two signals whose handlers returned the expected way (`sigreturns` through the
    /// arch's path, none other) with the frame restored, the resolutions from the page, and the
    /// time namespace.
    pub fn common_ok(&self, signals_delivered: u64, sigreturns: u64, sigreturn_other: u64) -> bool {
        let Some(r) = self.report else { return false };
        r.failures == 0
            && self.clock_stats.as_expected()
            && r.fallback_results == [-proto::EINVAL as i64; 4]
            && signals_delivered == 2
            && sigreturns == 2
            && sigreturn_other == 0
            && r.handler_ra_is_vdso_sigreturn == 2
            && r.sigreturn_restored_frame == 1
            && r.res_coarse_ns == 1_000_000_000 / self.clocks.hz as u64
            && r.res_hres_ns == 1
            && r.timens_ok == 1
    }
}

impl Process {
    /// The first half of moving the process into a time namespace whose MONOTONIC and BOOTTIME
    /// run `offset_sec` seconds ahead: writes the namespace's page into `ns_page` and makes the
    /// kernel's own clocks follow. The arch part then maps `ns_page` at page 0 and the real data
    /// page at the timens slot (docs/abi.md §4) and flushes its TLB.
    ///
    /// # Safety
    ///
    /// `ns_page` is a page-aligned page the kernel owns that nobody reads yet (not mapped).
    pub unsafe fn write_timens<A: vdso_kernel_stub::VdsoArch>(&mut self, ns_page: usize, offset_sec: i64) {
        use vdso_kernel_stub::layout::vdso_data_ptr;
        use vdso_kernel_stub::timens::{write_timens_page, TimensOffsets};
        let offset = Timespec::new(offset_sec, 0);
        let offsets = TimensOffsets { monotonic: offset, boottime: offset };
        let pair = core::ptr::NonNull::new(vdso_data_ptr::<A>(ns_page as *mut u8)).expect("a page, not null");
        // SAFETY: the caller's contract: the page is ours and unread.
        unsafe { write_timens_page::<A>(pair, &offsets) };
        self.clocks.timens_ns = offset_sec as i128 * 1_000_000_000;
    }
}

/// Writes siginfo's first fields at `info` (zeroed by the caller): `si_signo`, `si_code`, and
/// for a `kill` (`SI_USER`) the sender's pid.
///
/// # Safety
///
/// `info` is a writable, 128-byte user area the kernel checked.
pub unsafe fn write_siginfo(info: usize, sig: usize) {
    const SI_USER: i32 = 0;
    const SI_KERNEL: i32 = 0x80;
    let code = if sig == proto::SIGALRM { SI_KERNEL } else { SI_USER };
    // SAFETY: the caller's contract.
    unsafe {
        (info as *mut i32).write(sig as i32);
        ((info + 8) as *mut i32).write(code);
        if code == SI_USER {
            ((info + 16) as *mut i32).write(1);
        }
    }
}

/// Writes what every arch's `struct ucontext` starts with at `uc` (zeroed by the caller):
/// `uc_flags`, `uc_link` = 0, `uc_stack` = `{ 0, SS_DISABLE, 0 }`, and `uc_sigmask` = `blocked`,
/// the mask `rt_sigreturn` restores.
///
/// # Safety
///
/// `uc` is a writable user `struct ucontext` the kernel checked.
pub unsafe fn write_ucontext_head(uc: usize, blocked: u64) {
    const SS_DISABLE: i32 = 2;
    // SAFETY: the caller's contract.
    unsafe {
        ((uc + 24) as *mut i32).write(SS_DISABLE);
        ((uc + proto::UC_SIGMASK) as *mut u64).write(blocked);
    }
}

impl Process {
    /// Takes the next pending, unblocked signal: `Ok(Some((sig, action)))` when it has a
    /// handler, `Ok(None)` when none is ready or it is ignored, `Err(exit code)` when its default
    /// action ends the process (said on the console after `who`, the kernel's name).
    pub fn take_signal(&mut self, who: &str) -> Result<Option<(usize, SigAction)>, i32> {
        let Some(sig) = self.sig.take_ready() else { return Ok(None) };
        let act = self.actions.0[sig];
        match act.handler {
            0 => {
                crate::println!("{who}: signal {sig} with the default action: terminating");
                Err(128 + sig as i32)
            }
            1 => Ok(None), // SIG_IGN
            _ => Ok(Some((sig, act))),
        }
    }

    /// What `rt_sigreturn` restores from the ucontext at `uc`: the saved registers (an `R` at
    /// `regs_at`) and the signal mask; `None` when the frame is not readable user memory.
    pub fn read_sigframe<R: Copy>(&self, uc: usize, regs_at: usize) -> Option<(R, u64)> {
        Some((self.mem.read::<R>(regs_at)?, self.mem.read::<u64>(uc + proto::UC_SIGMASK)?))
    }

    /// The report's fields on the clock fallbacks and the program's calls, as every kernel
    /// prints them: `fallback_gettime= fallback_getres= fallback_from_vdso= fallback_results=
    /// served_calls= symbols=`.
    pub fn report_calls(&self) -> impl core::fmt::Display + '_ {
        let (c, r) = (&self.clock_stats, self.report.unwrap_or_default());
        Fields(move |f: &mut core::fmt::Formatter<'_>| {
            let [a, b, d, e] = r.fallback_results;
            write!(
                f,
                "fallback_gettime={} fallback_getres={} fallback_from_vdso={} fallback_results={a},{b},{d},{e} \
                 served_calls={} symbols={}",
                c.fallback_gettime, c.fallback_getres, c.fallback_from_vdso, r.served_calls, r.symbols_resolved
            )
        })
    }

    /// The report's fields on the resolutions and the clocks' agreement with the kernel's:
    /// `res_hres_ns= res_coarse_ns= kernel_bracket_err_ns= coarse_lag_max_us=`.
    pub fn report_clocks(&self) -> impl core::fmt::Display {
        let r = self.report.unwrap_or_default();
        Fields(move |f: &mut core::fmt::Formatter<'_>| {
            write!(
                f,
                "res_hres_ns={} res_coarse_ns={} kernel_bracket_err_ns={} coarse_lag_max_us={}",
                r.res_hres_ns,
                r.res_coarse_ns,
                r.kernel_bracket_err_ns,
                r.coarse_lag_max_ns / 1000
            )
        })
    }
}

/// A piece of the report line, formatted by its closure.
struct Fields<F>(F);

impl<F: Fn(&mut core::fmt::Formatter<'_>) -> core::fmt::Result> core::fmt::Display for Fields<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (self.0)(f)
    }
}

/// TAI − UTC since 2017.
pub const TAI_OFFSET_SEC: i64 = 37;

impl Clocks {
    /// The timekeeper for a counter of `freq` Hz read as `now`: MONOTONIC (and RAW) count from
    /// the counter's reset, REALTIME starts at `realtime_ns` (or a fixed default without a
    /// clock to read), TAI is 37 s ahead. Returns it with the `mult`/`shift` it converts with.
    pub fn start(freq: u64, now: u64, realtime_ns: Option<i128>, hz: u32) -> (Clocks, u32, u32) {
        use vdso_kernel_stub::timekeeping::DEFAULT_MAX_SECS;
        use vdso_kernel_stub::update::{ClockConfig, Times};
        let (mult, shift) = vdso_kernel_stub::clocks_calc_mult_shift(freq, 1_000_000_000, DEFAULT_MAX_SECS);
        let mono = Timespec::from_nanos(vdso_kernel_stub::cycles_to_ns(now, mult, shift) as i128);
        let realtime = realtime_ns.map(Timespec::from_nanos).unwrap_or(Timespec::new(1_700_000_000, 0));
        let times = Times {
            monotonic: mono,
            realtime,
            boot_offset: Timespec::ZERO,
            tai_offset: Timespec::new(TAI_OFFSET_SEC, 0),
            raw: mono,
        };
        // Refused only for a rate no `mult`/`shift` can convert (mult 0).
        let tk = Timekeeper::new(ClockConfig { mult, shift, mask: u64::MAX }, now, &times)
            .expect("a counter rate the page's mult/shift can convert");
        (Clocks { tk, timens_ns: 0, hz }, mult, shift)
    }

    /// Where REALTIME started, for the boot message.
    pub fn realtime_start(&self) -> Timespec {
        let snap = self.tk.snapshot();
        Timespec::from_nanos(self.tk.monotonic().as_nanos() + snap.realtime_offset)
    }
}

/// A page-aligned address (the kernel's page size) for `pages` pages at a random place in
/// `[lo, hi)`.
pub fn random_base(seed: u64, lo: usize, hi: usize, pages: usize) -> usize {
    const PAGE: usize = crate::mm::PAGE_SIZE;
    let slots = (hi - lo) / PAGE - pages;
    lo + (seed % slots as u64) as usize * PAGE
}

/// The 16 bytes `AT_RANDOM` points at, from the seed.
pub fn at_random(seed: u64) -> [u8; 16] {
    let mut random = [0u8; 16];
    random[..8].copy_from_slice(&splitmix(seed ^ 1).to_le_bytes());
    random[8..].copy_from_slice(&splitmix(seed ^ 2).to_le_bytes());
    random
}
