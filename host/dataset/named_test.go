package dataset

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vadArchive writes an .npz shaped like the inputs of a voice activity
// detector: audio chunks [N 512], states [N 2 1 64] (whole samples of
// [2 batch 64]), an int64 sample rate per sample, and labels.
func vadArchive(t *testing.T, dir string, n int) string {
	t.Helper()
	audio := make([]float32, n*512)
	for i := range audio {
		audio[i] = float32(i%512) / 512
	}
	sr := make([]int64, n)
	for i := range sr {
		sr[i] = 16000
	}
	zipArrays(t, dir, "vad.npz", map[string][]byte{
		"input":  npyBytes("<f4", false, []int{n, 512}, le(audio)),
		"h":      npyBytes("<f4", false, []int{n, 2, 1, 64}, le(make([]float32, n*128))),
		"sr":     npyBytes("<i8", false, []int{n}, le(sr)),
		"labels": npyBytes("<i8", false, []int{n}, le(make([]int64, n))),
		"other":  npyBytes("<f4", false, []int{1}, le([]float32{1})),
	})
	return filepath.Join(dir, "vad.npz")
}

func TestNamedNPZ(t *testing.T) {
	dir := t.TempDir()
	path := vadArchive(t, dir, 3)
	ds, err := Open(path, WithInputNames([]string{"input", "sr", "h", "c"}))
	if err != nil {
		t.Fatal(err)
	}
	named, ok := NamedOf(ds)
	if !ok {
		t.Fatalf("%v is not a Named data set", ds)
	}
	var names []string
	for _, a := range named.Arrays() {
		names = append(names, fmt.Sprintf("%s%v", a.Name, a.Shape))
	}
	// In the order of the inputs, only arrays named after inputs.
	if got := fmt.Sprint(names); got != "[input[3 512] sr[3] h[3 2 1 64]]" {
		t.Errorf("arrays %s", got)
	}
	if ds.Len() != 3 || !ds.Labelled() || len(named.Labels()) != 3 {
		t.Errorf("%d samples, labelled %v", ds.Len(), ds.Labelled())
	}
	// Without input names (or with a descriptor "inputs" key) the archive
	// opens as one array of samples, as before.
	plain, err := OpenDescriptor("d", dir, Descriptor{Format: FormatNPZ, File: "vad.npz", Inputs: "input"}, WithInputNames([]string{"input", "sr"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := NamedOf(plain); ok || !slices.Equal(plain.SampleShape(), []int{512}) {
		t.Errorf("with inputs key: %v", plain)
	}

	zipArrays(t, dir, "uneven.npz", map[string][]byte{
		"input": npyBytes("<f4", false, []int{2, 4}, le(make([]float32, 8))),
		"h":     npyBytes("<f4", false, []int{3, 4}, le(make([]float32, 12))),
	})
	_, err = Open(filepath.Join(dir, "uneven.npz"), WithInputNames([]string{"input", "h"}))
	wantErr(t, err, ErrFormat, `npz file `, `array "h" holds 3 samples but "input" holds 2`)

	_, err = OpenDescriptor("d", dir, Descriptor{Format: FormatNPZ, File: "vad.npz", Mean: []float64{0.5}}, WithInputNames([]string{"input"}))
	wantErr(t, err, ErrDescriptor, `"mean", "std" and "scale" apply to one array`)

	_, err = OpenDescriptor("d", dir, Descriptor{Format: FormatNPZ, File: "vad.npz", Labels: "lables"}, WithInputNames([]string{"input"}))
	wantErr(t, err, ErrFormat, `no array "lables"`, `did you mean "labels"?`)
}

func TestConstants(t *testing.T) {
	for _, tc := range []struct {
		json  string
		shape []int
		vals  []float64
		err   string
	}{
		{`16000`, nil, []float64{16000}, ""},
		{`0`, nil, []float64{0}, ""},
		{`[1, 2]`, []int{2}, []float64{1, 2}, ""},
		{`[[1, 2, 3], [4, 5, 6]]`, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, ""},
		{`[[1, 2], [3]]`, nil, nil, "must be rectangular"},
		{`[[1, 2], 3]`, nil, nil, "a number at depth 1"},
		{`[]`, nil, nil, "an empty list"},
		{`"16000"`, nil, nil, "want a number or a nested list"},
		{`[1, "a"]`, nil, nil, "want numbers"},
	} {
		var c Constant
		err := json.Unmarshal([]byte(tc.json), &c)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.json, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		if !slices.Equal(c.Shape, tc.shape) || !slices.Equal(c.Values, tc.vals) {
			t.Errorf("%s: shape %v values %v", tc.json, c.Shape, c.Values)
		}
		back, err := json.Marshal(c)
		if err != nil || string(back) != strings.ReplaceAll(tc.json, " ", "") {
			t.Errorf("%s: marshals to %s, %v", tc.json, back, err)
		}
	}
	d, err := ParseDescriptor([]byte(`{"format": "npy", "inputs": "x.npy", "constants": {"sr": 16000, "h": 0}}`))
	if err != nil || len(d.Constants) != 2 || d.Constants["sr"].Values[0] != 16000 {
		t.Fatalf("descriptor constants: %v, %v", d, err)
	}
	_, err = ParseDescriptor([]byte(`{"format": "npy", "inputs": "x.npy", "constants": [1]}`))
	wantErr(t, err, ErrDescriptor, `key "constants": want an object of input names to values`)
	if name, c, err := ParseConstantFlag("sr=16000"); err != nil || name != "sr" || c.Values[0] != 16000 {
		t.Errorf("--constant sr=16000: %s %v %v", name, c, err)
	}
	if _, _, err := ParseConstantFlag("sr"); err == nil {
		t.Error("--constant sr: no error")
	}
}
