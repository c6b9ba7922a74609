package dataset

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseIDX feeds arbitrary bytes to the IDX parser: it must not panic,
// and what it accepts must hold exactly the bytes its dimensions say.
func FuzzParseIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 2, 2}, make([]byte, 8)), 3)
	f.Add(idxBytes([]int{3}, []byte{1, 2, 3}), 1)
	f.Add(idxBytes([]int{0, 28, 28}, nil), 3)
	f.Add([]byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 3)
	f.Add([]byte{0, 0}, 1)
	f.Fuzz(func(t *testing.T, b []byte, ndim int) {
		ndim = 1 + (ndim&0xff)%4
		arr, err := parseIDX(b, ndim)
		if err != nil {
			return
		}
		n := 1
		for _, d := range arr.dims {
			n *= d
		}
		if len(arr.dims) != ndim || n != len(arr.data) {
			t.Fatalf("dims %v with %d data bytes", arr.dims, len(arr.data))
		}
	})
}

// FuzzParseDescriptor feeds arbitrary JSON to the descriptor parser: it
// must not panic, and an accepted descriptor must survive a JSON round
// trip unchanged and validate again.
func FuzzParseDescriptor(f *testing.F) {
	f.Add(`{"format":"idx","images":"a.gz","labels":"b.gz","mean":[0.1307],"std":[0.3081]}`)
	f.Add(`{"format":"npz","file":"d.npz","inputs":"x","scale":0.5,"layout":"NHWC"}`)
	f.Add(`{"format":"imagefolder","root":"r","resize":256,"crop":224,"channels":3,"color_order":"BGR"}`)
	f.Add(`{"format":"idx","meen":[1]}`)
	f.Add(`[1,2,3]`)
	f.Add(`{"format":"imagefolder","root":"r","resize":1e400}`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDescriptor([]byte(s))
		if err != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal %+v: %v", d, err)
		}
		d2, err := ParseDescriptor(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed %+v into %+v", d, d2)
		}
	})
}

// FuzzReadNPY feeds arbitrary bytes to the .npy reader: it must not panic
// or allocate more than the input justifies, and an accepted array must
// hold as many elements as its shape says.
func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes("<f4", false, []int{2, 3}, le(make([]float32, 6))))
	f.Add(npyBytes("|u1", true, []int{2, 2}, []byte{1, 2, 3, 4}))
	f.Add(npyBytes("<i8", false, []int{3}, le([]int64{1, 2, 3})))
	f.Add(npyBytes(">f8", false, []int{1, 1}, le(float64(1))))
	f.Add(npyBytes("<f4", false, []int{1 << 40, 1 << 40}, nil))
	f.Add([]byte("\x93NUMPY\x01\x00\x04\x00{}\n"))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		arr, err := readNPY(b)
		if err != nil {
			return
		}
		n := 1
		for _, d := range arr.shape {
			n *= d
		}
		if got := reflect.ValueOf(arr.data).Len(); got != n {
			t.Fatalf("shape %v but %d elements", arr.shape, got)
		}
		if n*arr.size > len(b) {
			t.Fatalf("shape %v of %s is larger than the %d-byte input", arr.shape, arr.dtype, len(b))
		}
	})
}
