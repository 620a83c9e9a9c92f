//! `print!`/`println!` over the `virt` machine's NS16550 UART at 0x1fe0_01e0, reached through the
//! uncached direct-mapped window (DMW0, 0x8000...; before paging, the same address is direct).
//! QEMU's model needs no set-up.

use core::fmt::{self, Write};

/// The UART's base, in the uncached window.
pub const UART_BASE: usize = 0x8000_0000_1fe0_01e0;
/// Line status register; bit 5 = transmit holding register empty.
const LSR: usize = 5;
const LSR_THRE: u8 = 1 << 5;

/// Sends one byte.
pub fn putchar(c: u8) {
    // SAFETY: the NS16550 lives at UART_BASE (byte registers); reading LSR has no side effect.
    unsafe {
        while core::ptr::read_volatile((UART_BASE + LSR) as *const u8) & LSR_THRE == 0 {}
        core::ptr::write_volatile(UART_BASE as *mut u8, c);
    }
}

/// The UART as a `fmt::Write`.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(putchar);
        Ok(())
    }
}

/// Prints formatted text.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Prints formatted text and a newline.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        $crate::print!($($arg)*);
        $crate::console::putchar(b'\n');
    }};
}
