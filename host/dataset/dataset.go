package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dataset is a fixed, indexable collection of preprocessed samples.
//
// Implementations are safe for concurrent calls to Read.
type Dataset interface {
	// Len is the number of samples.
	Len() int
	// SampleShape is the shape of one sample, without a batch dimension
	// (e.g. [1 28 28]). Callers must not modify the returned slice.
	SampleShape() []int
	// Labelled reports whether Read returns class labels.
	Labelled() bool
	// Read writes sample i, preprocessed, into dst, whose length must be
	// the product of SampleShape. It returns the sample's class label, or
	// -1 when the data set is unlabelled.
	Read(i int, dst []float32) (label int, err error)
}

// Classes is implemented by data sets that know their class names (image
// folders with one sub-folder per class): label i is Classes()[i].
type Classes interface {
	Classes() []string
}

// Sentinel errors wrapped by the errors of this package.
var (
	// ErrDescriptor marks a problem with a descriptor: unreadable, not
	// JSON, an unknown key or format, a value of the wrong type or range.
	ErrDescriptor = errors.New("bad dataset descriptor")
	// ErrEmpty marks a data set without samples.
	ErrEmpty = errors.New("empty dataset")
	// ErrLabelCount marks a label file whose count differs from the
	// number of samples.
	ErrLabelCount = errors.New("number of labels differs from number of samples")
	// ErrFormat marks a data file that is not what it should be (bad
	// magic number, truncated, unsupported type, inconsistent images).
	ErrFormat = errors.New("bad data file")
	// ErrShapeMismatch marks samples that do not fit the model input.
	ErrShapeMismatch = errors.New("input shape mismatch")
)

// Option adjusts how Open reads a data set.
type Option func(*openConfig)

type openConfig struct {
	defaults   Descriptor
	hint       inputHint
	inputNames []string
}

// inputHint is what the model input shape says about images.
type inputHint struct {
	channels int    // 0 when unknown
	height   int    // 0 when unknown
	width    int    // 0 when unknown
	layout   string // "" when unknown
}

// WithDefaults supplies descriptor values for the keys a descriptor leaves
// unset (for a bare image folder: all of them). For example
// WithDefaults(Descriptor{Layout: "NHWC"}) carries POT's simplified engine
// layout option.
func WithDefaults(d Descriptor) Option {
	return func(c *openConfig) { c.defaults = d }
}

// WithInputShape tells Open the shape of the model input the data will
// feed, with or without a leading batch dimension; dimensions <= 0 are
// symbolic. Image folders use it, for the options neither the descriptor
// nor WithDefaults set, to choose the channel count, the layout (NCHW when
// the channel dimension comes first, NHWC when it comes last) and the
// output size: images are resized to cover H×W and centre-cropped to it.
// Array formats ignore it (Check reports a mismatch).
func WithInputShape(shape []int) Option {
	return func(c *openConfig) { c.hint = hintFromShape(shape) }
}

// hintFromShape reads channels, height, width and layout from a model input
// shape [N C H W], [N H W C], [C H W] or [H W C].
func hintFromShape(shape []int) inputHint {
	if len(shape) == 4 {
		shape = shape[1:]
	}
	if len(shape) != 3 {
		return inputHint{}
	}
	isC := func(d int) bool { return d == 1 || d == 3 }
	known := func(d int) int { return max(d, 0) }
	switch {
	case isC(shape[0]):
		return inputHint{channels: shape[0], height: known(shape[1]), width: known(shape[2]), layout: "NCHW"}
	case isC(shape[2]):
		return inputHint{channels: shape[2], height: known(shape[0]), width: known(shape[1]), layout: "NHWC"}
	}
	return inputHint{}
}

// Open opens the data set named by path, which is one of:
//   - a JSON descriptor (see Descriptor); its paths are relative to its
//     folder;
//   - a folder of PNG/JPEG images, searched recursively, opened as an
//     unlabelled image folder (POT's simplified engine data_source);
//   - a glob pattern matching image files (also unlabelled);
//   - a .npy file (unlabelled) or a .npz archive (see Descriptor.Inputs).
func Open(path string, opts ...Option) (Dataset, error) {
	var cfg openConfig
	for _, o := range opts {
		o(&cfg)
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && strings.ContainsAny(path, "*?[") {
			return openGlob(path, cfg)
		}
		return nil, fmt.Errorf("dataset %s: %w", path, notExist(err))
	}
	if st.IsDir() {
		d := cfg.defaults.merge(Descriptor{Format: FormatImageFolder, Root: "."})
		return openImageFolder(path, path, d, cfg.hint, true)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		d := cfg.defaults.merge(Descriptor{Format: FormatNPY, Inputs: filepath.Base(path)})
		return openDescriptor(path, filepath.Dir(path), d, cfg)
	case ".npz":
		d := cfg.defaults.merge(Descriptor{Format: FormatNPZ, File: filepath.Base(path)})
		return openDescriptor(path, filepath.Dir(path), d, cfg)
	}
	d, err := ReadDescriptor(path)
	if err != nil {
		return nil, err
	}
	return openDescriptor(path, filepath.Dir(path), cfg.defaults.merge(*d), cfg)
}

// OpenDescriptor opens the data set described by d, resolving its relative
// paths against dir. name identifies the descriptor in error messages (a
// file name, or e.g. "config engine"). The descriptor is validated first.
func OpenDescriptor(name, dir string, d Descriptor, opts ...Option) (Dataset, error) {
	var cfg openConfig
	for _, o := range opts {
		o(&cfg)
	}
	d = cfg.defaults.merge(d)
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	return openDescriptor(name, dir, d, cfg)
}

func openDescriptor(name, dir string, d Descriptor, cfg openConfig) (Dataset, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", name, err)
	}
	ds, err := openFormat(name, dir, d, cfg)
	if err != nil {
		return nil, err
	}
	return WithConstants(ds, d.Constants), nil
}

func openFormat(name, dir string, d Descriptor, cfg openConfig) (Dataset, error) {
	switch d.Format {
	case FormatIDX:
		return openIDX(name, dir, d)
	case FormatNPZ:
		nd, err := readNamedNPZ(name, resolve(dir, d.File), d, cfg.inputNames)
		if err != nil {
			return nil, err
		}
		if nd != nil {
			return nd, nil
		}
		return openArrays(name, dir, d)
	case FormatNPY:
		return openArrays(name, dir, d)
	case FormatImageFolder:
		return openImageFolder(name, resolve(dir, d.Root), d, cfg.hint, false)
	}
	return nil, fmt.Errorf("dataset %s: %w: unknown format %q", name, ErrDescriptor, d.Format)
}

// resolve joins a descriptor path to the descriptor's folder unless it is
// absolute.
func resolve(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// noFile is the error for a missing file: a short message that still
// matches fs.ErrNotExist.
type noFile struct{}

func (noFile) Error() string        { return "no such file or folder" }
func (noFile) Is(target error) bool { return target == fs.ErrNotExist }

// notExist shortens an *fs.PathError (whose message repeats the path the
// caller already names) to its cause, keeping fs.ErrNotExist matchable.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return noFile{}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sampleSize is the number of elements of one sample.
func sampleSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// checkRead validates the arguments of a Read call.
func checkRead(ds Dataset, i int, dst []float32) error {
	if i < 0 || i >= ds.Len() {
		return fmt.Errorf("dataset: sample index %d out of range [0, %d)", i, ds.Len())
	}
	if want := sampleSize(ds.SampleShape()); len(dst) != want {
		return fmt.Errorf("dataset: destination holds %d values, a sample has %d", len(dst), want)
	}
	return nil
}
