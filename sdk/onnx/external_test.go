package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

// externalRefs decodes the model file at path without loading its
// external data and returns, per tensor name, its external_data keys.
func externalRefs(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]map[string]string{}
	err = walker{tensor: func(tp *onnxpb.TensorProto) error {
		if tp.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			if len(tp.GetExternalData()) > 0 {
				t.Errorf("tensor %q has external_data keys but data_location %v", tp.GetName(), tp.GetDataLocation())
			}
			return nil
		}
		if tp.RawData != nil {
			t.Errorf("external tensor %q still has raw_data", tp.GetName())
		}
		kv := map[string]string{}
		for _, e := range tp.GetExternalData() {
			kv[e.GetKey()] = e.GetValue()
		}
		refs[tp.GetName()] = kv
		return nil
	}}.model(m)
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestWriteFileExternalDataRoundTrip(t *testing.T) {
	for _, src := range exampleModels(t) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			m, err := ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			orig := proto.Clone(m)
			dir := t.TempDir()
			path := filepath.Join(dir, "model.onnx")
			if err := WriteFile(path, m, WriteOptions{ExternalData: true}); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(m, orig) {
				t.Fatal("WriteFile modified the model")
			}
			if got := dirNames(t, dir); !slices.Equal(got, []string{"model.onnx", "model.onnx.data"}) {
				t.Fatalf("folder holds %v", got)
			}
			refs := externalRefs(t, path)
			var moved int
			for _, in := range m.GetGraph().GetInitializer() {
				ref, ok := refs[in.GetName()]
				if big := len(in.GetRawData()) >= DefaultExternalThreshold; big != ok {
					t.Errorf("initializer %q (%d bytes): external %v", in.GetName(), len(in.GetRawData()), ok)
					continue
				}
				if !ok {
					continue
				}
				moved++
				off, _ := strconv.ParseInt(ref["offset"], 10, 64)
				n, _ := strconv.Atoi(ref["length"])
				if ref["location"] != "model.onnx.data" || n != len(in.GetRawData()) || off%alignSmall != 0 {
					t.Errorf("initializer %q: external data %v", in.GetName(), ref)
				}
			}
			if moved == 0 {
				t.Fatal("no initializer was moved out")
			}
			back, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(back, m) {
				t.Error("model read back from external data differs")
			}
		})
	}
}

func TestWriteFileExternalOptions(t *testing.T) {
	m, err := ReadFile(exampleModels(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "weights"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m.onnx")
	// A threshold above every tensor moves nothing but still works.
	if err := WriteFile(path, m, WriteOptions{ExternalData: true, ExternalLocation: "weights/w.bin", ExternalThreshold: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if refs := externalRefs(t, path); len(refs) != 0 {
		t.Errorf("threshold 1 TiB moved %v", refs)
	}
	if names := dirNames(t, filepath.Join(dir, "weights")); len(names) != 0 {
		t.Errorf("nothing moved, yet weights/ holds %v", names)
	}
	// Threshold 1 moves every initializer into weights/w.bin.
	if err := WriteFile(path, m, WriteOptions{ExternalData: true, ExternalLocation: "weights/w.bin", ExternalThreshold: 1}); err != nil {
		t.Fatal(err)
	}
	refs := externalRefs(t, path)
	if len(refs) != len(m.GetGraph().GetInitializer()) {
		t.Errorf("threshold 1 moved %d of %d initializers", len(refs), len(m.GetGraph().GetInitializer()))
	}
	for name, ref := range refs {
		if ref["location"] != "weights/w.bin" {
			t.Errorf("%s: location %q", name, ref["location"])
		}
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, m) {
		t.Error("model read back differs")
	}
	for _, loc := range []string{"../w.bin", "/tmp/w.bin", "m.onnx"} {
		err := WriteFile(path, m, WriteOptions{ExternalData: true, ExternalLocation: loc})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("location %q: error %v, want one naming %s", loc, err, path)
		}
	}
}

// bigModel has a large initializer, a small one, a large Constant
// attribute and a typed-field initializer.
func bigModel() *onnxpb.ModelProto {
	m := smallModel()
	big := bytes.Repeat([]byte{1, 2, 3, 4}, 1<<18) // 1 MiB: aligned to 64 KiB
	m.Graph.Initializer = append(m.Graph.Initializer,
		rawTensor("big", onnxpb.TensorProto_FLOAT, []int64{1 << 18}, big),
		&onnxpb.TensorProto{Name: proto.String("typed"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{200}, Int64Data: make([]int64, 200)},
	)
	for i := range m.Graph.Initializer[2].Int64Data {
		m.Graph.Initializer[2].Int64Data[i] = int64(i) - 100
	}
	m.Graph.Node = append(m.Graph.Node, node("const", "Constant", nil, []string{"c"}, &onnxpb.AttributeProto{
		Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
		T: rawTensor("", onnxpb.TensorProto_UINT8, []int64{300000}, bytes.Repeat([]byte{7}, 300000))}))
	return m
}

func TestWriteFileAutomaticExternalData(t *testing.T) {
	m := bigModel()
	size := int64(proto.Size(m))
	tests := []struct {
		name      string
		limit     int64
		wantRefs  []string // tensors moved out
		wantError string
	}{
		{"fits", size, nil, ""},
		{"initializers", size - 1, []string{"big", "typed"}, ""},
		{"attributes too", size - 1<<20 - 100000, []string{"", "big", "typed"}, ""},
		{"too large anyway", 100, nil, "exceed protobuf's 2 GiB limit"},
	}
	defer func(v int64) { maxModelSize = v }(maxModelSize)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			maxModelSize = tc.limit
			dir := t.TempDir()
			path := filepath.Join(dir, "big.onnx")
			err := WriteFile(path, m, WriteOptions{})
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("error = %v, want %q", err, tc.wantError)
				}
				if names := dirNames(t, dir); len(names) != 0 {
					t.Errorf("failed write left %v", names)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			refs := externalRefs(t, path)
			var names []string
			for n := range refs {
				names = append(names, n)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.wantRefs) {
				t.Errorf("external tensors %v, want %v", names, tc.wantRefs)
			}
			if ref, ok := refs["big"]; ok && ref["offset"] != "" {
				if off, _ := strconv.ParseInt(ref["offset"], 10, 64); off%alignLarge != 0 {
					t.Errorf("1 MiB tensor at offset %d, not aligned to %d", off, alignLarge)
				}
			}
			maxModelSize = size // reading is not limited, but keep it sane
			back, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Typed-field data comes back as raw_data.
			want := proto.Clone(m).(*onnxpb.ModelProto)
			if len(refs) > 0 {
				typed := want.Graph.Initializer[2]
				typed.RawData = typedToRaw(typed)
				typed.Int64Data = nil
			}
			if !proto.Equal(back, want) {
				t.Error("model read back differs")
			}
		})
	}
}

func TestWriteFileRefusesUnloadedExternalData(t *testing.T) {
	m := smallModel()
	m.Graph.Initializer[0].RawData = nil
	m.Graph.Initializer[0].DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	dir := t.TempDir()
	err := WriteFile(filepath.Join(dir, "m.onnx"), m, WriteOptions{})
	if err == nil || !strings.Contains(err.Error(), "external data is not loaded") {
		t.Errorf("error = %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed write left %v", names)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	m := smallModel()
	want := mustEncode(t, m)

	t.Run("overwrite keeps mode", func(t *testing.T) {
		dir := t.TempDir()
		path := writeBytes(t, dir, "m.onnx", []byte("old"))
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, m, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, want) {
			t.Error("file does not hold the encoded model")
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"m.onnx"}) {
			t.Errorf("folder holds %v", names)
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "nope", "m.onnx")
		err := WriteFile(path, m, WriteOptions{})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("error = %v, want one naming %s", err, path)
		}
	})
	t.Run("path is a folder", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "m.onnx")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(path, m, WriteOptions{}); err == nil {
			t.Error("writing over a folder succeeded")
		}
		if err := WriteFile(path, bigModel(), WriteOptions{ExternalData: true}); err == nil {
			t.Error("writing over a folder with external data succeeded")
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"m.onnx"}) {
			t.Errorf("failed writes left %v", names)
		}
	})
	t.Run("nil model", func(t *testing.T) {
		dir := t.TempDir()
		if err := WriteFile(filepath.Join(dir, "m.onnx"), nil, WriteOptions{}); err == nil {
			t.Error("nil model written")
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("failed write left %v", names)
		}
	})
}

func TestEncodeLimit(t *testing.T) {
	defer func(v int64) { maxModelSize = v }(maxModelSize)
	m := smallModel()
	maxModelSize = int64(proto.Size(m)) - 1
	if _, err := Encode(m); err == nil || !strings.Contains(err.Error(), "2 GiB") {
		t.Errorf("Encode above the limit: error %v", err)
	}
	maxModelSize++
	if _, err := Encode(m); err != nil {
		t.Errorf("Encode at the limit: %v", err)
	}
}
