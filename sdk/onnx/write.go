package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

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

// WriteFile writes a model to path atomically: it writes a temporary file
// in the same folder, syncs it and renames it over path, so that path
// holds either the old file or the complete new one. On any error the
// temporary files are removed and no file appears at path.
//
// Tensors go to an external data file beside the model (ONNX's external
// data convention: keys location, offset and length, data_location
// EXTERNAL) when opts ask for it or when the model would exceed
// protobuf's 2 GiB limit in one file. Initializers of at least the
// threshold size move out first; if the model is still too large, tensor
// attributes (Constant values) follow. The data file is written
// atomically too, before the model; if renaming the model then fails, the
// new data file is removed. No data file is written when no tensor
// reaches the threshold. Offsets of tensors of 1 MiB or more are aligned
// to 64 KiB so that readers can map them.
//
// m is not modified, and every tensor in it must have its data inline
// (ReadFile loads external data).
func WriteFile(path string, m *onnxpb.ModelProto, opts WriteOptions) error {
	if err := writeFile(path, m, opts); err != nil {
		return fmt.Errorf("write ONNX model %s: %w", path, err)
	}
	return nil
}

func writeFile(path string, m *onnxpb.ModelProto, opts WriteOptions) error {
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
		return commit(nil, writeBytesTemp(path, b))
	}
	return writeExternal(path, m, opts)
}

func writeExternal(path string, m *onnxpb.ModelProto, opts WriteOptions) error {
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
	if len(plan.tensors) == 0 { // nothing reached the threshold
		return commit(nil, writeBytesTemp(path, b))
	}
	data := writeTemp(dataPath, plan.write)
	if data.err != nil {
		return data.err
	}
	return commit(&data, writeBytesTemp(path, b))
}

// tempFile is a written and synced temporary file waiting to be renamed
// to path, or the error that stopped writing it (the file then is gone).
type tempFile struct {
	tmp, path string
	err       error
}

// writeTemp writes a temporary file in path's folder with fill and syncs
// it. On error it removes the file.
func writeTemp(path string, fill func(io.Writer) error) tempFile {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return tempFile{err: err}
	}
	tf := tempFile{tmp: f.Name(), path: path}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tf.tmp)
		return tempFile{err: fmt.Errorf("%s: %w", path, err)}
	}
	return tf
}

func writeBytesTemp(path string, b []byte) tempFile {
	return writeTemp(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// commit renames data (if any) and then model into place. On error it
// removes whatever temporary or new data file is left.
func commit(data *tempFile, model tempFile) error {
	if model.err != nil {
		if data != nil {
			os.Remove(data.tmp)
		}
		return model.err
	}
	if data != nil {
		if err := os.Rename(data.tmp, data.path); err != nil {
			os.Remove(data.tmp)
			os.Remove(model.tmp)
			return err
		}
	}
	if err := os.Rename(model.tmp, model.path); err != nil {
		os.Remove(model.tmp)
		if data != nil {
			os.Remove(data.path)
		}
		return err
	}
	syncDir(filepath.Dir(model.path))
	return nil
}

// syncDir makes a rename durable where the platform allows syncing a
// folder; failure is not an error (the data itself is synced).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
