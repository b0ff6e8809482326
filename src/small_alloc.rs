//! A small, fast allocator for the npm package (feature `small-alloc`): blocks of
//! power-of-two sizes, a free list per size, memory taken from `memory.grow` and never
//! given back (wasm cannot shrink its memory anyway).
//!
//! Why: the default allocator (dlmalloc) is about 7 KB of the package's code, more than
//! the parser; this one is a few hundred bytes. Allocation and freeing are O(1) and the
//! client's steady state (the same buffers and handles over and over) reuses the same
//! blocks, so memory stops growing once every size in use has been allocated. The
//! price is up to 2× for a block's rounding and no coalescing of free blocks, which the
//! client's allocation pattern (small values, a few buffers that grow by doubling)
//! does not mind.

// Natively only the tests use the heap; the allocator itself is for wasm32.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use std::alloc::Layout;
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
use std::{alloc::GlobalAlloc, cell::UnsafeCell, ptr::null_mut};

/// wasm's page size.
const PAGE: usize = 65536;
/// The smallest block: room for a free list's link.
const MIN_SIZE: usize = 8;
/// Free lists for blocks of 2^0 .. 2^(usize::BITS - 1) bytes (the small ones unused).
const CLASSES: usize = usize::BITS as usize;

/// The allocator's state, over memory that `grow` hands out.
pub(crate) struct Heap {
    /// The first free block of each size, linked through their first word.
    free: [usize; CLASSES],
    /// The untouched part of the memory grown so far.
    next: usize,
    end: usize,
}

impl Heap {
    pub(crate) const fn new() -> Heap {
        Heap {
            free: [0; CLASSES],
            next: 0,
            end: 0,
        }
    }

    /// The size class of `layout`: the block is 2^class bytes, aligned to its size (up
    /// to a page), so it satisfies the layout's alignment too.
    fn class(layout: Layout) -> Option<usize> {
        let size = layout.size().max(layout.align()).max(MIN_SIZE);
        Some(size.checked_next_power_of_two()?.trailing_zeros() as usize)
    }

    /// A block for `layout`, or 0 when memory cannot grow. `grow(pages)` adds pages and
    /// returns the address of the first, or `None`.
    ///
    /// # Safety
    /// Every address `grow` returned must be writable memory owned by this heap.
    pub(crate) unsafe fn alloc(
        &mut self,
        layout: Layout,
        grow: impl FnOnce(usize) -> Option<usize>,
    ) -> usize {
        let Some(class) = Heap::class(layout) else {
            return 0;
        };
        let head = self.free[class];
        if head != 0 {
            // SAFETY: a free block holds the address of the next one in its first word.
            self.free[class] = unsafe { *(head as *const usize) };
            return head;
        }
        let size = 1usize << class;
        let align = size.min(PAGE);
        if let Some(start) = self.carve(size, align) {
            return start;
        }
        let Some(pages) = size.checked_add(align).map(|needed| needed.div_ceil(PAGE)) else {
            return 0;
        };
        let Some(base) = grow(pages) else {
            return 0;
        };
        if base != self.end {
            // Not contiguous with what we had (the first growth, or someone else grew
            // the memory meanwhile): carve from the new pages.
            self.next = base;
        }
        self.end = base + pages * PAGE;
        self.carve(size, align).unwrap_or(0)
    }

    fn carve(&mut self, size: usize, align: usize) -> Option<usize> {
        let start = self.next.checked_add(align - 1)? & !(align - 1);
        let end = start.checked_add(size)?;
        if end > self.end {
            return None;
        }
        self.next = end;
        Some(start)
    }

    /// Puts a block back on its free list.
    ///
    /// # Safety
    /// `address` must be a block this heap handed out for `layout`, not freed since.
    pub(crate) unsafe fn dealloc(&mut self, address: usize, layout: Layout) {
        if let Some(class) = Heap::class(layout) {
            // SAFETY: the block is ours and at least a word long.
            unsafe { *(address as *mut usize) = self.free[class] };
            self.free[class] = address;
        }
    }

    /// Whether a block for `old` also fits `new` (the same size class).
    pub(crate) fn fits(old: Layout, new: Layout) -> bool {
        Heap::class(old) == Heap::class(new)
    }
}

/// The global allocator of a single-threaded wasm module.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
pub(crate) struct SmallAlloc(UnsafeCell<Heap>);

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
// SAFETY: without the atomics feature a wasm module runs on one thread only.
unsafe impl Sync for SmallAlloc {}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: SmallAlloc = SmallAlloc(UnsafeCell::new(Heap::new()));

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
fn grow_memory(pages: usize) -> Option<usize> {
    let previous = core::arch::wasm32::memory_grow(0, pages);
    (previous != usize::MAX).then(|| previous * PAGE)
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
// SAFETY: the heap only hands out memory that `memory.grow` added, each block once.
unsafe impl GlobalAlloc for SmallAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread, and the allocator never calls itself.
        let heap = unsafe { &mut *self.0.get() };
        (unsafe { heap.alloc(layout, grow_memory) }) as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above; `ptr` came from `alloc` with this layout.
        unsafe { (*self.0.get()).dealloc(ptr as usize, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return null_mut();
        };
        if Heap::fits(layout, new_layout) {
            return ptr;
        }
        // SAFETY: the contract of `GlobalAlloc::realloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least the smaller size, and do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory for a heap under test: `pages` pages, handed out in order.
    struct Arena {
        base: *mut u8,
        pages: usize,
        used: usize,
    }

    impl Arena {
        fn new(pages: usize) -> Arena {
            let layout = Layout::from_size_align(pages * PAGE, PAGE).unwrap();
            // SAFETY: a non-zero size.
            let base = unsafe { std::alloc::alloc_zeroed(layout) };
            assert!(!base.is_null());
            Arena {
                base,
                pages,
                used: 0,
            }
        }

        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.used + pages > self.pages {
                return None;
            }
            let address = self.base as usize + self.used * PAGE;
            self.used += pages;
            Some(address)
        }
    }

    impl Drop for Arena {
        fn drop(&mut self) {
            let layout = Layout::from_size_align(self.pages * PAGE, PAGE).unwrap();
            // SAFETY: allocated in `new` with this layout.
            unsafe { std::alloc::dealloc(self.base, layout) };
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn blocks_are_aligned_distinct_and_reused() {
        let mut arena = Arena::new(64);
        let mut heap = Heap::new();
        let mut taken = Vec::new();
        for (size, align) in [(1, 1), (24, 8), (100, 4), (3, 16), (4096, 8), (70_000, 8)] {
            let block = unsafe { heap.alloc(layout(size, align), |p| arena.grow(p)) };
            assert_ne!(block, 0);
            assert_eq!(block % align, 0);
            // Write the whole block: it must be ours.
            unsafe { std::ptr::write_bytes(block as *mut u8, 0xAB, size) };
            taken.push((block, size));
        }
        taken.sort();
        for pair in taken.windows(2) {
            assert!(
                pair[0].0 + pair[0].1 <= pair[1].0,
                "blocks overlap: {pair:?}"
            );
        }
        let first = unsafe { heap.alloc(layout(24, 8), |p| arena.grow(p)) };
        unsafe { heap.dealloc(first, layout(24, 8)) };
        let again = unsafe { heap.alloc(layout(30, 8), |p| arena.grow(p)) };
        assert_eq!(
            first, again,
            "a freed block of the same size class is reused"
        );
    }

    #[test]
    fn a_steady_state_takes_no_more_memory() {
        let mut arena = Arena::new(64);
        let mut heap = Heap::new();
        let cycle = |heap: &mut Heap, arena: &mut Arena| {
            let blocks: Vec<(usize, Layout)> = [16, 200, 3000, 40_000]
                .into_iter()
                .map(|size| {
                    let layout = layout(size, 8);
                    (unsafe { heap.alloc(layout, |p| arena.grow(p)) }, layout)
                })
                .collect();
            for (block, layout) in blocks {
                assert_ne!(block, 0);
                unsafe { heap.dealloc(block, layout) };
            }
        };
        cycle(&mut heap, &mut arena);
        let used = arena.used;
        for _ in 0..1000 {
            cycle(&mut heap, &mut arena);
        }
        assert_eq!(arena.used, used);
    }

    #[test]
    fn exhausted_memory_is_a_null_block_not_a_panic() {
        let mut arena = Arena::new(2);
        let mut heap = Heap::new();
        assert_eq!(
            unsafe { heap.alloc(layout(1 << 20, 8), |p| arena.grow(p)) },
            0
        );
        assert_eq!(
            unsafe { heap.alloc(layout(isize::MAX as usize, 1), |p| arena.grow(p)) },
            0
        );
        assert_ne!(unsafe { heap.alloc(layout(64, 8), |p| arena.grow(p)) }, 0);
    }

    #[test]
    fn same_class_reallocation_stays_in_place() {
        assert!(Heap::fits(layout(20, 8), layout(32, 8)));
        assert!(!Heap::fits(layout(32, 8), layout(33, 8)));
    }
}
