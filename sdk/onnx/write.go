package onnx

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/potgo/pot/internal/outfile"
	"github.com/potgo/pot/proto/onnxpb"
)

// maxModelSize is the largest serialized ModelProto: protobuf's 2 GiB
// limit (message sizes are int32). A variable so tests can lower it.
var maxModelSize int64 = 1<<31 - 1

// DefaultExternalThreshold is the smallest tensor, in bytes of raw data,
// that WriteFile moves to external data when WriteOptions.ExternalThreshold
// is zero. It is ONNX's own default (onnx.save_model's size_threshold).
const DefaultExternalThreshold = 1024

// WriteOptions control WriteFile. The zero value writes one self-contained
// file unless the model is too large for that.
type WriteOptions struct {
	// ExternalData moves tensors of at least ExternalThreshold bytes to an
	// external data file even when the model would fit in one file.
	// WriteFile does so anyway for a model whose serialization would
	// exceed protobuf's 2 GiB limit.
	ExternalData bool
	// ExternalLocation is the path of the external data file relative to
	// the model's folder; it may not leave the folder. Empty means the
	// model's file name plus ".data".
	ExternalLocation string
	// ExternalThreshold is the smallest tensor, in bytes of raw data, that
	// goes to the external data file; 0 means DefaultExternalThreshold.
	ExternalThreshold int64
}

// Encode serializes a model deterministically: the same model gives the
// same bytes. It fails for a model above protobuf's 2 GiB limit, which
// WriteFile can still write with external data.
func Encode(m *onnxpb.ModelProto) ([]byte, error) {
	if m == nil {
		return nil, errors.New("encode ONNX model: nil model")
	}
	if n := int64(proto.Size(m)); n > maxModelSize {
		return nil, fmt.Errorf("encode ONNX model: %d bytes exceed protobuf's 2 GiB limit; write it with external data (WriteFile)", n)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode ONNX model: %w", err)
	}
	return b, nil
}

// Stager stages the files of a group written atomically (see
// WriteStaged): Stage writes a file's content, through fill, to a
// temporary file that becomes path when the group is committed.
type Stager interface {
	Stage(path string, fill func(io.Writer) error) error
}

// WriteFile writes a model to path atomically: it writes temporary files
// in the same folder, syncs them and renames them over path (and its
// external data file), so that path holds either the old file or the
// complete new one. On any error the temporary files are removed and no
// file appears at path. Temporary files are named
// ".NAME.pot-tmp-PID-RANDOM"; a process killed while writing leaves only
// such files.
//
// Tensors go to an external data file beside the model (ONNX's external
// data convention: keys location, offset and length, data_location
// EXTERNAL) when opts ask for it or when the model would exceed
// protobuf's 2 GiB limit in one file. Initializers of at least the
// threshold size move out first; if the model is still too large, tensor
// attributes (Constant values) follow. The data file is streamed tensor
// by tensor (the model is never serialized whole) and renamed into place
// before the model; if renaming the model then fails, the new data file
// is removed. No data file is written when no tensor reaches the
// threshold. Offsets of tensors of 1 MiB or more are aligned to 64 KiB so
// that readers can map them.
//
// m is not modified, and every tensor in it must have its data inline
// (ReadFile loads external data).
func WriteFile(path string, m *onnxpb.ModelProto, opts WriteOptions) error {
	tx := &outfile.Txn{}
	if err := WriteStaged(tx, path, m, opts); err != nil {
		tx.Abort()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write ONNX model %s: %w", path, err)
	}
	return nil
}

// WriteStaged is WriteFile for a group of files written together: it
// stages the model (and its external data file, first) with s, and the
// caller commits or aborts the group. Errors name path.
func WriteStaged(s Stager, path string, m *onnxpb.ModelProto, opts WriteOptions) error {
	if err := writeStaged(s, path, m, opts); err != nil {
		return fmt.Errorf("write ONNX model %s: %w", path, err)
	}
	return nil
}

func writeStaged(s Stager, path string, m *onnxpb.ModelProto, opts WriteOptions) error {
	if m == nil {
		return errors.New("nil model")
	}
	if err := (walker{tensor: func(t *onnxpb.TensorProto) error {
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			return fmt.Errorf("tensor %q: external data is not loaded", t.GetName())
		}
		return nil
	}}).model(m); err != nil {
		return err
	}
	if !opts.ExternalData && int64(proto.Size(m)) <= maxModelSize {
		b, err := Encode(m)
		if err != nil {
			return err
		}
		return stageBytes(s, path, b)
	}
	return writeExternal(s, path, m, opts)
}

func stageBytes(s Stager, path string, b []byte) error {
	return s.Stage(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

func writeExternal(s Stager, path string, m *onnxpb.ModelProto, opts WriteOptions) error {
	location := opts.ExternalLocation
	if location == "" {
		location = filepath.Base(path) + ".data"
	}
	loc := filepath.FromSlash(location)
	if filepath.IsAbs(loc) || !filepath.IsLocal(loc) {
		return fmt.Errorf("external data location %q leaves the model's folder", location)
	}
	dataPath := filepath.Join(filepath.Dir(path), loc)
	if filepath.Clean(dataPath) == filepath.Clean(path) {
		return fmt.Errorf("external data location %q is the model file itself", location)
	}
	threshold := opts.ExternalThreshold
	if threshold <= 0 {
		threshold = DefaultExternalThreshold
	}
	out, plan, err := externalize(m, filepath.ToSlash(loc), threshold, false)
	if err != nil {
		return err
	}
	if int64(proto.Size(out)) > maxModelSize {
		if out, plan, err = externalize(m, filepath.ToSlash(loc), threshold, true); err != nil {
			return err
		}
	}
	b, err := Encode(out)
	if err != nil {
		return err
	}
	if len(plan.tensors) > 0 { // else nothing reached the threshold
		if err := s.Stage(dataPath, plan.write); err != nil {
			return err
		}
	}
	return stageBytes(s, path, b)
}
