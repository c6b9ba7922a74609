package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/proto/potv1"
)

// Decode parses a serialized ModelProto and validates what it can without
// the model's folder: the input must be a model (not empty, not text, not
// another protobuf message, not truncated), and every inline tensor's data
// must agree with its dims. Fields pot does not declare are kept as
// unknown fields. Tensors with external data are left unloaded (see
// LoadExternalData).
func Decode(b []byte) (*onnxpb.ModelProto, error) {
	if len(b) == 0 {
		return nil, errors.New("empty file, not an ONNX model")
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		if what := sniff(b); what != "" {
			return nil, fmt.Errorf("not an ONNX model: %s", what)
		}
		if strings.Contains(err.Error(), "exceeded maximum recursion depth") {
			// protowire's error for messages nested beyond its limit
			// (10000), which it does not export.
			return nil, fmt.Errorf("not an ONNX model: its messages nest deeper than protobuf's limit (%w)", err)
		}
		return nil, fmt.Errorf("not an ONNX model, or a truncated one: %w", err)
	}
	if m.Graph == nil {
		if what := sniff(b); what != "" {
			return nil, fmt.Errorf("not an ONNX model: %s", what)
		}
		return nil, errors.New("not an ONNX model: no graph (the file may be truncated or of another format)")
	}
	if m.IrVersion == nil {
		return nil, errors.New("not an ONNX model: no ir_version")
	}
	if len(m.GetOpsetImport()) == 0 && m.GetIrVersion() >= 3 {
		return nil, fmt.Errorf("ir_version %d model without opset_import (the file may be truncated)", m.GetIrVersion())
	}
	if err := checkLimits(m); err != nil {
		return nil, err
	}
	if err := checkModel(m); err != nil {
		return nil, err
	}
	return m, nil
}

// sniff names what b looks like when it is not a model, or returns "".
func sniff(b []byte) string {
	trimmed := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return "the file is JSON text, not a binary ModelProto"
	}
	head := b[:min(len(b), 64)]
	if utf8.Valid(head) && !bytes.ContainsFunc(head, func(r rune) bool { return r < ' ' && r != '\n' && r != '\r' && r != '\t' }) {
		return fmt.Sprintf("the file is text (it starts with %q), not a binary ModelProto", string(head[:min(len(head), 24)]))
	}
	t := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(b, t); err == nil && t.GetDataType() != 0 && len(t.ProtoReflect().GetUnknown()) == 0 {
		return fmt.Sprintf("the file holds a TensorProto (tensor %q, %s, dims %v), not a ModelProto", t.GetName(), dtName(t.GetDataType()), t.GetDims())
	}
	return ""
}

// ReadFile reads an ONNX model, loads its external data (looked up
// relative to the model's folder, which it may not leave) and validates
// it (see Decode). Every error names the file and what is wrong with it.
func ReadFile(path string) (*onnxpb.ModelProto, error) {
	m, _, err := ReadModel(path)
	return m, err
}

// ReadGraph reads an ONNX model as ReadFile does and converts it with
// ToGraph.
func ReadGraph(path string) (*potv1.Graph, error) {
	m, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ToGraph(m)
}

// ModelFiles are the files a model was read from.
type ModelFiles struct {
	// Model is the model file's path, as given.
	Model string
	// External are the paths of its external data files (the model's
	// folder joined with each location), sorted; none for a model held
	// in one file.
	External []string
}

// ReadModel is ReadFile, and also tells which files the model came from.
func ReadModel(path string) (*onnxpb.ModelProto, ModelFiles, error) {
	files := ModelFiles{Model: path}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, files, fmt.Errorf("read ONNX model: %w", err)
	}
	if fi.IsDir() {
		return nil, files, fmt.Errorf("read ONNX model %s: is a directory, not a model file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, files, fmt.Errorf("read ONNX model: %w", err)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, files, fmt.Errorf("read ONNX model %s: %w", path, err)
	}
	locs, err := loadExternalData(m, filepath.Dir(path))
	if err != nil {
		return nil, files, fmt.Errorf("read ONNX model %s: %w", path, err)
	}
	for _, loc := range locs {
		files.External = append(files.External, filepath.Join(filepath.Dir(path), filepath.FromSlash(loc)))
	}
	return m, files, nil
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
