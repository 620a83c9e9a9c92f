//! `print!`/`println!` over the `virt` machine's PL011 UART (identity-mapped as device memory
//! once the MMU is on; QEMU's model needs no set-up).

use core::fmt::{self, Write};

/// The PL011's base on QEMU's `virt` machine.
pub const UART_BASE: usize = 0x0900_0000;
/// Data register.
const UARTDR: usize = 0x00;
/// Flag register; bit 5 = transmit FIFO full.
const UARTFR: usize = 0x18;
const FR_TXFF: u32 = 1 << 5;

/// Sends one byte.
pub fn putchar(c: u8) {
    // SAFETY: the PL011 lives at UART_BASE (mapped as device memory, or reached with the MMU
    // off); its flag and data registers are 32-bit and reading the flags has no side effect.
    unsafe {
        while core::ptr::read_volatile((UART_BASE + UARTFR) as *const u32) & FR_TXFF != 0 {}
        core::ptr::write_volatile((UART_BASE + UARTDR) as *mut u32, c as u32);
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
