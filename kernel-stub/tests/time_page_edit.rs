//! Editing a live modern-profile time page by hand (`TimePageWriter::update`), on every
//! architecture (the native modern row of the host's page size, so loongarch64's 16 KiB row under
//! qemu-loongarch64 too).

use vdso_abi::clock_mode;
use vdso_kernel_stub::mapping::note_only_image;
use vdso_kernel_stub::{ArchLayout, MappedVdso};

/// `TimePageWriter::update` edits a modern time page by hand: the reader's view shows every
/// field set, each struct's `seq` (base and auxiliary) advanced by one whole section; a time page
/// type of another layout (`max_cycles` or not) is refused and writes nothing.
#[test]
fn a_modern_time_page_is_edited_by_hand_and_another_layouts_type_is_refused() {
    use vdso_abi::modern::VdsoTimeData;
    let arch = ArchLayout::native().arch;
    let page_size = rustix::param::page_size();
    let modern = vdso_kernel_stub::Variant::of_arch(arch)
        .find(|v| v.profile == vdso_kernel_stub::Profile::Modern && v.page_size == page_size)
        .expect("a modern row for the native arch");
    let layout = ArchLayout::of_variant(modern);
    let m = MappedVdso::map(&note_only_image(layout), layout).unwrap();
    let mut w = m.time_page_writer().unwrap();
    fn edit<M: vdso_kernel_stub::modern::MaxCycles>(td: &mut VdsoTimeData<M, ()>) {
        td.hrtimer_res = 7;
        td.clock_data[1].cycle_last = 11;
        td.aux_clock_data[3].clock_mode = clock_mode::ARCH;
        // SAFETY (union): plain integers.
        unsafe { td.aux_clock_data[3].bases.basetime[0].sec = 13 };
    }
    let results = [w.update(edit::<u64>).is_ok(), w.update(edit::<()>).is_ok()];
    let vdso_abi::modern::ModernLayout { max_cycles, .. } = *vdso_abi::modern::of(arch);
    assert_eq!(results, [max_cycles, !max_cycles], "exactly the layout's own type is accepted");
    /// What the edit set, and the `seq`s, as the reader's view at `p` shows them.
    fn seen<M: Copy>(p: *const u8) -> (u32, u64, u32, i32, u64, u32) {
        // SAFETY: the reader's view of the time page, mapped readable, holding this layout's
        // type (`M` as the layout says); no writer runs now.
        let td = unsafe { &*p.cast::<VdsoTimeData<M, ()>>() };
        let a = &td.aux_clock_data[3];
        // SAFETY (union): plain integers.
        let sec = unsafe { a.bases.basetime[0].sec };
        (td.hrtimer_res, td.clock_data[1].cycle_last, td.clock_data[0].seq, a.clock_mode, sec, a.seq)
    }
    let seen = if max_cycles { seen::<u64>(m.data_base()) } else { seen::<()>(m.data_base()) };
    assert_eq!(seen, (7, 11, 2, clock_mode::ARCH, 13, 2), "{arch:?}: hand edits, one section each");
}
