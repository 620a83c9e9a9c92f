//! `print!`/`println!` over the 16550 UART at I/O port 0x3f8 (QEMU's `-nographic` serial),
//! one line at a time under a lock so two CPUs never interleave characters.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::cpu::{inb, outb};

const COM1: u16 = 0x3f8;
static BUSY: AtomicBool = AtomicBool::new(false);

/// The serial port as a `fmt::Write` (holding the console lock while it lives).
pub struct Console(());

impl Console {
    /// Takes the console.
    pub fn take() -> Console {
        while BUSY.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        Console(())
    }

    /// Writes one byte.
    pub fn put(&mut self, b: u8) {
        // Wait for the transmit holding register to be empty (LSR bit 5).
        while inb(COM1 + 5) & 0x20 == 0 {
            core::hint::spin_loop();
        }
        outb(COM1, b);
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::Release);
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put(b));
        Ok(())
    }
}

/// Releases the console whoever held it (the panic path, which must print no matter what).
pub fn force_unlock() {
    BUSY.store(false, Ordering::Release);
}

/// Prints formatted text and a newline, as one line.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let mut c = $crate::console::Console::take();
        let _ = core::fmt::Write::write_fmt(&mut c, format_args!($($arg)*));
        c.put(b'\n');
    }};
}
