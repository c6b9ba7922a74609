package dataset

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

// FuzzOpenNPZ opens arbitrary bytes as an .npz data set, as arrays named
// after a model's inputs and as one array of samples, and reads its
// first samples: nothing may panic or allocate more than the archive
// declares, and an opened data set reads samples of its sample shape.
func FuzzOpenNPZ(f *testing.F) {
	f.Add(npzBytes(f, map[string][]byte{"inputs": npyBytes("<f4", false, []int{2, 3}, le(make([]float32, 6))), "labels": npyBytes("<i8", false, []int{2}, le([]int64{1, 0}))}))
	f.Add(npzBytes(f, map[string][]byte{"input": npyBytes("<f4", false, []int{2, 4}, le(make([]float32, 8))), "sr": npyBytes("<i8", false, []int{2}, le([]int64{16000, 8000}))}))
	f.Add(npzBytes(f, map[string][]byte{"x": npyBytes("|u1", true, []int{3, 2, 2}, make([]byte, 12))}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	digits, labels := mnistDigits(f, 4)
	f.Add(npzBytes(f, map[string][]byte{"x": npyBytes("|u1", false, []int{4, 1, 28, 28}, digits), "y": npyBytes("<i8", false, []int{4}, le(labels))}))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return // bounds what an archive can inflate to
		}
		path := filepath.Join(dir, "d.npz")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opts := range [][]Option{{WithInputNames([]string{"input", "sr", "h"})}, nil} {
			ds, err := Open(path, opts...)
			if err != nil {
				continue
			}
			dst := make([]float32, sampleSize(ds.SampleShape()))
			for i := 0; i < min(ds.Len(), 3); i++ {
				if _, err := ds.Read(i, dst); err != nil {
					t.Fatalf("sample %d of %s: %v", i, ds, err)
				}
			}
		}
	})
}

// FuzzOpenImage opens arbitrary bytes as the one image of an image
// folder, with fuzzed resize, crop and channels, and reads it: nothing
// may panic or allocate beyond the pixel limit (lowered here), and an
// image that reads gives finite values.
func FuzzOpenImage(f *testing.F) {
	gray := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i)
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, image.NewRGBA(image.Rect(0, 0, 9, 7)), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(pngBytes(f, gray), false, 0, 0, 0)
	f.Add(pngBytes(f, image.NewNRGBA64(image.Rect(0, 0, 5, 3))), false, 8, 4, 3)
	f.Add(pngBytes(f, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})), false, 0, 2, 1)
	f.Add(jb.Bytes(), true, 16, 16, 1)
	f.Add(pngClaiming(f, 100000, 100000), false, 0, 0, 0)
	digits, _ := mnistDigits(f, 1)
	digit := image.NewGray(image.Rect(0, 0, 28, 28))
	copy(digit.Pix, digits)
	f.Add(pngBytes(f, digit), false, 32, 28, 3)
	defer func(old int) { maxImagePixels = old }(maxImagePixels)
	maxImagePixels = 1 << 16
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, isJPEG bool, resize, crop, channels int) {
		name := "a.png"
		if isJPEG {
			name = "a.jpg"
		}
		root := filepath.Join(dir, "img")
		os.RemoveAll(root)
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		d := Descriptor{Format: "imagefolder", Root: root, Resize: resize, Crop: crop, Channels: channels}
		ds, err := OpenDescriptor("fuzz", dir, d)
		if err != nil {
			return
		}
		dst := make([]float32, sampleSize(ds.SampleShape()))
		if _, err := ds.Read(0, dst); err != nil {
			return // pixel data past a valid header may be corrupt
		}
		for j, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %d is %v", j, v)
			}
		}
	})
}

// FuzzParseConstantFlag parses arbitrary --constant values: nothing may
// panic, and an accepted constant is named, finite, and either one
// filling value or a rectangular list of as many values as its shape
// says.
func FuzzParseConstantFlag(f *testing.F) {
	for _, s := range []string{"sr=16000", "h=0", "x=[[1,2],[3,4]]", "x=[[1,2],[3]]", "x=[]", "=1", "x=", "x=1e400", "x=[[[[0]]]]", `x="1"`, "x=[1,[2]]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, c, err := ParseConstantFlag(s)
		if err != nil {
			return
		}
		if name == "" || len(c.Values) == 0 {
			t.Fatalf("%q gives constant %q = %v", s, name, c)
		}
		n := 1
		for _, d := range c.Shape {
			n *= d
		}
		if c.Fill() && len(c.Values) != 1 || !c.Fill() && n != len(c.Values) {
			t.Fatalf("%q gives shape %v with %d values", s, c.Shape, len(c.Values))
		}
		for _, v := range c.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q gives value %v", s, v)
			}
		}
	})
}

// mnistDigits reads the first n images (28×28 bytes each) and labels of
// the example MNIST calibration set.
func mnistDigits(t testing.TB, n int) ([]byte, []int64) {
	t.Helper()
	b, err := readMaybeGzip(filepath.Join(examples, "mnist/calib-1000-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := parseIDX(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := readMaybeGzip(filepath.Join(examples, "mnist/calib-1000-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	lbls, err := parseIDX(lb, 1)
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = int64(lbls.data[i])
	}
	return imgs.data[:n*784], labels
}
