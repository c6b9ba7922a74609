package dataset

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestParseDescriptor checks the decoded fields of valid descriptors.
func TestParseDescriptor(t *testing.T) {
	two := 2.0
	tests := []struct {
		json string
		want Descriptor
	}{
		{`{"format":"idx","images":"a.gz","labels":"b.gz","mean":[0.5],"std":[0.25]}`,
			Descriptor{Format: "idx", Images: "a.gz", Labels: "b.gz", Mean: []float64{0.5}, Std: []float64{0.25}}},
		{`{"format":"npz","file":"d.npz","inputs":"x","labels":"y","scale":2,"layout":"NHWC"}`,
			Descriptor{Format: "npz", File: "d.npz", Inputs: "x", Labels: "y", Scale: &two, Layout: "NHWC"}},
		{`{"format":"imagefolder","root":"img","resize":256,"crop":224,"channels":3,"color_order":"BGR","layout":"NCHW"}`,
			Descriptor{Format: "imagefolder", Root: "img", Resize: 256, Crop: 224, Channels: 3, ColorOrder: "BGR", Layout: "NCHW"}},
	}
	for _, tc := range tests {
		got, err := ParseDescriptor([]byte(tc.json))
		if err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.json, *got, tc.want)
		}
	}
}

// TestDescriptorErrors checks the one-line errors for bad descriptors,
// each naming the descriptor file.
func TestDescriptorErrors(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		kind      error
		fragments []string
	}{
		{"not JSON", "{\n  \"format\": \"idx\",\n  images: 1\n}", ErrDescriptor, []string{"not valid JSON at line 3, column 3"}},
		{"truncated JSON", `{"format":"idx"`, ErrDescriptor, []string{"not valid JSON"}},
		{"not an object", `[1, 2]`, ErrDescriptor, []string{"not a JSON object"}},
		{"null", `null`, ErrDescriptor, []string{"not a JSON object"}},
		{"no format", `{"images":"a.gz"}`, ErrDescriptor, []string{`missing key "format"`, "idx, npy, npz, imagefolder"}},
		{"format not string", `{"format":3}`, ErrDescriptor, []string{`key "format": want a string, got the number 3`}},
		{"unknown format", `{"format":"idz","images":"a"}`, ErrDescriptor, []string{`unknown format "idz"`, `did you mean "idx"?`}},
		{"unknown format far", `{"format":"hdf5"}`, ErrDescriptor, []string{`unknown format "hdf5"`, "known: idx, npy, npz, imagefolder"}},
		{"unknown key", `{"format":"idx","images":"a.gz","meen":[0.1]}`, ErrDescriptor, []string{`unknown key "meen"`, `did you mean "mean"?`}},
		{"unknown key typo", `{"format":"idx","imgaes":"a.gz"}`, ErrDescriptor, []string{`unknown key "imgaes"`, `did you mean "images"?`}},
		{"unknown key far", `{"format":"idx","images":"a.gz","zzzzzz":1}`, ErrDescriptor, []string{`unknown key "zzzzzz"`}},
		{"key of other format", `{"format":"idx","images":"a.gz","resize":32}`, ErrDescriptor, []string{`key "resize" does not apply to format "idx"`}},
		{"wrong type list", `{"format":"idx","images":"a.gz","mean":"0.1"}`, ErrDescriptor, []string{`key "mean": want a list of numbers, got a string "0.1"`}},
		{"wrong type int", `{"format":"imagefolder","root":"r","resize":3.5}`, ErrDescriptor, []string{`key "resize": want an integer, got the number 3.5`}},
		{"wrong type string", `{"format":"idx","images":["a"]}`, ErrDescriptor, []string{`key "images": want a string`}},
		{"missing images", `{"format":"idx","labels":"b.gz"}`, ErrDescriptor, []string{`format "idx" needs key "images"`}},
		{"missing root", `{"format":"imagefolder"}`, ErrDescriptor, []string{`needs key "root"`}},
		{"mean std lengths", `{"format":"idx","images":"a","mean":[0.1,0.2],"std":[1]}`, ErrDescriptor, []string{`"mean" has 2 values but "std" has 1`}},
		{"zero std", `{"format":"idx","images":"a","std":[0]}`, ErrDescriptor, []string{`"std" holds 0`}},
		{"empty mean", `{"format":"idx","images":"a","mean":[]}`, ErrDescriptor, []string{`"mean" is an empty list`}},
		{"zero scale", `{"format":"idx","images":"a","scale":0}`, ErrDescriptor, []string{`"scale" is 0`}},
		{"channels", `{"format":"imagefolder","root":"r","channels":2}`, ErrDescriptor, []string{`"channels" is 2`}},
		{"layout", `{"format":"imagefolder","root":"r","layout":"NCWH"}`, ErrDescriptor, []string{`"layout" is "NCWH"`}},
		{"color order", `{"format":"imagefolder","root":"r","color_order":"RBG"}`, ErrDescriptor, []string{`"color_order" is "RBG"`}},
		{"negative resize", `{"format":"imagefolder","root":"r","resize":-1}`, ErrDescriptor, []string{`"resize" is -1`}},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "desc.json", []byte(tc.json))
			_, err := Open(path)
			wantErr(t, err, tc.kind, append([]string{path}, tc.fragments...)...)
		})
	}
}

// TestDescriptorFileErrors checks a missing and an unreadable descriptor.
func TestDescriptorFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	_, err := Open(missing)
	wantErr(t, err, fs.ErrNotExist, missing, "no such file")

	_, err = ReadDescriptor(missing)
	wantErr(t, err, fs.ErrNotExist, missing, "cannot read descriptor")

	if os.Geteuid() != 0 {
		locked := writeFile(t, dir, "locked.json", []byte(`{"format":"idx","images":"a"}`))
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		_, err = Open(locked)
		wantErr(t, err, ErrDescriptor, locked, "cannot read descriptor", "permission denied")
	}
}

// TestOpenDescriptorDefaults checks that WithDefaults fills only unset keys
// and drops defaults that do not apply to the format.
func TestOpenDescriptorDefaults(t *testing.T) {
	def := Descriptor{Mean: []float64{0.5}, Std: []float64{0.5}, Layout: "NHWC"}
	ds, err := OpenDescriptor("test", examples, Descriptor{
		Format: FormatIDX, Images: "mnist/calib-1000-images-idx3-ubyte.gz", Std: []float64{0.25},
	}, WithDefaults(def))
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, 784)
	if _, err := ds.Read(0, dst); err != nil {
		t.Fatal(err)
	}
	// Pixel (0,0) of every MNIST image is 0: (0 − 0.5) / 0.25.
	if !near(dst[0], -2) {
		t.Errorf("pixel 0 = %v, want -2 (mean from defaults, std from the descriptor)", dst[0])
	}
	_, err = OpenDescriptor("engine", examples, Descriptor{Format: FormatIDX, Images: "x", Crop: 3})
	wantErr(t, err, ErrDescriptor, "engine", `"crop" does not apply`)
}
