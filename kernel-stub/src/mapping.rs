//! Mapping `[data pages | image]` into the current process, the way a kernel maps a vDSO.
//!
//! The layout is docs/abi.md §1: one contiguous region, the data pages first, then the image, whose
//! first byte is what `AT_SYSINFO_EHDR` would hold. Before anything is mapped the image is
//! checked against the layout ([`ArchLayout::check_image`]: an ELF shared object of the layout's
//! architecture whose own layout note describes exactly this layout), so an image of the other
//! architecture, of another layout revision or plain garbage is an [`Error::Image`] instead of a
//! crash at its first call. Like a kernel, this keeps the data page in one physical page seen
//! through two mappings:
//!
//! - the *reader's view*: the page mapped read-only (`MAP_SHARED` of a memfd) at its slot in the
//!   region, which is all the image and any program can see;
//! - the *writer's view*: the same memfd mapped read-write somewhere else, which only the
//!   [`DataWriter`] (the stand-in for the kernel's timekeeping code) writes through.
//!
//! **The reader can never write the data pages**, as with Linux's `[vvar]` (where `mprotect` to
//! writable fails with `EACCES`): the writer's view is mapped first, then the memfd is sealed
//! (`F_SEAL_FUTURE_WRITE`, and against resizing and further sealing), and only then are the
//! reader's views mapped. A shared mapping made after that seal carries no "may write" right,
//! so `mprotect(PROT_WRITE)` on it fails with `EACCES`, no new writable mapping or `write(2)` of
//! the memfd is possible through any descriptor (`/proc/PID/fd` included), and writes through
//! `/proc/self/mem` are refused too. Existing writable mappings (the writer's view, and its copy
//! in a forked writer process) keep working. Every page of the data area is such a view: data
//! pages the layout reserves but this stub does not use (x86_64's pvclock and hvclock pages, and
//! the namespace slot outside a namespace) map a page of the memfd that is never written, so
//! they read as zeros and refuse write access like the rest (an anonymous zero page could be
//! made writable, which would only change the program's private copy, but the data area then
//! would not behave as the kernel's does).
//!
//! The image bytes are copied into an anonymous mapping right after the data pages, then made
//! read+execute (never writable and executable at once). On riscv64, `mprotect` to an executable
//! mapping makes Linux flush the instruction cache for those pages, so no `fence.i` is needed.
//!
//! The region lands at a random page-aligned address: a `PROT_NONE` reservation of the region
//! plus random slack, then the region placed at a random page offset inside it (from
//! `getrandom`) with `MAP_FIXED`, and the rest of the reservation released. Tests that map twice
//! thus see different addresses, as ASLR gives a real process.
//!
//! For a time namespace ([`MapOptions::timens`]) the memfd holds two written pages: the real data
//! page, mapped at the namespace slot, and a namespace page built by [`crate::timens`], mapped at
//! page 0.
//!
//! Both profiles of the variant table map this way: for a modern row (Linux 6.18's layout) the
//! "data page" is the time page (`struct vdso_time_data`), the namespace page is written by
//! [`crate::modern`], the RNG page (`struct vdso_rng_data`) and riscv64's arch page (its
//! hwprobe answers) are written pages of the memfd too, and the pvclock and hvclock pages are
//! the never-written page. Its single writer is a [`TimePageWriter`]
//! ([`MappedVdso::time_page_writer`], which also writes the RNG and arch pages) instead of a
//! [`DataWriter`].

use std::ffi::c_void;
use std::mem::size_of;
use std::ops::{Deref, DerefMut};
use std::os::fd::OwnedFd;
use std::ptr::{null_mut, NonNull};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use rustix::fs::{fcntl_add_seals, ftruncate, memfd_create, MemfdFlags, SealFlags};
use rustix::mm::{mmap, mmap_anonymous, mprotect, munmap, MapFlags, MprotectFlags, ProtFlags};
use rustix::rand::{getrandom, GetRandomFlags};

use crate::arch::{with_arch_data, VdsoArch};
use crate::config::ConfigError;
use crate::error::{sys, Error};
use crate::layout::{vdso_data_ptr, ArchLayout, Profile};
use crate::modern::{MaxCycles, TimePageOps};
use crate::reader::Reader;
use crate::rng::RngWriter;
use crate::symbols::DynImage;
use crate::timens::{write_timens_page, TimensOffsets};
use crate::update::TimeSnapshot;
use crate::writer::SeqlockWriter;
use vdso_abi::modern::VdsoTimeData;

/// Largest image accepted (the contract's image is one page; tests may map more).
pub const MAX_IMAGE_SIZE: usize = 1 << 20;
/// The region is placed at one of this many page offsets inside its reservation.
const RANDOM_SLACK_PAGES: usize = 4096;

/// How to map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapOptions {
    /// The architecture's layout.
    pub layout: ArchLayout,
    /// Map as for a task in a time namespace with these offsets.
    pub timens: Option<TimensOffsets>,
}

impl MapOptions {
    /// Plain mapping with `layout`.
    pub const fn new(layout: ArchLayout) -> Self {
        MapOptions { layout, timens: None }
    }

    /// As for a task in a time namespace with `offsets`.
    pub const fn timens(self, offsets: TimensOffsets) -> Self {
        MapOptions { timens: Some(offsets), ..self }
    }
}

/// The mapping's resources; unmapped when the last owner (mapping, writer, reader) goes.
struct Inner {
    layout: ArchLayout,
    /// Start of the region (page 0 of the data area).
    base: NonNull<u8>,
    /// Bytes of the region: data pages and the page-rounded image.
    len: usize,
    /// Bytes of the image as given.
    image_len: usize,
    /// Writer's view of the memfd: page 0 the real data page, page 1 the namespace page.
    rw: NonNull<u8>,
    rw_len: usize,
    timens: bool,
    /// Which page of the writer's view holds which written page.
    slots: Slots,
    writer_taken: AtomicBool,
    _memfd: OwnedFd,
}

/// The pages of the data memfd that are written, in order, each the index of its (first) page
/// there (and in the writer's view): the real data page (0), the namespace page, loongarch64's
/// per-CPU pages (`pcpu_pages` of them: 8 in the modern profile),
/// the modern profile's RNG page and riscv64's modern arch page (hwprobe answers), each only where
/// the mapping has it. The page after them (`rw_pages`) is never written: it backs every reserved
/// data page.
#[derive(Clone, Copy, Debug)]
struct Slots {
    ns: usize,
    pcpu: Option<usize>,
    rng: Option<usize>,
    hwprobe: Option<usize>,
    rw_pages: usize,
}

impl Slots {
    fn new(layout: ArchLayout, timens: bool) -> Slots {
        let mut next = 1;
        // `pages` consecutive memfd pages where the mapping has the page(s), none otherwise.
        let mut take = |present: bool, pages: usize| {
            let index = next;
            next += if present { pages } else { 0 };
            present.then_some(index)
        };
        let ns = take(timens, 1).unwrap_or(1);
        let pcpu = take(layout.pcpu_page.is_some(), layout.pcpu_pages);
        let rng = take(layout.rng_page().is_some(), 1);
        let hwprobe = take(layout.hwprobe_page().is_some(), 1);
        Slots { ns, pcpu, rng, hwprobe, rw_pages: next }
    }
}

/// Which page of loongarch64's per-CPU array data page `page` is (`None` outside it).
fn pcpu_index(layout: ArchLayout, page: usize) -> Option<usize> {
    let first = layout.pcpu_page?;
    page.checked_sub(first).filter(|&i| i < layout.pcpu_pages)
}

// SAFETY: `Inner` only holds addresses of mappings it owns; the memory behind them is accessed
// through atomics (data pages) or read-only (image), so sharing and sending it is fine.
unsafe impl Send for Inner {}
// SAFETY: as above.
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        // SAFETY: both ranges are mappings this `Inner` created and still owns; nothing built
        // from them outlives it (writers and readers hold an `Arc<Inner>`).
        unsafe {
            let _ = munmap(self.base.as_ptr().cast(), self.len);
            let _ = munmap(self.rw.as_ptr().cast(), self.rw_len);
        }
    }
}

/// A vDSO image mapped with its data pages in this process.
pub struct MappedVdso {
    inner: Arc<Inner>,
}

/// The layout note of `layout` as one ELF note entry (header, owner name, descriptor), ready to
/// be placed in a `PT_NOTE` segment.
pub fn layout_note_entry(layout: ArchLayout) -> Vec<u8> {
    let n = layout.note(vdso_abi::DEFAULT_HZ);
    let owner = vdso_abi::note::OWNER.as_bytes();
    let mut out = Vec::new();
    for w in [owner.len() as u32 + 1, (vdso_abi::note::WORDS * 4) as u32, vdso_abi::note::TYPE_LAYOUT] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(owner);
    out.push(0);
    out.resize(out.len().next_multiple_of(4), 0);
    for w in n.words() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// The smallest image [`MappedVdso::map`] accepts for `layout`: an ELF header of the layout's
/// architecture, one `PT_NOTE` program header and the layout note, nothing else (no code, no
/// symbols). For tests and tools that need a mapping's data pages but no image.
pub fn note_only_image(layout: ArchLayout) -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let note = layout_note_entry(layout);
    let mut img = vec![0u8; EHDR + PHDR];
    img[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    img[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
    img[18..20].copy_from_slice(&layout.elf_machine().to_le_bytes());
    img[20..24].copy_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    img[32..40].copy_from_slice(&(EHDR as u64).to_le_bytes()); // e_phoff
    img[52..54].copy_from_slice(&(EHDR as u16).to_le_bytes()); // e_ehsize
    img[54..56].copy_from_slice(&(PHDR as u16).to_le_bytes()); // e_phentsize
    img[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
    let ph = EHDR;
    img[ph..ph + 4].copy_from_slice(&4u32.to_le_bytes()); // PT_NOTE
    img[ph + 4..ph + 8].copy_from_slice(&4u32.to_le_bytes()); // PF_R
    let (off, size) = ((EHDR + PHDR) as u64, note.len() as u64);
    for (k, v) in [off, off, off, size, size, 4].into_iter().enumerate() {
        img[ph + 8 + 8 * k..ph + 16 + 8 * k].copy_from_slice(&v.to_le_bytes());
    }
    img.extend_from_slice(&note);
    img
}

fn page_round(n: usize, page_size: usize) -> usize {
    n.div_ceil(page_size) * page_size
}

fn random_u64() -> Result<u64, Error> {
    let mut b = [0u8; 8];
    let mut filled = 0;
    while filled < b.len() {
        filled += getrandom(&mut b[filled..], GetRandomFlags::empty()).map_err(sys("getrandom"))?;
    }
    Ok(u64::from_le_bytes(b))
}

impl MappedVdso {
    /// Maps `image` after the data pages of `layout`, at a random address.
    pub fn map(image: &[u8], layout: ArchLayout) -> Result<MappedVdso, Error> {
        MappedVdso::map_with(image, MapOptions::new(layout))
    }

    /// Maps `image` as `options` say.
    pub fn map_with(image: &[u8], options: MapOptions) -> Result<MappedVdso, Error> {
        let layout = options.layout;
        if image.is_empty() {
            return Err(Error::EmptyImage);
        }
        if image.len() > MAX_IMAGE_SIZE {
            return Err(Error::ImageTooLarge { len: image.len(), max: MAX_IMAGE_SIZE });
        }
        // The image's data pages and its text are laid out in pages of the layout's size: in an
        // address space of another page size every offset past page 0 would be wrong.
        // SAFETY: `sysconf` only reads a value the C library keeps; no pointers are involved.
        let host = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
        if layout.page_size != host {
            return Err(Error::PageSize { layout: layout.page_size, host });
        }
        let page_size = layout.page_size;
        layout.check_image(image).map_err(Error::Image)?;
        let image_size = page_round(image.len(), page_size);
        let len = layout.data_size() + image_size;
        let slots = Slots::new(layout, options.timens.is_some());
        let rw_pages = slots.rw_pages;
        let rw_len = rw_pages * page_size;
        let zero_page = rw_pages;

        let memfd = memfd_create("vdso-data", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
            .map_err(sys("memfd_create"))?;
        ftruncate(&memfd, ((rw_pages + 1) * page_size) as u64).map_err(sys("ftruncate of the data memfd"))?;
        // SAFETY: a fresh shared mapping of our own memfd at an address the kernel picks.
        let rw = unsafe {
            mmap(null_mut(), rw_len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED, &memfd, 0)
        }
        .map_err(sys("mmap of the writer's view"))?;
        let rw = NonNull::new(rw.cast::<u8>()).expect("mmap never returns null on success");
        // From now on the writer's view is the only writable mapping there will ever be: every
        // mapping made after this seal (the reader's views) cannot be made writable.
        let sealed = fcntl_add_seals(
            &memfd,
            SealFlags::FUTURE_WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
        );
        if let Err(errno) = sealed {
            // SAFETY: `rw` is the mapping made above, not yet shared with anyone.
            unsafe {
                let _ = munmap(rw.as_ptr().cast(), rw_len);
            }
            return Err(Error::Sys { op: "sealing the data memfd against writable mappings", errno });
        }

        let slack = RANDOM_SLACK_PAGES * page_size;
        // SAFETY: reserves fresh address space at an address the kernel picks; nothing is
        // replaced.
        let reserve = unsafe {
            mmap_anonymous(
                null_mut(),
                len + slack,
                ProtFlags::empty(),
                MapFlags::PRIVATE | MapFlags::NORESERVE,
            )
        };
        let reserve = match reserve {
            Ok(p) => p.cast::<u8>(),
            Err(errno) => {
                // SAFETY: `rw` is the mapping made above, not yet shared with anyone.
                unsafe {
                    let _ = munmap(rw.as_ptr().cast(), rw_len);
                }
                return Err(Error::Sys { op: "mmap of the address reservation", errno });
            }
        };
        let offset = match random_u64() {
            Ok(r) => (r % (RANDOM_SLACK_PAGES as u64 + 1)) as usize * page_size,
            Err(e) => {
                // SAFETY: both are our fresh mappings, unused.
                unsafe {
                    let _ = munmap(reserve.cast(), len + slack);
                    let _ = munmap(rw.as_ptr().cast(), rw_len);
                }
                return Err(e);
            }
        };
        // SAFETY: `reserve..reserve + len + slack` is our reservation; we release the parts
        // before and after the region and keep the region itself.
        unsafe {
            if offset > 0 {
                let _ = munmap(reserve.cast(), offset);
            }
            if slack - offset > 0 {
                let _ = munmap(reserve.add(offset + len).cast(), slack - offset);
            }
        }
        let base = NonNull::new(reserve.wrapping_add(offset)).expect("inside a successful mmap");
        let inner = Inner {
            layout,
            base,
            len,
            image_len: image.len(),
            rw,
            rw_len,
            timens: options.timens.is_some(),
            slots,
            writer_taken: AtomicBool::new(false),
            _memfd: memfd,
        };
        // From here on, dropping `inner` unmaps everything on error.

        if let Some(offsets) = &options.timens {
            let ns_page = rw.as_ptr().wrapping_add(slots.ns * page_size);
            // SAFETY: the namespace page of the writer's view: mapped, writable, 8-aligned at
            // the layout's offset, and nobody else can see it yet.
            unsafe { write_ns(layout, ns_page, offsets)? }
        }

        for page in 0..layout.data_pages {
            let at = base.as_ptr().wrapping_add(page * page_size).cast::<c_void>();
            let pcpu = pcpu_index(layout, page);
            let memfd_page = match options.timens {
                _ if pcpu.is_some() => slots.pcpu.zip(pcpu).map_or(zero_page, |(first, i)| first + i),
                _ if Some(page) == layout.rng_page() => slots.rng.unwrap_or(zero_page),
                _ if Some(page) == layout.hwprobe_page() => slots.hwprobe.unwrap_or(zero_page),
                None if page == layout.vvar_page => 0,
                Some(_) if page == layout.vvar_page => slots.ns,
                Some(_) if page == layout.timens_page => 0,
                _ => zero_page,
            };
            // SAFETY: `at` is a page of our own region (inside the reservation we hold), so
            // MAP_FIXED replaces only our own mapping.
            let r = unsafe {
                mmap(
                    at,
                    page_size,
                    ProtFlags::READ,
                    MapFlags::SHARED | MapFlags::FIXED,
                    &inner._memfd,
                    (memfd_page * page_size) as u64,
                )
            };
            r.map_err(sys("mmap of a data page"))?;
        }

        let image_at = base.as_ptr().wrapping_add(layout.image_offset());
        // SAFETY: the image pages of our own region; MAP_FIXED replaces only our reservation.
        unsafe {
            mmap_anonymous(
                image_at.cast(),
                image_size,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE | MapFlags::FIXED,
            )
        }
        .map_err(sys("mmap of the image"))?;
        // SAFETY: `image_at` is a fresh writable mapping of `image_size >= image.len()` bytes;
        // the source is a distinct slice.
        unsafe { std::ptr::copy_nonoverlapping(image.as_ptr(), image_at, image.len()) };
        // SAFETY: our own image mapping; nothing executes it yet.
        unsafe { mprotect(image_at.cast(), image_size, MprotectFlags::READ | MprotectFlags::EXEC) }
            .map_err(sys("mprotect of the image to read+execute"))?;

        Ok(MappedVdso { inner: Arc::new(inner) })
    }

    /// The layout this mapping follows.
    pub fn layout(&self) -> ArchLayout {
        self.inner.layout
    }

    /// Start of the whole region (page 0 of the data area, the reader's view).
    pub fn base(&self) -> *const u8 {
        self.inner.base.as_ptr()
    }

    /// Bytes of the whole region (data pages and page-rounded image).
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// Never true: a mapping has at least one data page and one image page.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Start of the data area, the reader's (read-only) view; the same as [`base`](Self::base).
    pub fn data_base(&self) -> *const u8 {
        self.base()
    }

    /// Start of the image: what `AT_SYSINFO_EHDR` would hold.
    pub fn image_base(&self) -> *const u8 {
        self.base().wrapping_add(self.inner.layout.image_offset())
    }

    /// [`image_base`](Self::image_base) as a number, ready for an auxiliary vector.
    pub fn sysinfo_ehdr(&self) -> usize {
        self.image_base() as usize
    }

    /// Bytes of the image as given to [`map`](Self::map) (the mapping is page-rounded).
    pub fn image_len(&self) -> usize {
        self.inner.image_len
    }

    /// The mapped image, page-rounded (zero-padded past [`image_len`](Self::image_len)).
    pub fn image(&self) -> &[u8] {
        let len = self.inner.len - self.inner.layout.image_offset();
        // SAFETY: the image pages are mapped readable for as long as `self` (which owns an
        // `Arc<Inner>`) lives, and never written after `map` returned.
        unsafe { std::slice::from_raw_parts(self.image_base(), len) }
    }

    /// Whether this mapping is arranged for a time namespace.
    pub fn has_timens(&self) -> bool {
        self.inner.timens
    }

    /// The writer's (read-write) view of the real data page. Write it only through a
    /// [`DataWriter`] (or with atomic stores while no writer exists).
    pub fn data_page_rw(&self) -> *mut u8 {
        self.inner.rw.as_ptr()
    }

    /// The writer's view of the namespace page, if mapped for a time namespace.
    pub fn timens_page_rw(&self) -> Option<*mut u8> {
        self.inner.timens.then(|| self.inner.rw.as_ptr().wrapping_add(self.inner.layout.page_size))
    }

    /// The writer's view of loongarch64's per-CPU array: its first page, followed by the
    /// others (`layout().pcpu_pages` in all, contiguous); `None` for a layout without one.
    pub fn pcpu_page_rw(&self) -> Option<*mut u8> {
        self.slot_rw(self.inner.slots.pcpu)
    }

    /// The writer's view of the modern profile's RNG page (`None` for a classic layout, whose
    /// `vdso_rng_data` is on the real data page, or a layout without `getrandom`).
    pub fn rng_page_rw(&self) -> Option<*mut u8> {
        self.slot_rw(self.inner.slots.rng)
    }

    /// The writer's view of the page holding riscv64's hwprobe answers when they have a page of
    /// their own (the modern profile's arch page); `None` elsewhere.
    pub fn hwprobe_page_rw(&self) -> Option<*mut u8> {
        self.slot_rw(self.inner.slots.hwprobe)
    }

    fn slot_rw(&self, slot: Option<usize>) -> Option<*mut u8> {
        slot.map(|index| self.inner.rw.as_ptr().wrapping_add(index * self.inner.layout.page_size))
    }

    /// Sets the NUMA node `getcpu` reports for `cpu` (loongarch64's per-CPU array, as Linux
    /// fills `vdso_pcpu_data[cpu].node` at boot). Fails on a layout without a per-CPU page or
    /// a CPU number past the array's slots (63 classic, 2048 modern).
    pub fn set_cpu_node(&self, cpu: u32, node: u32) -> Result<(), Error> {
        let page = self.pcpu_page_rw().ok_or(Error::NoPcpuPage { arch: self.inner.layout.arch })?;
        let slots = self.inner.layout.pcpu_slots_mapped();
        // SAFETY: the writer's view of the per-CPU array: `pcpu_pages` contiguous pages, mapped
        // read-write for as long as `self` lives, holding `pcpu_slots_mapped` 64-byte slots.
        let stored = unsafe { crate::arch::loongarch64::store_cpu_node(page, cpu, node, slots) };
        stored.then_some(()).ok_or(Error::CpuOutOfRange { cpu, slots })
    }

    fn check_arch<A: VdsoArch>(&self) -> Result<(), Error> {
        if A::LAYOUT.same_data_as(&self.inner.layout) {
            Ok(())
        } else {
            Err(Error::ArchMismatch { mapping: self.inner.layout.arch, requested: A::LAYOUT.arch })
        }
    }

    /// The single writer of the real data page. Fails with [`Error::WriterBusy`] while another
    /// writer (e.g. a running [`crate::Ticker`]) exists.
    pub fn writer<A: VdsoArch>(&self) -> Result<DataWriter<A>, Error> {
        self.check_arch::<A>()?;
        if self.inner.writer_taken.swap(true, Ordering::Acquire) {
            return Err(Error::WriterBusy);
        }
        let pair = vdso_data_ptr::<A>(self.data_page_rw());
        // SAFETY: the pair lies in the writer's view, mapped read-write and 8-aligned for as long
        // as the `Arc<Inner>` the writer holds; `writer_taken` makes this the only writer;
        // readers (the image, `Reader`) only read atomically.
        let writer = unsafe { SeqlockWriter::new(NonNull::new(pair).expect("non-null mapping")) };
        // A classic layout's RNG data is on the real data page or, on loongarch64, on the per-CPU
        // page (the modern profile's RNG page has its own writer: `TimePageWriter::rng`).
        let layout = &self.inner.layout;
        let rng_at = layout.rng_data_offset.and_then(|o| {
            let (page, in_page) = (o / layout.page_size, o % layout.page_size);
            if layout.rng_follows_timens {
                Some(self.data_page_rw().wrapping_add(in_page))
            } else if Some(page) == layout.pcpu_page {
                self.pcpu_page_rw().map(|p| p.wrapping_add(in_page))
            } else {
                None
            }
        });
        let rng = rng_at.map(|at| {
            let rng = at.cast();
            // SAFETY: `vdso_rng_data` lies inside one page of the writer's view (the abi crate
            // asserts the offset fits, 8-aligned); `writer_taken` makes this its only writer.
            unsafe { RngWriter::new(NonNull::new(rng).expect("non-null mapping")) }
        });
        Ok(DataWriter { writer, rng, inner: Arc::clone(&self.inner) })
    }

    /// The single writer of a modern-profile mapping's real time page (`struct
    /// vdso_time_data`), the counterpart of [`writer`](Self::writer) for that profile. Fails with
    /// [`Error::WriterBusy`] while another writer exists, and on a classic mapping.
    pub fn time_page_writer(&self) -> Result<TimePageWriter, Error> {
        let layout = self.inner.layout;
        if layout.profile != Profile::Modern {
            return Err(Error::Config("a classic-profile mapping has no modern time page"));
        }
        let ops = modern_ops(layout)?;
        if self.inner.writer_taken.swap(true, Ordering::Acquire) {
            return Err(Error::WriterBusy);
        }
        let page = NonNull::new(self.data_page_rw()).expect("non-null mapping");
        let rng = self.rng_page_rw().map(|page| {
            // SAFETY: `vdso_rng_data` is at the start of the RNG page of the writer's view
            // (mapped read-write, page-aligned, for as long as `inner` lives); `writer_taken`
            // makes this its only writer.
            unsafe { RngWriter::new(NonNull::new(page.cast()).expect("non-null mapping")) }
        });
        let hwprobe = self.hwprobe_page_rw().map(|page| NonNull::new(page).expect("non-null mapping"));
        Ok(TimePageWriter { ops, page, rng, hwprobe, inner: Arc::clone(&self.inner) })
    }

    /// A reader of the reader's view (what the image sees), following the namespace page if
    /// there is one.
    pub fn reader<A: VdsoArch>(&self) -> Result<MappedReader<A>, Error> {
        self.check_arch::<A>()?;
        // SAFETY: the data pages stay mapped for as long as the `Arc<Inner>` the reader holds,
        // and are written only by a `DataWriter` or the namespace setup, atomically.
        let reader = unsafe { Reader::new(self.data_base()) };
        Ok(MappedReader { reader, _inner: Arc::clone(&self.inner) })
    }

    /// Rewrites the namespace page with new offsets (Linux writes it once, when the namespace's
    /// first task enters; rewriting it under running readers makes them see old or new offsets,
    /// never a torn value of one 64-bit field).
    pub fn set_timens_offsets(&self, offsets: &TimensOffsets) -> Result<(), Error> {
        let page = self.timens_page_rw().ok_or(Error::NoTimensPage)?;
        // SAFETY: the namespace page of the writer's view, mapped and 8-aligned; only this
        // function writes it, atomically.
        unsafe { write_ns(self.inner.layout, page, offsets) }
    }

    /// Sets the x86_64 `getcpu` mode byte (docs/abi.md §2: 0 = `lsl`, 1 = `rdpid`) on the real data
    /// page and, in a namespace arrangement, on the namespace page too (page 0 is what the image
    /// finds first, whichever page that is).
    pub fn set_getcpu_mode(&self, mode: u8) -> Result<(), Error> {
        let off = self
            .inner
            .layout
            .getcpu_mode_offset
            .ok_or(Error::Config("no getcpu mode byte on this architecture"))?;
        let pages = [Some(self.data_page_rw()), self.timens_page_rw()];
        for page in pages.into_iter().flatten() {
            // SAFETY: a byte of the writer's view, mapped read-write; readers read it atomically
            // (a single byte is always single-copy atomic).
            unsafe { AtomicU8::from_ptr(page.add(off)).store(mode, Ordering::Relaxed) };
        }
        Ok(())
    }

    /// Hands the reader's view over to whatever runs next in this process (a program started
    /// in place, as `execve` would): unmaps the writer's view and closes the data-page memfd,
    /// and leaves `[data pages | image]` mapped for good. What is left cannot be made writable
    /// (the memfd is sealed, see the module docs): the program can only read the data pages. Returns the region's start and length.
    /// The page stays fresh only if another process holds a writable mapping of the memfd (a
    /// writer started before this call). Fails with [`Error::StillShared`] while a
    /// [`DataWriter`] or [`MappedReader`] of this mapping exists.
    pub fn into_reader_only(self) -> Result<(usize, usize), Error> {
        let inner = Arc::try_unwrap(self.inner).map_err(|_| Error::StillShared)?;
        let inner = std::mem::ManuallyDrop::new(inner);
        // SAFETY: the writer's view is a mapping `inner` made and owns alone (no writer or reader
        // is left); `inner` is never dropped, so nothing unmaps it again, and the reader's
        // region is deliberately left mapped.
        unsafe {
            let _ = munmap(inner.rw.as_ptr().cast(), inner.rw_len);
            // Dropping the descriptor closes the memfd; another process's mapping keeps the page.
            drop(std::ptr::read(&inner._memfd));
        }
        Ok((inner.base.as_ptr() as usize, inner.len))
    }

    /// The x86_64 `getcpu` mode byte as the image sees it (page 0 of the reader's view).
    pub fn getcpu_mode(&self) -> Option<u8> {
        let off = self.inner.layout.getcpu_mode_offset?;
        // SAFETY: page 0 of the reader's view is mapped readable; the byte is written only with
        // atomic stores.
        Some(unsafe { AtomicU8::from_ptr(self.base().add(off).cast_mut()).load(Ordering::Relaxed) })
    }

    /// The image's dynamic symbol information, parsed from the mapping.
    pub fn dyn_image(&self) -> Result<DynImage<'_>, Error> {
        DynImage::parse(self.image()).map_err(|cause| Error::Symbol {
            name: String::new(),
            version: String::new(),
            cause,
        })
    }

    /// The address of `name` at `version` in the mapped image.
    pub fn symbol_address(&self, name: &str, version: &str) -> Result<usize, Error> {
        let err = |cause| Error::Symbol { name: name.into(), version: version.into(), cause };
        let img = DynImage::parse(self.image()).map_err(err)?;
        let sym = img.lookup(name, version).map_err(err)?;
        Ok(img.address(&sym))
    }

    /// The function `name` at `version`, as a function pointer of type `F`, e.g.
    /// `mapped.resolve::<unsafe extern "C" fn(i32, *mut Timespec) -> i32>("__vdso_clock_gettime",
    /// "LINUX_2.6")`.
    ///
    /// # Safety
    ///
    /// `F` must be a function-pointer type matching the symbol's signature and ABI, and the
    /// pointer must not be called after `self` is dropped.
    pub unsafe fn resolve<F: Copy>(&self, name: &str, version: &str) -> Result<F, Error> {
        let err = |cause| Error::Symbol { name: name.into(), version: version.into(), cause };
        let img = DynImage::parse(self.image()).map_err(err)?;
        // SAFETY: forwarded to our caller: `F` matches the symbol, and the mapping outlives its
        // use.
        unsafe { img.resolve::<F>(name, version) }.map_err(err)
    }
}

impl std::fmt::Debug for MappedVdso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedVdso")
            .field("layout", &self.inner.layout.arch)
            .field("base", &self.base())
            .field("image_base", &self.image_base())
            .field("len", &self.inner.len)
            .field("timens", &self.inner.timens)
            .finish()
    }
}

/// Writes a namespace page of `layout`'s profile into the page at `page`.
///
/// # Safety
///
/// `page` must be a mapped, writable page with no other writer.
unsafe fn write_ns(layout: ArchLayout, page: *mut u8, offsets: &TimensOffsets) -> Result<(), Error> {
    let page = NonNull::new(page).expect("non-null page");
    match layout.profile {
        Profile::Classic => {
            // SAFETY: forwarded from our caller.
            unsafe { with_arch_data!(layout.arch, |A| write_classic_ns::<A>(page, offsets)) }
        }
        // SAFETY: forwarded from our caller.
        Profile::Modern => unsafe { (modern_ops(layout)?.write_timens)(page, offsets) },
    }
    Ok(())
}

/// # Safety
/// As [`write_ns`].
unsafe fn write_classic_ns<A: VdsoArch>(page: NonNull<u8>, offsets: &TimensOffsets) {
    let pair = NonNull::new(vdso_data_ptr::<A>(page.as_ptr())).expect("non-null page");
    // SAFETY: forwarded from our caller.
    unsafe { write_timens_page::<A>(pair, offsets) };
}

/// The modern layout row of `layout`'s architecture.
fn modern_layout(layout: ArchLayout) -> Result<&'static vdso_abi::modern::ModernLayout, Error> {
    vdso_abi::modern::layout(layout.arch)
        .ok_or(Error::Config("no modern-profile layout for this architecture"))
}

/// The modern time page's writers for `layout`'s architecture.
fn modern_ops(layout: ArchLayout) -> Result<TimePageOps, Error> {
    TimePageOps::of(layout.arch).ok_or(Error::Config("no modern-profile layout for this architecture"))
}

/// The single writer of a [`MappedVdso`]'s real data page; keeps the mapping alive and frees the
/// writer slot when dropped. Dereferences to [`SeqlockWriter`].
pub struct DataWriter<A: VdsoArch> {
    writer: SeqlockWriter<A>,
    rng: Option<RngWriter>,
    inner: Arc<Inner>,
}

impl<A: VdsoArch> DataWriter<A> {
    /// The writer of the real page's `vdso_rng_data` (`getrandom`'s state: [`RngWriter`]);
    /// `None` for a layout without `getrandom` (loongarch64's today).
    pub fn rng(&mut self) -> Option<&mut RngWriter> {
        self.rng.as_mut()
    }
}

impl<A: VdsoArch> Deref for DataWriter<A> {
    type Target = SeqlockWriter<A>;
    fn deref(&self) -> &SeqlockWriter<A> {
        &self.writer
    }
}

impl<A: VdsoArch> DerefMut for DataWriter<A> {
    fn deref_mut(&mut self) -> &mut SeqlockWriter<A> {
        &mut self.writer
    }
}

impl<A: VdsoArch> Drop for DataWriter<A> {
    fn drop(&mut self) {
        self.inner.writer_taken.store(false, Ordering::Release);
    }
}

/// The single writer of a modern-profile [`MappedVdso`]'s real time page; keeps the mapping
/// alive and frees the writer slot when dropped.
pub struct TimePageWriter {
    ops: TimePageOps,
    page: NonNull<u8>,
    rng: Option<RngWriter>,
    hwprobe: Option<NonNull<u8>>,
    inner: Arc<Inner>,
}

// SAFETY: `page` points into the writer's view owned by `inner`, which the writer keeps alive;
// only this (single) writer writes it.
unsafe impl Send for TimePageWriter {}

impl TimePageWriter {
    /// Publishes `snap` into the time page under every base clock's `seq`
    /// ([`crate::modern::publish_time_data`]). Nothing is written if the snapshot is refused.
    pub fn publish(&mut self, snap: &TimeSnapshot) -> Result<(), ConfigError> {
        // SAFETY: `page` is the writer's view of the time page, mapped read-write and 64-aligned
        // for as long as `inner` lives; `writer_taken` makes this the only writer.
        unsafe { (self.ops.publish)(self.page, snap) }
    }

    /// The writer of the RNG page's `vdso_rng_data` ([`RngWriter`]); `None` for a layout
    /// without `getrandom`.
    pub fn rng(&mut self) -> Option<&mut RngWriter> {
        self.rng.as_mut()
    }

    /// Edits the time page by hand ([`crate::modern::update_time_data`]: `f` gets the page as it
    /// is; the base clocks, `tz`, `hrtimer_res` and each auxiliary clock are published under
    /// their `seq`), for fields no [`TimeSnapshot`] says: chosen base times, auxiliary clocks.
    /// `VdsoTimeData<M, A>` must be this layout's time page type
    /// (`vdso_abi::modern::<arch>::TimeData`); any other is refused with [`Error::Config`] and
    /// nothing is written.
    pub fn update<M: MaxCycles, A: Copy>(
        &mut self,
        f: impl FnOnce(&mut VdsoTimeData<M, A>),
    ) -> Result<(), Error> {
        let layout = modern_layout(self.inner.layout)?;
        if size_of::<VdsoTimeData<M, A>>() != layout.time_data_size
            || (size_of::<M>() != 0) != layout.max_cycles
        {
            return Err(Error::Config("not this layout's time page type"));
        }
        // SAFETY: `page` is the writer's view of the time page, mapped read-write and 64-aligned
        // for as long as `inner` lives, holding this layout's `VdsoTimeData` (checked above);
        // `writer_taken` makes this the only writer.
        unsafe { crate::modern::update_time_data(self.page.cast::<VdsoTimeData<M, A>>(), f) };
        Ok(())
    }

    /// Writes riscv64's hwprobe answers (`values[key]`, the keys past `values` 0) and whether all
    /// CPUs agree to the arch page, as Linux 6.18 fills `struct vdso_arch_data` once at boot:
    /// the values first, `homogeneous_cpus` last with release ordering (the image trusts the
    /// values only once that byte is set). Fails on a layout whose hwprobe answers have no page
    /// of their own.
    pub fn set_hwprobe(&mut self, values: &[u64], homogeneous: bool) -> Result<(), Error> {
        let page = self.hwprobe.ok_or(Error::Config("no hwprobe arch page in this layout"))?;
        // SAFETY: `page` is the writer's view of the arch page, mapped read-write and
        // page-aligned for as long as `inner` lives; this (single) writer writes it atomically.
        unsafe { crate::modern::write_riscv64_hwprobe(page, values, homogeneous) };
        Ok(())
    }
}

impl Drop for TimePageWriter {
    fn drop(&mut self) {
        self.inner.writer_taken.store(false, Ordering::Release);
    }
}

/// A [`Reader`] of a [`MappedVdso`]'s reader view that keeps the mapping alive.
pub struct MappedReader<A: VdsoArch> {
    reader: Reader<A>,
    _inner: Arc<Inner>,
}

impl<A: VdsoArch> Deref for MappedReader<A> {
    type Target = Reader<A>;
    fn deref(&self) -> &Reader<A> {
        &self.reader
    }
}
