package dataset

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"codeberg.org/sbinet/npyio"
	"codeberg.org/sbinet/npyio/npz"
)

// npyLabels writes int64 labels with npyio itself.
func npyLabels(t *testing.T, dir, name string, labels []int64) {
	t.Helper()
	var b bytes.Buffer
	if err := npyio.Write(&b, labels); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name, b.Bytes())
}

// zipArrays writes an .npz archive of the given .npy payloads.
func zipArrays(t *testing.T, dir, name string, arrays map[string][]byte) {
	t.Helper()
	writeFile(t, dir, name, npzBytes(t, arrays))
}

// npzBytes is an .npz archive of the given .npy payloads.
func npzBytes(t testing.TB, arrays map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := make([]string, 0, len(arrays))
	for k := range arrays {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		w, err := zw.Create(k + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(arrays[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestArrays reads synthetic .npy and .npz data sets and compares every
// value with hand-computed preprocessing.
func TestArrays(t *testing.T) {
	dir := t.TempDir()
	// Two samples of shape [2 1 2] (channels first) in uint8.
	u8 := []uint8{0, 51, 102, 255, 255, 0, 51, 102}
	writeFile(t, dir, "u8.npy", npyBytes("|u1", false, []int{2, 2, 1, 2}, u8))
	// The same values as float32, big-endian, and as float64.
	f32 := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	var be bytes.Buffer
	for _, v := range f32 {
		b := le(v)
		slices.Reverse(b)
		be.Write(b)
	}
	writeFile(t, dir, "f32be.npy", npyBytes(">f4", false, []int{2, 2, 1, 2}, be.Bytes()))
	writeFile(t, dir, "f64.npy", npyBytes("<f8", false, []int{2, 2, 1, 2}, le([]float64{0, 1, 2, 3, 4, 5, 6, 7})))
	// Channels last: shape (2, 2, 2) = N, H·W, C.
	writeFile(t, dir, "nhwc.npy", npyBytes("<f4", false, []int{2, 2, 2}, le(f32)))
	// Fortran order of the (2, 4) matrix [[0 1 2 3] [4 5 6 7]].
	writeFile(t, dir, "fortran.npy", npyBytes("<i4", true, []int{2, 4}, le([]int32{0, 4, 1, 5, 2, 6, 3, 7})))
	npyLabels(t, dir, "labels.npy", []int64{4, 1})
	zipArrays(t, dir, "named.npz", map[string][]byte{
		"images": npyBytes("|u1", false, []int{2, 2, 1, 2}, u8),
		"target": npyBytes("<i8", false, []int{2, 1}, le([]int64{9, 0})),
	})
	zipArrays(t, dir, "default.npz", map[string][]byte{
		"x": npyBytes("<f4", false, []int{2, 4}, le(f32)),
		"y": npyBytes("|u1", false, []int{2}, []byte{3, 5}),
	})

	tests := []struct {
		name       string
		descriptor string
		shape      []int
		labels     []int
		values     []float64 // both samples, hand-computed
	}{
		{"uint8 default scale", `{"format":"npy","inputs":"u8.npy"}`, []int{2, 1, 2}, []int{-1, -1},
			[]float64{0, 0.2, 0.4, 1, 1, 0, 0.2, 0.4}},
		{"uint8 per-channel", `{"format":"npy","inputs":"u8.npy","labels":"labels.npy","mean":[0.2,0.4],"std":[0.5,2]}`, []int{2, 1, 2}, []int{4, 1},
			[]float64{-0.4, 0, 0, 0.3, 1.6, -0.4, -0.1, 0}},
		{"float32 big-endian", `{"format":"npy","inputs":"f32be.npy","mean":[1],"std":[2]}`, []int{2, 1, 2}, []int{-1, -1},
			[]float64{-0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3}},
		{"float64 scaled", `{"format":"npy","inputs":"f64.npy","scale":0.5}`, []int{2, 1, 2}, []int{-1, -1},
			[]float64{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5}},
		{"channels last", `{"format":"npy","inputs":"nhwc.npy","layout":"NHWC","mean":[0,1],"std":[1,2]}`, []int{2, 2}, []int{-1, -1},
			[]float64{0, 0, 2, 1, 4, 2, 6, 3}},
		{"fortran order", `{"format":"npy","inputs":"fortran.npy"}`, []int{4}, []int{-1, -1},
			[]float64{0, 1, 2, 3, 4, 5, 6, 7}},
		{"npz named", `{"format":"npz","file":"named.npz","inputs":"images","labels":"target"}`, []int{2, 1, 2}, []int{9, 0},
			[]float64{0, 0.2, 0.4, 1, 1, 0, 0.2, 0.4}},
		{"npz named with suffix", `{"format":"npz","file":"named.npz","inputs":"images.npy"}`, []int{2, 1, 2}, []int{-1, -1},
			[]float64{0, 0.2, 0.4, 1, 1, 0, 0.2, 0.4}},
		{"npz defaults", `{"format":"npz","file":"default.npz"}`, []int{4}, []int{3, 5},
			[]float64{0, 1, 2, 3, 4, 5, 6, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Open(writeFile(t, dir, "d.json", []byte(tc.descriptor)))
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != 2 || !slices.Equal(ds.SampleShape(), tc.shape) {
				t.Fatalf("Len %d shape %v, want 2 %v", ds.Len(), ds.SampleShape(), tc.shape)
			}
			samples, labels := readAll(t, ds)
			if !slices.Equal(labels, tc.labels) {
				t.Errorf("labels = %v, want %v", labels, tc.labels)
			}
			got := append(samples[0], samples[1]...)
			for j, w := range tc.values {
				if !near(got[j], w) {
					t.Errorf("value %d = %v, want %v", j, got[j], w)
				}
			}
		})
	}
}

// TestOpenArrayFiles opens .npy and .npz files without a descriptor, the
// archive written by npyio's own npz writer.
func TestOpenArrayFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "raw.npy", npyBytes("<f4", false, []int{3, 2}, le([]float32{1, 2, 3, 4, 5, 6})))
	ds, err := Open(filepath.Join(dir, "raw.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.Labelled() || !slices.Equal(ds.SampleShape(), []int{2}) {
		t.Fatalf("Len %d labelled %v shape %v", ds.Len(), ds.Labelled(), ds.SampleShape())
	}
	samples, _ := readAll(t, ds)
	if !slices.Equal(samples[2], []float32{5, 6}) {
		t.Errorf("sample 2 = %v, want [5 6]", samples[2])
	}

	path := filepath.Join(dir, "lib.npz")
	w, err := npz.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write("inputs", []float64{0.5, 1.5, 2.5}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write("labels", []int32{2, 0, 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ds, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	samples, labels := readAll(t, ds)
	if !slices.Equal(labels, []int{2, 0, 1}) || samples[1][0] != 1.5 || len(samples[1]) != 1 {
		t.Errorf("labels %v samples %v, want [2 0 1] and [[0.5] [1.5] [2.5]]", labels, samples)
	}
}

// TestArrayErrors checks the one-line errors for bad array data.
func TestArrayErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "x.npy", npyBytes("<f4", false, []int{2, 3}, le(make([]float32, 6))))
	writeFile(t, dir, "x3.npy", npyBytes("<f4", false, []int{2, 3, 1}, le(make([]float32, 6))))
	writeFile(t, dir, "empty.npy", npyBytes("<f4", false, []int{0, 3}, nil))
	writeFile(t, dir, "short.npy", npyBytes("<f4", false, []int{2, 3}, le(make([]float32, 5))))
	writeFile(t, dir, "c8.npy", npyBytes("<c8", false, []int{2}, make([]byte, 16)))
	writeFile(t, dir, "scalar.npy", npyBytes("<f4", false, nil, le(float32(1))))
	writeFile(t, dir, "flabels.npy", npyBytes("<f4", false, []int{2}, le([]float32{1, 2})))
	writeFile(t, dir, "neg.npy", npyBytes("<i8", false, []int{2}, le([]int64{1, -1})))
	writeFile(t, dir, "l3.npy", npyBytes("<i8", false, []int{3}, le([]int64{1, 2, 3})))
	writeFile(t, dir, "l22.npy", npyBytes("<i8", false, []int{2, 2}, le([]int64{1, 2, 3, 4})))
	writeFile(t, dir, "junk.npy", []byte("not numpy at all"))
	writeFile(t, dir, "junk.npz", []byte("not a zip"))
	zipArrays(t, dir, "two.npz", map[string][]byte{
		"a": npyBytes("<f4", false, []int{1}, le(float32(1))),
		"b": npyBytes("<f4", false, []int{1}, le(float32(1))),
	})
	tests := []struct {
		name       string
		descriptor string
		kind       error
		fragments  []string
	}{
		{"missing inputs", `{"format":"npy","inputs":"nope.npy"}`, os.ErrNotExist, []string{"inputs file", "nope.npy", "no such file"}},
		{"missing labels", `{"format":"npy","inputs":"x.npy","labels":"nope.npy"}`, os.ErrNotExist, []string{"labels file", "nope.npy"}},
		{"missing npz", `{"format":"npz","file":"nope.npz"}`, os.ErrNotExist, []string{"npz file", "nope.npz"}},
		{"not npy", `{"format":"npy","inputs":"junk.npy"}`, ErrFormat, []string{"junk.npy", "not a .npy file"}},
		{"not npz", `{"format":"npz","file":"junk.npz"}`, ErrFormat, []string{"junk.npz", "not an .npz"}},
		{"empty", `{"format":"npy","inputs":"empty.npy"}`, ErrEmpty, []string{"empty.npy", "no samples"}},
		{"truncated", `{"format":"npy","inputs":"short.npy"}`, ErrFormat, []string{"short.npy", "[2 3]", "20 data bytes"}},
		{"complex", `{"format":"npy","inputs":"c8.npy"}`, ErrFormat, []string{"c8.npy", `dtype "<c8" is not supported`}},
		{"scalar", `{"format":"npy","inputs":"scalar.npy"}`, ErrFormat, []string{"scalar.npy", "scalar"}},
		{"float labels", `{"format":"npy","inputs":"x.npy","labels":"flabels.npy"}`, ErrFormat, []string{"flabels.npy", "want integers"}},
		{"negative label", `{"format":"npy","inputs":"x.npy","labels":"neg.npy"}`, ErrFormat, []string{"neg.npy", "label -1 of sample 1"}},
		{"label count", `{"format":"npy","inputs":"x.npy","labels":"l3.npy"}`, ErrLabelCount, []string{"3 labels in", "l3.npy", "2 samples in", "x.npy"}},
		{"label shape", `{"format":"npy","inputs":"x.npy","labels":"l22.npy"}`, ErrFormat, []string{"l22.npy", "shape [2 2]"}},
		{"mean length", `{"format":"npy","inputs":"x3.npy","mean":[1,2]}`, ErrDescriptor, []string{`"mean" has 2 values but the data has 3 channels`}},
		{"npz no such array", `{"format":"npz","file":"two.npz","inputs":"c"}`, ErrFormat, []string{"two.npz", `no array "c"`, "a, b"}},
		{"npz ambiguous", `{"format":"npz","file":"two.npz"}`, ErrDescriptor, []string{"two.npz", `set "inputs"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "d.json", []byte(tc.descriptor))
			_, err := Open(path)
			wantErr(t, err, tc.kind, append([]string{path}, tc.fragments...)...)
		})
	}
}
