package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/potgo/pot/internal/filemap"
	"github.com/potgo/pot/proto/onnxpb"
)

// LoadExternalData reads the data of every tensor stored outside the
// model (initializers, sparse initializers and tensor attributes, in the
// main graph, subgraphs, functions and training graphs) into raw_data,
// which on Linux is a slice of a private read-only-file mapping (see
// internal/filemap: pages are read on demand, writes stay in memory),
// following ONNX's external-data convention (keys location, offset,
// length). Locations are relative to dir and may not leave it, neither
// by name nor through a symbolic link; the data must lie inside its file
// and have the length the tensor's dims ask for.
func LoadExternalData(m *onnxpb.ModelProto, dir string) error {
	_, err := loadExternalData(m, dir)
	return err
}

// loadExternalData is LoadExternalData; it also returns the locations of
// the files read, sorted.
func loadExternalData(m *onnxpb.ModelProto, dir string) ([]string, error) {
	l := &externalLoader{dir: dir, files: map[string]*os.File{}, maps: map[string][]byte{}}
	defer l.close()
	err := walker{tensor: func(t *onnxpb.TensorProto) error {
		if t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return nil
		}
		return l.load(t)
	}}.model(m)
	locs := make([]string, 0, len(l.files))
	for loc := range l.files {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	return locs, err
}

type externalLoader struct {
	dir   string
	root  *os.Root
	files map[string]*os.File
	maps  map[string][]byte // whole-file mappings, by location
}

func (l *externalLoader) close() {
	for _, f := range l.files {
		f.Close()
	}
	if l.root != nil {
		l.root.Close()
	}
}

// open opens location inside the loader's folder, once per location.
func (l *externalLoader) open(location string) (*os.File, error) {
	if f, ok := l.files[location]; ok {
		return f, nil
	}
	if l.root == nil {
		r, err := os.OpenRoot(l.dir)
		if err != nil {
			return nil, err
		}
		l.root = r
	}
	f, err := l.root.Open(filepath.FromSlash(location))
	if err != nil {
		return nil, err
	}
	l.files[location] = f
	return f, nil
}

// externalRef is a tensor's external_data entries, parsed.
type externalRef struct {
	location       string
	offset, length int64 // length -1 when absent
}

func parseExternalRef(t *onnxpb.TensorProto) (externalRef, error) {
	r := externalRef{length: -1}
	for _, kv := range t.GetExternalData() {
		var err error
		switch kv.GetKey() {
		case "location":
			r.location = kv.GetValue()
		case "offset":
			r.offset, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		case "length":
			r.length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
		}
		if err != nil {
			return r, fmt.Errorf("external data %s %q is not a number", kv.GetKey(), kv.GetValue())
		}
	}
	switch {
	case r.location == "":
		return r, errors.New("external data without a location")
	case r.offset < 0:
		return r, fmt.Errorf("negative external data offset %d", r.offset)
	case r.length < -1:
		return r, fmt.Errorf("negative external data length %d", r.length)
	}
	loc := filepath.FromSlash(r.location)
	if filepath.IsAbs(loc) || !filepath.IsLocal(loc) {
		return r, fmt.Errorf("external data location %q leaves the model's folder", r.location)
	}
	return r, nil
}

func (l *externalLoader) load(t *onnxpb.TensorProto) error {
	r, err := parseExternalRef(t)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	_, want, err := rawSizeOf(t)
	if err != nil {
		return err
	}
	if want < 0 {
		return fmt.Errorf("tensor %q: data type %s cannot be stored externally", t.GetName(), dtName(t.GetDataType()))
	}
	if r.length >= 0 && r.length != want {
		return fmt.Errorf("tensor %q: external data length %d, dims %v of type %s need %d", t.GetName(), r.length, t.GetDims(), dtName(t.GetDataType()), want)
	}
	f, err := l.open(r.location)
	if err != nil {
		return fmt.Errorf("tensor %q: external data file %q: %w", t.GetName(), r.location, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("tensor %q: external data file %q: %w", t.GetName(), r.location, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("tensor %q: external data location %q is a directory", t.GetName(), r.location)
	}
	// Check the extent before allocating: dims may claim anything.
	if r.offset > fi.Size() || want > fi.Size()-r.offset {
		return fmt.Errorf("tensor %q: external data file %q has %d bytes, the tensor needs bytes [%d, %d)", t.GetName(), r.location, fi.Size(), r.offset, uint64(r.offset)+uint64(want))
	}
	if want > 0 {
		if _, ok := l.maps[r.location]; !ok {
			// Mapped where the platform allows (nil otherwise): the data
			// is read on demand from the page cache, not copied.
			mp, err := filemap.Map(f, fi.Size())
			if err != nil {
				return fmt.Errorf("tensor %q: external data file %q: %w", t.GetName(), r.location, err)
			}
			l.maps[r.location] = mp
		}
		if mp := l.maps[r.location]; mp != nil {
			t.RawData = mp[r.offset : r.offset+want : r.offset+want]
			t.ExternalData = nil
			t.DataLocation = nil
			return nil
		}
	}
	buf := make([]byte, want)
	if _, err := f.ReadAt(buf, r.offset); err != nil && !(errors.Is(err, io.EOF) && want == 0) {
		return fmt.Errorf("tensor %q: external data file %q: %w", t.GetName(), r.location, err)
	}
	t.RawData = buf
	t.ExternalData = nil
	t.DataLocation = nil
	return nil
}
