//! The few SBI calls the kernel makes (OpenSBI v1.1 under QEMU 7.2): console output, the timer,
//! and shutdown.

use core::arch::asm;

/// Legacy console putchar (EID 0x01): still the simplest way to print, and OpenSBI keeps it.
const EID_CONSOLE_PUTCHAR: usize = 0x01;
/// Timer extension, `sbi_set_timer(stime_value)`.
const EID_TIME: usize = 0x5449_4D45;
/// System reset extension, `sbi_system_reset(type, reason)`.
const EID_SRST: usize = 0x5352_5354;
/// Legacy shutdown (EID 0x08), if SRST is missing.
const EID_SHUTDOWN: usize = 0x08;

fn call(eid: usize, fid: usize, a0: usize, a1: usize) -> (isize, usize) {
    let (err, val): (usize, usize);
    // SAFETY: an SBI call traps to the firmware, which reads a0-a1, a6, a7 and writes a0-a1; it
    // touches no memory of ours for the calls made here.
    unsafe {
        asm!("ecall", inlateout("a0") a0 => err, inlateout("a1") a1 => val,
             in("a6") fid, in("a7") eid, options(nostack));
    }
    (err as isize, val)
}

/// Prints one byte on the firmware's console.
pub fn putchar(c: u8) {
    call(EID_CONSOLE_PUTCHAR, 0, c as usize, 0);
}

/// Arms the supervisor timer for counter value `when` (clears a pending timer interrupt).
pub fn set_timer(when: u64) {
    call(EID_TIME, 0, when as usize, 0);
}

/// Powers the machine off (`failure` = a system-failure reason). Never returns.
pub fn shutdown(failure: bool) -> ! {
    call(EID_SRST, 0, 0, failure as usize);
    call(EID_SHUTDOWN, 0, 0, 0);
    loop {
        // SAFETY: waiting for an interrupt has no memory effects.
        unsafe { asm!("wfi", options(nomem, nostack)) };
    }
}
