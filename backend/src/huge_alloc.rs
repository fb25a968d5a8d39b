//! The process's allocator: the system's, but a request for a huge block is mapped lazily.
//!
//! Decoders of untrusted bytes (the Kafka listener's, through the `kafka-protocol` crate) read an
//! array's element count and reserve that many elements before reading one: a 12-byte request
//! claiming 2^31 elements of ~80 bytes asks for 160 GiB up front. The system allocator cannot give
//! it, and a failed allocation aborts the process. Mapped lazily (`MAP_NORESERVE`), the block costs
//! address space only: the decoder fails on the missing bytes, touches a page or two, and the block
//! goes back. Blocks that are used are paid for page by page, as any memory is.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks this large or larger are mapped lazily; smaller ones come from the system allocator.
pub const HUGE_ALLOCATION_BYTES: usize = 1 << 30;

/// The system allocator, with huge blocks mapped lazily (on Unix).
pub struct HugeLazily;

/// The largest alignment a fresh mapping gives (page alignment).
const PAGE_BYTES: usize = 4096;

fn lazily(layout: Layout) -> bool {
    cfg!(unix) && layout.size() >= HUGE_ALLOCATION_BYTES && layout.align() <= PAGE_BYTES
}

// SAFETY: every block comes from the system allocator or from its own anonymous mapping, and goes
// back the way it came (decided by the same layout, as `GlobalAlloc` guarantees at dealloc).
unsafe impl GlobalAlloc for HugeLazily {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if lazily(layout) {
            return map(layout.size());
        }
        // SAFETY: the caller's layout goes through unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if lazily(layout) {
            // Fresh anonymous pages read as zero.
            return map(layout.size());
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if lazily(layout) {
            unmap(ptr, layout.size());
            return;
        }
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align(new_size, layout.align());
        match new_layout {
            Ok(new_layout) if !lazily(layout) && !lazily(new_layout) => {
                // SAFETY: both layouts are the system allocator's.
                unsafe { System.realloc(ptr, layout, new_size) }
            }
            Ok(new_layout) => {
                // Across the threshold (or within it): a new block, the bytes copied, the old one freed.
                // SAFETY: `new_layout` is valid; the copy is within both blocks.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
            Err(_) => std::ptr::null_mut(),
        }
    }
}

#[cfg(unix)]
fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping touches no existing memory.
    let mapped = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if mapped == libc::MAP_FAILED { std::ptr::null_mut() } else { mapped.cast() }
}

#[cfg(unix)]
fn unmap(ptr: *mut u8, size: usize) {
    // SAFETY: `ptr` and `size` are a mapping `map` made.
    unsafe {
        libc::munmap(ptr.cast(), size);
    }
}

#[cfg(not(unix))]
fn map(_size: usize) -> *mut u8 {
    std::ptr::null_mut()
}

#[cfg(not(unix))]
fn unmap(_ptr: *mut u8, _size: usize) {}

#[cfg(test)]
mod tests {
    /// What a hostile array count asks for: far more than the machine has. Without the lazy
    /// mapping this aborts the test process.
    #[test]
    fn a_huge_reservation_costs_address_space_only() {
        let mut huge: Vec<[u8; 80]> = Vec::with_capacity(1 << 31);
        huge.push([7; 80]);
        assert_eq!(huge[0][79], 7);
        let small: Vec<u8> = vec![1; 1024];
        assert_eq!(small.iter().map(|&b| usize::from(b)).sum::<usize>(), 1024);
    }
}
