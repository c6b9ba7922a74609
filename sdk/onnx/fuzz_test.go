package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

// FuzzDecode feeds arbitrary bytes to Decode and, for what decodes, to
// LoadExternalData (over a folder with one small data file), ToGraph and
// FromGraph. Nothing may panic, and a model that converts must come back
// from FromGraph → Encode → Decode → ToGraph → FromGraph → Encode with the
// same bytes.
func FuzzDecode(f *testing.F) {
	for _, path := range exampleModels(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, m := range []*onnxpb.ModelProto{smallModel(), richModel(), extModel("location", "w.data", "offset", "8")} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.data"), bytes.Repeat([]byte{0x3f}, 64), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		_ = CheckOpset(m)
		if err := LoadExternalData(m, dir); err != nil {
			return
		}
		g, err := ToGraph(m)
		if err != nil {
			return
		}
		out, err := FromGraph(g, m)
		if err != nil {
			t.Fatalf("FromGraph of a graph ToGraph made: %v", err)
		}
		b1, err := Encode(out)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		m1, err := Decode(b1)
		if err != nil {
			t.Fatalf("Decode of FromGraph output: %v", err)
		}
		g1, err := ToGraph(m1)
		if err != nil {
			t.Fatalf("ToGraph of FromGraph output: %v", err)
		}
		out1, err := FromGraph(g1, m1)
		if err != nil {
			t.Fatalf("second FromGraph: %v", err)
		}
		b2, err := Encode(out1)
		if err != nil {
			t.Fatalf("second Encode: %v", err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("second encoding differs from the first (%d vs %d bytes)", len(b1), len(b2))
		}
	})
}

// FuzzTensorFromProto feeds arbitrary TensorProtos to TensorFromProto: no
// panic, no allocation beyond what the input holds, and a tensor that
// converts has data of its declared size and survives TensorToProto.
func FuzzTensorFromProto(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "tensors", "*.pb"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	m, err := ReadFile(exampleModels(f)[0])
	if err != nil {
		f.Fatal(err)
	}
	for _, t := range m.GetGraph().GetInitializer()[:2] {
		b, err := proto.Marshal(t)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tp := &onnxpb.TensorProto{}
		if err := proto.Unmarshal(b, tp); err != nil {
			return
		}
		pt, err := TensorFromProto(tp)
		if err != nil {
			return
		}
		n, err := numElements(pt.GetDims())
		if err != nil {
			t.Fatalf("converted tensor has bad dims: %v", err)
		}
		if tp.GetDataType() == int32(onnxpb.TensorProto_STRING) {
			if int64(len(pt.GetStringData())) != n {
				t.Fatalf("%d strings for %d elements", len(pt.GetStringData()), n)
			}
		} else if want := RawSize(tp.GetDataType(), n); int64(len(pt.GetData())) != want {
			t.Fatalf("data has %d bytes, want %d", len(pt.GetData()), want)
		}
		back, err := TensorFromProto(TensorToProto(pt))
		if err != nil {
			t.Fatalf("TensorToProto output does not convert back: %v", err)
		}
		if !proto.Equal(back, pt) {
			t.Fatalf("TensorToProto round trip differs")
		}
	})
}

// FuzzLoadExternalData loads one external tensor of fuzzed location,
// offset, length, type and dims from a model folder holding a data file,
// a file in a sub-folder, a folder, and a symbolic link to a file outside
// the folder. Nothing may panic or allocate beyond the file; a tensor
// that loads came from inside the folder, holds exactly the bytes of its
// file at its offset, as many as its dims and type need, and is no
// longer external.
func FuzzLoadExternalData(f *testing.F) {
	root := f.TempDir()
	dir := filepath.Join(root, "model")
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for name, b := range map[string][]byte{"w.data": data, "sub/x.data": data[:100], "dir/.keep": nil} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "outside.data"), data, 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "outside.data"), filepath.Join(dir, "out.data")); err != nil {
		f.Fatal(err)
	}
	float := int32(onnxpb.TensorProto_FLOAT)
	f.Add("w.data", "0", "24", float, int64(2), int64(3))
	f.Add("w.data", "8", "", float, int64(2), int64(3))
	f.Add("sub/x.data", "4", "", int32(onnxpb.TensorProto_UINT8), int64(96), int64(1))
	f.Add("w.data", "4090", "", int32(onnxpb.TensorProto_INT4), int64(3), int64(4))
	f.Add("../outside.data", "0", "24", float, int64(2), int64(3))
	f.Add(filepath.Join(root, "outside.data"), "0", "", float, int64(2), int64(3))
	f.Add("out.data", "0", "", float, int64(2), int64(3))
	f.Add("dir", "0", "0", float, int64(0), int64(3))
	f.Add("w.data", "-1", "", float, int64(1), int64(1))
	f.Add("w.data", "99999999999999999999", "", float, int64(1), int64(1))
	f.Add("w.data", "0", "", float, int64(1)<<40, int64(1)<<40)
	f.Add("w.data", "0", "", int32(onnxpb.TensorProto_STRING), int64(1), int64(1))
	f.Add("", "0", "", float, int64(1), int64(1))
	f.Fuzz(func(t *testing.T, location, offset, length string, dt int32, d0, d1 int64) {
		w := &onnxpb.TensorProto{Name: proto.String("w"), DataType: proto.Int32(dt), Dims: []int64{d0, d1},
			DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}
		for _, kv := range [][2]string{{"location", location}, {"offset", offset}, {"length", length}} {
			if kv[1] != "" || kv[0] == "location" {
				w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[0]), Value: proto.String(kv[1])})
			}
		}
		m := smallModel()
		m.Graph.Initializer[0] = w
		if err := LoadExternalData(m, dir); err != nil {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(location)) || location == "out.data" {
			t.Fatalf("loaded from %q, outside the model's folder", location)
		}
		file, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(location)))
		if err != nil {
			t.Fatalf("loaded from %q, which cannot be read: %v", location, err)
		}
		n, err := numElements(w.GetDims())
		if err != nil {
			t.Fatalf("loaded a tensor of bad dims: %v", err)
		}
		off, _ := strconv.ParseInt(offset, 10, 64)
		want := RawSize(dt, n)
		if int64(len(w.GetRawData())) != want || !bytes.Equal(w.GetRawData(), file[off:off+want]) {
			t.Fatalf("%d bytes loaded, want %d bytes of %s at %d", len(w.GetRawData()), want, location, off)
		}
		if w.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(w.GetExternalData()) > 0 {
			t.Fatal("loaded tensor is still external")
		}
	})
}
