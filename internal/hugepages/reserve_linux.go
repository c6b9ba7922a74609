package hugepages

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on amd64 and arm64
// (4 KiB base pages).
const hugePage = 2 << 20

func reserve(n int) (bool, error) {
	// A large allocation of memory the heap has just mapped is neither
	// zeroed nor touched by the runtime: its pages are still unbacked.
	b := make([]byte, n)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	// From the huge page holding its first byte, which the heap's next
	// allocation shares: advice on pages already in use does no harm.
	beg, end := alignDown(p), alignDown(p+uintptr(n))
	var err error
	if beg < end {
		// The range reaches outside b: advise it by address.
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, beg, end-beg, unix.MADV_HUGEPAGE); e != 0 {
			err = fmt.Errorf("madvise %#x+%d MADV_HUGEPAGE: %w", beg, end-beg, e)
		}
	}
	runtime.KeepAlive(b)
	// Collect the allocation now, so the region is free for the heap's
	// next allocations rather than live until the first collection.
	runtime.GC()
	return err == nil && beg < end, err
}

func alignDown(p uintptr) uintptr { return p &^ (hugePage - 1) }
