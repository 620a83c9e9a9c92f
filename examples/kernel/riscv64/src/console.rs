//! `print!`/`println!` over the SBI console.

use core::fmt::{self, Write};

/// The SBI console as a `fmt::Write`.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(crate::sbi::putchar);
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
        $crate::sbi::putchar(b'\n');
    }};
}
