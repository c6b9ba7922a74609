package onnx

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

// extModel is smallModel with its initializer w (24 bytes) stored
// externally with the given keys.
func extModel(kv ...string) *onnxpb.ModelProto {
	m := smallModel()
	w := m.Graph.Initializer[0]
	w.RawData = nil
	w.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	for i := 0; i+1 < len(kv); i += 2 {
		w.ExternalData = append(w.ExternalData, &onnxpb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return m
}

func TestReadFileMalformed(t *testing.T) {
	example, err := os.ReadFile(exampleModels(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	tensorFile, err := os.ReadFile(filepath.Join("testdata", "tensors", "float.raw.pb"))
	if err != nil {
		t.Fatal(err)
	}
	rnd := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	encode := func(edit func(m *onnxpb.ModelProto)) []byte {
		m := smallModel()
		edit(m)
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	encodeModel := func(m *onnxpb.ModelProto) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	data24 := make([]byte, 24)

	tests := []struct {
		name  string
		setup func(dir string) string // returns the path to read
		want  string
	}{
		{"missing file", func(dir string) string { return filepath.Join(dir, "none.onnx") }, "no such file"},
		{"directory", func(dir string) string {
			p := filepath.Join(dir, "d.onnx")
			os.Mkdir(p, 0o755)
			return p
		}, "is a directory"},
		{"empty file", func(dir string) string { return writeBytes(t, dir, "e.onnx", nil) }, "empty file"},
		{"random bytes", func(dir string) string { return writeBytes(t, dir, "r.onnx", rnd) }, "not an ONNX model"},
		{"json", func(dir string) string {
			return writeBytes(t, dir, "j.onnx", []byte(` {"irVersion": "7", "graph": {"node": []}}`))
		}, "JSON"},
		{"text", func(dir string) string {
			return writeBytes(t, dir, "t.onnx", []byte("ir_version: 7\ngraph {\n  name: \"g\"\n}\n"))
		}, "the file is text"},
		{"tensor file", func(dir string) string { return writeBytes(t, dir, "x.onnx", tensorFile) }, "TensorProto"},
		{"no opset_import", func(dir string) string {
			return writeBytes(t, dir, "o.onnx", encode(func(m *onnxpb.ModelProto) { m.OpsetImport = nil }))
		}, "without opset_import"},
		{"raw_data short", func(dir string) string {
			return writeBytes(t, dir, "s.onnx", encode(func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].RawData = make([]byte, 15) }))
		}, `tensor "w": raw_data has 15 bytes, dims [2 3] of type FLOAT need 24`},
		{"raw_data long", func(dir string) string {
			return writeBytes(t, dir, "l.onnx", encode(func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].RawData = make([]byte, 25) }))
		}, "raw_data has 25 bytes"},
		{"huge dims", func(dir string) string {
			return writeBytes(t, dir, "h.onnx", encode(func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].Dims = []int64{1 << 40, 1 << 22} }))
		}, "are too large"},
		{"large dims", func(dir string) string {
			return writeBytes(t, dir, "g.onnx", encode(func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].Dims = []int64{1 << 40} }))
		}, "raw_data has 24 bytes, dims [1099511627776] of type FLOAT need 4398046511104"},
		{"constant in subgraph", func(dir string) string {
			m := richModel()
			m.Graph.Node[3].Attribute[1].G.Node[0].Attribute[0].T.FloatData = nil
			return writeBytes(t, dir, "c.onnx", encodeModel(m))
		}, `node 3 ("if", If) attribute "else_branch": subgraph "else": node 0 ("", Constant) attribute "value": tensor "": float_data has 0 values`},
		{"outputs collide", func(dir string) string {
			return writeBytes(t, dir, "n.onnx", encode(func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output[0] = "s" }))
		}, `tensor "s" is written by two nodes: 0 ("add") and 1 ("relu")`},
		{"node overwrites initializer", func(dir string) string {
			return writeBytes(t, dir, "i.onnx", encode(func(m *onnxpb.ModelProto) { m.Graph.Node[0].Output[0] = "w" }))
		}, `writes tensor "w", which is an initializer`},
		{"external outside folder", func(dir string) string {
			writeBytes(t, filepath.Dir(dir), "outside.data", data24)
			return writeBytes(t, dir, "eo.onnx", encodeModel(extModel("location", "../outside.data")))
		}, `location "../outside.data" leaves the model's folder`},
		{"external absolute", func(dir string) string {
			p := writeBytes(t, dir, "abs.data", data24)
			return writeBytes(t, dir, "ea.onnx", encodeModel(extModel("location", p)))
		}, "leaves the model's folder"},
		{"external symlink out", func(dir string) string {
			out := writeBytes(t, filepath.Dir(dir), "target.data", data24)
			if err := os.Symlink(out, filepath.Join(dir, "link.data")); err != nil {
				t.Skip("no symlinks:", err)
			}
			return writeBytes(t, dir, "es.onnx", encodeModel(extModel("location", "link.data")))
		}, `external data file "link.data"`},
		{"external past end", func(dir string) string {
			writeBytes(t, dir, "short.data", make([]byte, 30))
			return writeBytes(t, dir, "ep.onnx", encodeModel(extModel("location", "short.data", "offset", "8")))
		}, `external data file "short.data" has 30 bytes, the tensor needs bytes [8, 32)`},
		{"external offset past end", func(dir string) string {
			writeBytes(t, dir, "short.data", make([]byte, 30))
			return writeBytes(t, dir, "eq.onnx", encodeModel(extModel("location", "short.data", "offset", "9223372036854775807")))
		}, "has 30 bytes, the tensor needs bytes"},
		{"external huge dims", func(dir string) string {
			writeBytes(t, dir, "w.data", data24)
			m := extModel("location", "w.data")
			m.Graph.Initializer[0].Dims = []int64{1 << 40}
			return writeBytes(t, dir, "eh.onnx", encodeModel(m))
		}, "has 24 bytes, the tensor needs bytes [0, 4398046511104)"},
		{"external length mismatch", func(dir string) string {
			writeBytes(t, dir, "w.data", data24)
			return writeBytes(t, dir, "el.onnx", encodeModel(extModel("location", "w.data", "length", "20")))
		}, "external data length 20, dims [2 3] of type FLOAT need 24"},
		{"external missing file", func(dir string) string {
			return writeBytes(t, dir, "em.onnx", encodeModel(extModel("location", "gone.data")))
		}, `external data file "gone.data"`},
		{"external no location", func(dir string) string {
			return writeBytes(t, dir, "en.onnx", encodeModel(extModel("offset", "0")))
		}, "without a location"},
		{"external bad offset", func(dir string) string {
			writeBytes(t, dir, "w.data", data24)
			return writeBytes(t, dir, "eb.onnx", encodeModel(extModel("location", "w.data", "offset", "x1")))
		}, `offset "x1" is not a number`},
		{"external negative offset", func(dir string) string {
			writeBytes(t, dir, "w.data", data24)
			return writeBytes(t, dir, "eg.onnx", encodeModel(extModel("location", "w.data", "offset", "-4")))
		}, "negative external data offset"},
		{"external location is a folder", func(dir string) string {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			return writeBytes(t, dir, "ed.onnx", encodeModel(extModel("location", "sub")))
		}, `"sub"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "models")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := tc.setup(dir)
			m, err := ReadFile(path)
			if err == nil {
				t.Fatalf("ReadFile succeeded: %v", m)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want one naming %s and containing %q", err, path, tc.want)
			}
		})
	}

	// Every truncation of a real model is an error naming the file.
	t.Run("truncated", func(t *testing.T) {
		dir := t.TempDir()
		var cuts []int
		for n := 1; n < len(example); n += len(example)/97 + 1 {
			cuts = append(cuts, n)
		}
		cuts = append(cuts, len(example)-1, len(example)-2, len(example)-10, 2, 3, 8)
		for _, n := range cuts {
			path := writeBytes(t, dir, "cut.onnx", example[:n])
			if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("cut at %d of %d bytes: error %v", n, len(example), err)
			}
		}
	})
}

func TestDecodeSniff(t *testing.T) {
	// A valid model is never mistaken for something else.
	b := mustEncode(t, smallModel())
	if _, err := Decode(b); err != nil {
		t.Fatal(err)
	}
	if s := sniff(b); strings.Contains(s, "JSON") || strings.Contains(s, "text") {
		t.Errorf("sniff of a model = %q", s)
	}
}
