// Package filemap maps files read-only into memory so that large tensor
// data (ONNX external data) is read from the page cache on demand instead
// of being copied onto the Go heap, and lets its users hand back the
// pages they are done with.
//
// A mapping is private and copy-on-write: a slice of it may be written
// (the file never changes), and such written pages are kept. Mappings
// live until the process ends: slices of them travel far (tensors of a
// model and of the graphs made from it), and unmapping while one is still
// reachable would crash. A file that shrinks while mapped makes reads of
// the lost part fault (SIGBUS), as with any mapping.
package filemap

import (
	"os"
	"sort"
	"sync"
	"unsafe"
)

type region struct{ lo, hi uintptr }

var (
	mu      sync.Mutex
	regions []region // sorted by lo
)

// Map maps the whole of f, of size bytes. It returns nil, nil where the
// platform has no mappings (the caller then reads the file) and for an
// empty file.
func Map(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil
	}
	b, err := mapFile(f, int(size))
	if err != nil || b == nil {
		return nil, err
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	mu.Lock()
	i := sort.Search(len(regions), func(i int) bool { return regions[i].lo > p })
	regions = append(regions, region{})
	copy(regions[i+1:], regions[i:])
	regions[i] = region{p, p + uintptr(len(b))}
	mu.Unlock()
	return b, nil
}

// Mapped tells whether b lies inside a mapping made by Map.
func Mapped(b []byte) bool {
	_, ok := within(b)
	return ok
}

func within(b []byte) (region, bool) {
	if len(b) == 0 {
		return region{}, false
	}
	lo := uintptr(unsafe.Pointer(&b[0]))
	hi := lo + uintptr(len(b))
	mu.Lock()
	defer mu.Unlock()
	i := sort.Search(len(regions), func(i int) bool { return regions[i].lo > lo }) - 1
	if i < 0 || hi > regions[i].hi {
		return region{}, false
	}
	return regions[i], true
}

// Release tells the system that the pages of b, which must lie in a
// mapping made by Map, are not needed for now: their memory is given
// back (clean pages are dropped and read again from the file on the next
// access; pages written since are kept). It does nothing for other
// memory or where the platform cannot. Callers release a large tensor's
// data after a pass over it, so that the process does not keep the whole
// file resident.
func Release(b []byte) {
	if _, ok := within(b); !ok {
		return
	}
	release(b)
}
