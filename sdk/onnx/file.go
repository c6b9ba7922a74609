package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
)

// Decode parses a serialized ModelProto. It rejects input that is not a
// model (an empty file, another protobuf message, a truncated file) with
// an error saying what is wrong.
func Decode(b []byte) (*onnxpb.ModelProto, error) {
	if len(b) == 0 {
		return nil, errors.New("empty file, not an ONNX model")
	}
	m := &onnxpb.ModelProto{}
	if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("not an ONNX model, or a truncated one: %w", err)
	}
	if m.Graph == nil {
		return nil, errors.New("not an ONNX model: no graph (the file may be truncated or of another format)")
	}
	if m.IrVersion == nil {
		return nil, errors.New("not an ONNX model: no ir_version")
	}
	return m, nil
}

// ReadFile reads an ONNX model and loads its external data, which is
// looked up relative to the model's folder.
func ReadFile(path string) (*onnxpb.ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := LoadExternalData(m, filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// LoadExternalData reads the data of every tensor stored outside the
// model (initializers and tensor attributes, in the main graph and
// subgraphs) into raw_data. Locations are relative to dir and may not
// leave it.
func LoadExternalData(m *onnxpb.ModelProto, dir string) error {
	var err error
	visitTensors(m.GetGraph(), func(t *onnxpb.TensorProto) {
		if err != nil || t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return
		}
		err = loadExternal(t, dir)
	})
	return err
}

func loadExternal(t *onnxpb.TensorProto, dir string) error {
	var location string
	offset, length := int64(0), int64(-1)
	for _, kv := range t.GetExternalData() {
		var err error
		switch kv.GetKey() {
		case "location":
			location = kv.GetValue()
		case "offset":
			offset, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		}
		if err != nil {
			return fmt.Errorf("tensor %q: external data %s: %w", t.GetName(), kv.GetKey(), err)
		}
	}
	if location == "" {
		return fmt.Errorf("tensor %q: external data without a location", t.GetName())
	}
	if filepath.IsAbs(location) || !filepath.IsLocal(location) {
		return fmt.Errorf("tensor %q: external data location %q leaves the model's folder", t.GetName(), location)
	}
	path := filepath.Join(dir, location)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("tensor %q: external data: %w", t.GetName(), err)
	}
	defer f.Close()
	n, err := numElements(t.GetDims())
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	want := RawSize(t.GetDataType(), n)
	if want < 0 {
		return fmt.Errorf("tensor %q: data type %s cannot be stored externally", t.GetName(), dtName(t.GetDataType()))
	}
	if length >= 0 && length != want {
		return fmt.Errorf("tensor %q: external data length %d, dims %v need %d", t.GetName(), length, t.GetDims(), want)
	}
	if offset < 0 {
		return fmt.Errorf("tensor %q: negative external data offset", t.GetName())
	}
	buf := make([]byte, want)
	if _, err := f.ReadAt(buf, offset); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("tensor %q: external file %s ends before offset %d + %d bytes", t.GetName(), location, offset, want)
		}
		return fmt.Errorf("tensor %q: external data: %w", t.GetName(), err)
	}
	t.RawData = buf
	t.ExternalData = nil
	t.DataLocation = nil
	return nil
}

// visitTensors calls fn on every TensorProto of g: initializers and tensor
// attributes, recursively through subgraphs.
func visitTensors(g *onnxpb.GraphProto, fn func(*onnxpb.TensorProto)) {
	if g == nil {
		return
	}
	for _, t := range g.GetInitializer() {
		fn(t)
	}
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if a.T != nil {
				fn(a.T)
			}
			for _, t := range a.GetTensors() {
				fn(t)
			}
			visitTensors(a.G, fn)
			for _, sg := range a.GetGraphs() {
				visitTensors(sg, fn)
			}
		}
	}
}

// ReadTensorFile reads a serialized TensorProto (the input_N.pb and
// output_N.pb files of ONNX's backend tests).
func ReadTensorFile(path string) (*onnxpb.TensorProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("%s: not a TensorProto: %w", path, err)
	}
	return t, nil
}
