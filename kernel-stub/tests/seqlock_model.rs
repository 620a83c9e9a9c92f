//! Model check of the seqlock protocol with loom: every interleaving and every weak-memory
//! outcome loom allows, of the crate's own protocol steps (`vdso_kernel_stub::protocol`) run by
//! a writer and a reader. Running the real code on this machine cannot catch a missing fence
//! (x86_64 is strongly ordered, and qemu-riscv64 runs on the same host), so this is the evidence
//! that the protocol is right under the weaker riscv64 model.
//!
//! loom is driven directly here (no `--cfg loom`), so a plain `cargo test` runs it.

use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering::*};
use loom::sync::Arc;
use vdso_kernel_stub::protocol::{self, SeqlockOps};

/// Two structs' `seq` and a pair of data words that must stay consistent (`b == 3 * a`).
struct Model {
    seq: [AtomicU32; 2],
    a: AtomicU64,
    b: AtomicU64,
    /// Whether the fences are real; the broken variant proves the check can fail.
    fences: bool,
}

impl SeqlockOps for Model {
    fn load_seq(&self, idx: usize) -> u32 {
        self.seq[idx].load(Relaxed)
    }
    fn store_seq(&self, idx: usize, seq: u32) {
        self.seq[idx].store(seq, Relaxed)
    }
    fn release_fence(&self) {
        if self.fences {
            fence(Release);
        }
    }
    fn acquire_fence(&self) {
        if self.fences {
            fence(Acquire);
        }
    }
    fn spin_hint(&self) {
        loom::thread::yield_now();
    }
}

fn check(fences: bool) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(move || {
        let m = Arc::new(Model {
            seq: [AtomicU32::new(0), AtomicU32::new(0)],
            a: AtomicU64::new(0),
            b: AtomicU64::new(0),
            fences,
        });
        let w = Arc::clone(&m);
        let writer = loom::thread::spawn(move || {
            for v in 1..=2u64 {
                protocol::write(&*w, 2, || {
                    w.a.store(v, Relaxed);
                    w.b.store(3 * v, Relaxed);
                });
            }
        });
        let (a, b) = protocol::read(&*m, 0, || (m.a.load(Relaxed), m.b.load(Relaxed)));
        assert_eq!(b, 3 * a, "torn read: a = {a}, b = {b}");
        writer.join().unwrap();
        // After the writer is done, a reader sees the last update and an even seq.
        let (a, b) = protocol::read(&*m, 0, || (m.a.load(Relaxed), m.b.load(Relaxed)));
        assert_eq!((a, b), (2, 6));
        assert_eq!(m.seq[0].load(Relaxed), 4);
        assert_eq!(m.seq[1].load(Relaxed), 4);
    });
}

#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "loom runs the same model whatever the host (its weak-memory simulation is not the CPU's); it takes 2 s natively and 34 s under qemu-user, so the x86_64 run carries it (run with --ignored to repeat it here)"
)]
fn seqlock_reader_never_sees_a_torn_pair() {
    check(true);
}

#[test]
#[should_panic(expected = "torn read")]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "as above")]
fn seqlock_without_fences_is_caught_tearing() {
    check(false);
}
