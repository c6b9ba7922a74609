package onnx

import (
	"bytes"
	"os"
	"path/filepath"
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
