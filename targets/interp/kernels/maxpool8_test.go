package kernels

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// guard is the value of the bytes around a kernel's output, which it
// must leave alone.
var guard = 0xA5

// TestMaxPool8 compares Max8, MaxPairs8 and MaxRowPairs8, with and
// without the assembly, uint8 and int8, with plain loops of max, on
// every length 0..200 (row lengths 1..70) and on starts of the input and
// the output 0..3 bytes past a 32-byte boundary, and wants the bytes
// around the output untouched.
func TestMaxPool8(t *testing.T) {
	withQAsm(t, func(t *testing.T) {
		testMaxPool8[uint8](t)
		testMaxPool8[int8](t)
	})
}

func testMaxPool8[T int8 | uint8](t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	fill := func(n int) []T {
		v := make([]T, n)
		for i := range v {
			v[i] = T(r.IntN(256))
		}
		return v
	}
	// out returns a slice of n levels at off past a 32-byte boundary with
	// guard bytes around it, and a check of the guards.
	out := func(n, off int) ([]T, func(what string)) {
		buf := make([]T, n+off+64+32)
		for i := range buf {
			buf[i] = T(guard)
		}
		s := 32 - int(uintptr(unsafe.Pointer(&buf[0]))%32) + off
		return buf[s : s+n : s+n], func(what string) {
			for i, v := range buf {
				if (i < s || i >= s+n) && v != T(guard) {
					t.Fatalf("%s: byte %d outside the output (at %d..%d) written", what, i, s, s+n)
				}
			}
		}
	}
	for n := 0; n <= 200; n++ {
		for off := range 4 {
			a, b := fill(n + off)[off:], fill(n + 3)[3:]
			dst, check := out(n, (off+1)%4)
			Max8(dst, a, b)
			check("Max8")
			for i := range dst {
				if want := max(a[i], b[i]); dst[i] != want {
					t.Fatalf("Max8 n %d off %d: level %d: %d, want %d", n, off, i, dst[i], want)
				}
			}
			src := fill(2*n + off)[off:]
			dst, check = out(n, 3-off)
			MaxPairs8(dst, src)
			check("MaxPairs8")
			for i := range dst {
				if want := max(src[2*i], src[2*i+1]); dst[i] != want {
					t.Fatalf("MaxPairs8 n %d off %d: level %d: %d, want %d", n, off, i, dst[i], want)
				}
			}
		}
	}
	// In place.
	a, b := fill(77), fill(77)
	want := make([]T, len(a))
	for i := range a {
		want[i] = max(a[i], b[i])
	}
	Max8(a, a, b)
	for i := range a {
		if a[i] != want[i] {
			t.Fatalf("Max8 in place: level %d: %d, want %d", i, a[i], want[i])
		}
	}
	for l := 1; l <= 70; l++ {
		for n := range 5 {
			for off := range 4 {
				src := fill(2*n*l + off)[off:]
				dst, check := out(n*l, (off+2)%4)
				MaxRowPairs8(dst, src, l)
				check("MaxRowPairs8")
				for q := range n {
					for j := range l {
						if want := max(src[2*q*l+j], src[(2*q+1)*l+j]); dst[q*l+j] != want {
							t.Fatalf("MaxRowPairs8 l %d n %d off %d: row %d level %d: %d, want %d", l, n, off, q, j, dst[q*l+j], want)
						}
					}
				}
			}
		}
	}
}

// TestMaxPool8Runs wants the assembly of MaxPairs8 and MaxRowPairs8 to
// run where the CPU has it, so that TestMaxPool8 tests it.
func TestMaxPool8Runs(t *testing.T) {
	if !hasQAsm() {
		t.Skip("no integer assembly")
	}
	defer UseQAssembly(UseQAssembly(true))
	if maxPairsVec(make([]uint8, 16), make([]uint8, 32), false) != 16 || maxRowsVec(make([]uint8, 3), make([]uint8, 3), make([]uint8, 3), 3, 1, 0, 0, true) != 3 {
		t.Fatal("the assembly did not run")
	}
}
