package dataset

import (
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
)

// TestIDXSynthetic reads small IDX files, plain and gzip-compressed,
// unlabelled and labelled, with and without normalization.
func TestIDXSynthetic(t *testing.T) {
	dir := t.TempDir()
	pix := []byte{0, 51, 102, 255, 10, 20, 30, 40} // 2 images of 2×2
	writeFile(t, dir, "img.idx", idxBytes([]int{2, 2, 2}, pix))
	writeFile(t, dir, "img.idx.gz", gz(t, idxBytes([]int{2, 2, 2}, pix)))
	writeFile(t, dir, "lbl.gz", gz(t, idxBytes([]int{2}, []byte{7, 3})))
	tests := []struct {
		name       string
		descriptor string
		labels     []int
		first      []float64 // sample 0, hand-computed
	}{
		{"plain unlabelled", `{"format":"idx","images":"img.idx"}`, []int{-1, -1},
			[]float64{0, 0.2, 0.4, 1}},
		{"gzip labelled normalized", `{"format":"idx","images":"img.idx.gz","labels":"lbl.gz","mean":[0.5],"std":[0.25]}`, []int{7, 3},
			[]float64{-2, (0.2 - 0.5) / 0.25, (0.4 - 0.5) / 0.25, 2}},
		{"scale", `{"format":"idx","images":"img.idx","scale":2}`, []int{-1, -1},
			[]float64{0, 102, 204, 510}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "d.json", []byte(tc.descriptor))
			ds, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != 2 || !slices.Equal(ds.SampleShape(), []int{1, 2, 2}) {
				t.Fatalf("Len %d shape %v, want 2 [1 2 2]", ds.Len(), ds.SampleShape())
			}
			samples, labels := readAll(t, ds)
			if !slices.Equal(labels, tc.labels) {
				t.Errorf("labels = %v, want %v", labels, tc.labels)
			}
			for j, w := range tc.first {
				if !near(samples[0][j], w) {
					t.Errorf("sample 0 value %d = %v, want %v", j, samples[0][j], w)
				}
			}
			if ds.Labelled() != (tc.labels[0] >= 0) {
				t.Errorf("Labelled = %v", ds.Labelled())
			}
		})
	}
}

// TestIDXErrors checks the one-line errors for bad IDX data.
func TestIDXErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "img.idx", idxBytes([]int{2, 2, 2}, make([]byte, 8)))
	writeFile(t, dir, "empty.idx", idxBytes([]int{0, 28, 28}, nil))
	writeFile(t, dir, "short.idx", idxBytes([]int{2, 2, 2}, make([]byte, 7)))
	writeFile(t, dir, "lbl3.idx", idxBytes([]int{3}, []byte{1, 2, 3}))
	writeFile(t, dir, "lbl2.idx", idxBytes([]int{2}, []byte{1, 2}))
	writeFile(t, dir, "bad.gz", []byte{0x1f, 0x8b, 1, 2, 3})
	writeFile(t, dir, "tiny.idx", []byte{0, 0})
	tests := []struct {
		name       string
		descriptor string
		kind       error
		fragments  []string
	}{
		{"missing images", `{"format":"idx","images":"nope.gz"}`, fs.ErrNotExist,
			[]string{"d.json", filepath.Join(dir, "nope.gz"), "no such file"}},
		{"missing labels", `{"format":"idx","images":"img.idx","labels":"nope.gz"}`, fs.ErrNotExist,
			[]string{"labels file", "nope.gz"}},
		{"labels as images", `{"format":"idx","images":"lbl3.idx"}`, ErrFormat,
			[]string{"lbl3.idx", "bad IDX magic 0x00000801", "0x00000803"}},
		{"images as labels", `{"format":"idx","images":"img.idx","labels":"img.idx"}`, ErrFormat,
			[]string{"labels file", "bad IDX magic 0x00000803"}},
		{"tiny", `{"format":"idx","images":"tiny.idx"}`, ErrFormat, []string{"tiny.idx", "bad IDX magic"}},
		{"truncated", `{"format":"idx","images":"short.idx"}`, ErrFormat, []string{"short.idx", "[2 2 2]", "7 data bytes"}},
		{"bad gzip", `{"format":"idx","images":"bad.gz"}`, ErrFormat, []string{"bad.gz", "gzip"}},
		{"empty", `{"format":"idx","images":"empty.idx"}`, ErrEmpty, []string{"empty.idx", "no images"}},
		{"label count", `{"format":"idx","images":"img.idx","labels":"lbl3.idx"}`, ErrLabelCount,
			[]string{"3 labels", "lbl3.idx", "2 images", "img.idx"}},
		{"mean length", `{"format":"idx","images":"img.idx","labels":"lbl2.idx","mean":[0.1,0.2,0.3],"std":[1,1,1]}`, ErrDescriptor,
			[]string{"d.json", `"mean" has 3 values but the data has 1 channel`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "d.json", []byte(tc.descriptor))
			_, err := Open(path)
			wantErr(t, err, tc.kind, tc.fragments...)
		})
	}
}

// TestReadArguments checks Read's index and buffer validation.
func TestReadArguments(t *testing.T) {
	ds, err := Open(filepath.Join(examples, "mnist-calib.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.Read(1000, make([]float32, 784)); err == nil {
		t.Error("Read(1000) of 1000 samples: no error")
	}
	if _, err := ds.Read(-1, make([]float32, 784)); err == nil {
		t.Error("Read(-1): no error")
	}
	if _, err := ds.Read(0, make([]float32, 783)); err == nil {
		t.Error("Read into 783 values: no error")
	}
}
