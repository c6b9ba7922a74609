package hugepages

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestReserveBacksNextAllocation reserves the region, then takes a
// 16 MiB allocation as a plugin would for a tensor: it lies in memory
// the kernel backs with huge pages (THPeligible), and once written it is
// backed by some.
func TestReserveBacksNextAllocation(t *testing.T) {
	if m := Mode(); m != "madvise" {
		t.Skipf("transparent huge pages are %q here (%s), not madvise: nothing to reserve", m, modeFile)
	}
	ok, err := reserve(Size)
	if err != nil || !ok {
		t.Fatalf("reserve = %v, %v", ok, err)
	}
	b := make([]byte, 16<<20)
	for i := range b {
		b[i] = 1
	}
	p := uintptr(unsafe.Pointer(&b[0]))
	eligible, huge, err := smaps(p)
	if err != nil {
		t.Fatal(err)
	}
	if !eligible {
		m, _ := os.ReadFile("/proc/self/maps")
		t.Fatalf("the allocation at %#x after reserve is not in a huge-page region\n%s", p, m)
	}
	if huge == 0 {
		t.Errorf("the allocation at %#x is eligible but no huge page backs its mapping (memory too fragmented?)", p)
	}
}

// smaps reads /proc/self/smaps for the mapping holding p: whether it is
// eligible for transparent huge pages and how many kB of huge pages back
// it.
func smaps(p uintptr) (eligible bool, hugeKB int, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return false, 0, err
	}
	defer f.Close()
	in, found := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uint64(p) >= l && uint64(p) < h
				found = found || in
				continue
			}
		}
		if !in || len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "THPeligible:":
			eligible = fields[1] == "1"
		case "AnonHugePages:":
			hugeKB, _ = strconv.Atoi(fields[1])
		}
	}
	if err := sc.Err(); err != nil {
		return false, 0, err
	}
	if !found {
		return false, 0, fmt.Errorf("no mapping holds %#x", p)
	}
	return eligible, hugeKB, nil
}
