package filemap

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

func mapFile(f *os.File, size int) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
}

// release pages out the whole pages inside b. MADV_PAGEOUT drops clean
// file pages and cannot lose written ones (they would go to swap, or
// stay), unlike MADV_DONTNEED, which would discard them.
func release(b []byte) {
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(&b[0]))
	skip := int((page - start%page) % page)
	if skip >= len(b) {
		return
	}
	n := (len(b) - skip) &^ int(page-1)
	if n == 0 {
		return
	}
	_ = unix.Madvise(b[skip:skip+n], unix.MADV_PAGEOUT)
}
