package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// Data set formats, the values of Descriptor.Format.
const (
	FormatIDX         = "idx"
	FormatNPY         = "npy"
	FormatNPZ         = "npz"
	FormatImageFolder = "imagefolder"
)

// Formats lists the known formats.
var Formats = []string{FormatIDX, FormatNPY, FormatNPZ, FormatImageFolder}

// Descriptor is the JSON description of a data set. Paths are relative to
// the descriptor file's folder. Which keys apply depends on Format:
//
//	idx          images, labels
//	npy          inputs, labels, layout
//	npz          file, inputs, labels, layout
//	imagefolder  root, resize, crop, channels, color_order, layout
//	all          format, mean, std, scale, constants
type Descriptor struct {
	// Format is one of Formats.
	Format string `json:"format"`

	// Images is the idx3-ubyte image file (gzip-compressed or plain).
	Images string `json:"images,omitempty"`
	// Labels is, for idx, the idx1-ubyte label file; for npy, a .npy file
	// of integer labels; for npz, the name of the labels array inside the
	// archive. Without labels the data set is unlabelled.
	Labels string `json:"labels,omitempty"`
	// Inputs is, for npy, the .npy file of inputs, shape (N, ...); for
	// npz, the name of the inputs array inside the archive. For npz it
	// defaults to the array named "inputs" or "x", or the only array.
	// (For npz, Labels likewise defaults to an array named "labels" or "y"
	// when one exists.)
	Inputs string `json:"inputs,omitempty"`
	// File is the .npz archive.
	File string `json:"file,omitempty"`
	// Root is the image folder: either one sub-folder of images per class
	// (labels are the sorted class folder names' indices) or images
	// directly inside it (unlabelled).
	Root string `json:"root,omitempty"`

	// Mean and Std normalize each channel c: x = (v·scale − Mean[c]) /
	// Std[c]. Both are optional and must have one value per channel (for
	// npy/npz, one value also applies to every element).
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
	// Scale multiplies raw values before Mean/Std. Default: 1/255 for
	// 8-bit data (IDX, uint8 arrays, images), 1/65535 for uint16 arrays,
	// 1 otherwise.
	Scale *float64 `json:"scale,omitempty"`

	// Resize scales each image so that its shorter side has this many
	// pixels (bilinear), keeping the aspect ratio.
	Resize int `json:"resize,omitempty"`
	// Crop cuts the centre Crop×Crop square (after Resize).
	Crop int `json:"crop,omitempty"`
	// Channels is 1 (grayscale) or 3 (color); images are converted. By
	// default the model input's channel count, else the first image's.
	Channels int `json:"channels,omitempty"`
	// ColorOrder is RGB (default) or BGR.
	ColorOrder string `json:"color_order,omitempty"`
	// Layout is NCHW (default; also CHW) or NHWC (also HWC). For images it
	// is the sample layout; for npy/npz it says which sample axis holds the
	// channels that Mean/Std apply to (the first, or the last).
	Layout string `json:"layout,omitempty"`

	// Constants feed model inputs the same value for every sample, by
	// input name: a number fills the whole input (e.g. a sample rate, or
	// 0 for an initial recurrent state), a nested list gives its exact
	// value. The data feeds the other inputs.
	Constants map[string]Constant `json:"constants,omitempty"`
}

// commonKeys apply to every format.
var commonKeys = []string{"format", "mean", "std", "scale", "constants"}

// formatKeys lists the keys specific to each format.
var formatKeys = map[string][]string{
	FormatIDX:         {"images", "labels"},
	FormatNPY:         {"inputs", "labels", "layout"},
	FormatNPZ:         {"file", "inputs", "labels", "layout"},
	FormatImageFolder: {"root", "resize", "crop", "channels", "color_order", "layout"},
}

// keysFor returns every key valid for format.
func keysFor(format string) []string {
	return append(slices.Clone(commonKeys), formatKeys[format]...)
}

// allKeys returns every key of any format, sorted and unique.
func allKeys() []string {
	keys := slices.Clone(commonKeys)
	for _, k := range formatKeys {
		keys = append(keys, k...)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// ReadDescriptor reads and validates the descriptor file at path.
func ReadDescriptor(path string) (*Descriptor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, wrapf(ErrDescriptor, notExist(err), "cannot read descriptor"))
	}
	d, err := ParseDescriptor(data)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	return d, nil
}

// ParseDescriptor decodes and validates a JSON descriptor. Errors do not
// name a file: callers prefix it.
func ParseDescriptor(data []byte) (*Descriptor, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonError(data, err)
	}
	if raw == nil {
		return nil, errorf(ErrDescriptor, "not a JSON object")
	}
	var format string
	f, ok := raw["format"]
	if !ok {
		return nil, errorf(ErrDescriptor, `missing key "format" (one of %s)`, strings.Join(Formats, ", "))
	}
	if err := json.Unmarshal(f, &format); err != nil {
		return nil, errorf(ErrDescriptor, `key "format": want a string, got %s`, jsonKind(f))
	}
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	valid := keysFor(format)
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if slices.Contains(valid, k) {
			continue
		}
		if slices.Contains(allKeys(), k) {
			return nil, errorf(ErrDescriptor, "key %q does not apply to format %q (its keys: %s)", k, format, strings.Join(valid, ", "))
		}
		return nil, errorf(ErrDescriptor, "unknown key %q%s", k, suggest(k, valid))
	}
	var d Descriptor
	for _, k := range keys {
		if err := decodeField(&d, k, raw[k]); err != nil {
			return nil, err
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// decodeField decodes one key of a descriptor into d.
func decodeField(d *Descriptor, key string, v json.RawMessage) error {
	var target any
	want := "a string"
	switch key {
	case "format":
		target = &d.Format
	case "images":
		target = &d.Images
	case "labels":
		target = &d.Labels
	case "inputs":
		target = &d.Inputs
	case "file":
		target = &d.File
	case "root":
		target = &d.Root
	case "color_order":
		target = &d.ColorOrder
	case "layout":
		target = &d.Layout
	case "mean":
		target, want = &d.Mean, "a list of numbers"
	case "std":
		target, want = &d.Std, "a list of numbers"
	case "scale":
		target, want = &d.Scale, "a number"
	case "resize":
		target, want = &d.Resize, "an integer"
	case "crop":
		target, want = &d.Crop, "an integer"
	case "channels":
		target, want = &d.Channels, "an integer"
	case "constants":
		c, err := parseConstants(v)
		if err != nil {
			return err
		}
		d.Constants = c
		return nil
	default:
		return errorf(ErrDescriptor, "unknown key %q", key)
	}
	if err := json.Unmarshal(v, target); err != nil {
		return errorf(ErrDescriptor, "key %q: want %s, got %s", key, want, jsonKind(v))
	}
	return nil
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "a string " + string(v)
	case '[':
		if len(v) > 40 {
			return "a list"
		}
		return "the list " + string(v)
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "the number " + string(v)
}

// jsonError turns a JSON decoding error into a one-line descriptor error
// with a line and column.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return errorf(ErrDescriptor, "not valid JSON at line %d, column %d: %v", line, col, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		article := "a"
		if te.Value != "" && strings.ContainsRune("aeiou", rune(te.Value[0])) {
			article = "an"
		}
		return errorf(ErrDescriptor, "not a JSON object (found %s %s)", article, te.Value)
	}
	return wrapf(ErrDescriptor, err, "not valid JSON")
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// checkFormat reports an unknown format, suggesting the nearest known one.
func checkFormat(format string) error {
	if slices.Contains(Formats, format) {
		return nil
	}
	return errorf(ErrDescriptor, "unknown format %q%s (known: %s)", format, suggest(strings.ToLower(format), Formats), strings.Join(Formats, ", "))
}

// setKeys lists the keys whose fields hold a non-zero value.
func (d *Descriptor) setKeys() []string {
	var keys []string
	add := func(set bool, k string) {
		if set {
			keys = append(keys, k)
		}
	}
	add(d.Format != "", "format")
	add(d.Images != "", "images")
	add(d.Labels != "", "labels")
	add(d.Inputs != "", "inputs")
	add(d.File != "", "file")
	add(d.Root != "", "root")
	add(d.Mean != nil, "mean")
	add(d.Std != nil, "std")
	add(d.Scale != nil, "scale")
	add(d.Resize != 0, "resize")
	add(d.Crop != 0, "crop")
	add(d.Channels != 0, "channels")
	add(d.ColorOrder != "", "color_order")
	add(d.Layout != "", "layout")
	add(d.Constants != nil, "constants")
	return keys
}

// merge returns over with every field it leaves unset taken from d (the
// defaults). Defaults that do not apply to the resulting format are
// dropped; over's own keys are kept, so that Validate reports misplaced
// ones.
func (d Descriptor) merge(over Descriptor) Descriptor {
	format := d.Format
	if over.Format != "" {
		format = over.Format
	}
	valid := keysFor(format)
	for _, k := range d.setKeys() {
		if !slices.Contains(valid, k) {
			d.clear(k)
		}
	}
	d.Format = format
	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	num := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	str(&d.Images, over.Images)
	str(&d.Labels, over.Labels)
	str(&d.Inputs, over.Inputs)
	str(&d.File, over.File)
	str(&d.Root, over.Root)
	str(&d.ColorOrder, over.ColorOrder)
	str(&d.Layout, over.Layout)
	num(&d.Resize, over.Resize)
	num(&d.Crop, over.Crop)
	num(&d.Channels, over.Channels)
	if over.Mean != nil {
		d.Mean = over.Mean
	}
	if over.Std != nil {
		d.Std = over.Std
	}
	if over.Scale != nil {
		d.Scale = over.Scale
	}
	if over.Constants != nil {
		d.Constants = over.Constants
	}
	return d
}

// clear zeroes the field of key k.
func (d *Descriptor) clear(k string) {
	switch k {
	case "format":
		d.Format = ""
	case "images":
		d.Images = ""
	case "labels":
		d.Labels = ""
	case "inputs":
		d.Inputs = ""
	case "file":
		d.File = ""
	case "root":
		d.Root = ""
	case "resize":
		d.Resize = 0
	case "crop":
		d.Crop = 0
	case "channels":
		d.Channels = 0
	case "color_order":
		d.ColorOrder = ""
	case "layout":
		d.Layout = ""
	case "mean":
		d.Mean = nil
	case "std":
		d.Std = nil
	case "scale":
		d.Scale = nil
	case "constants":
		d.Constants = nil
	}
}

// Validate checks that the descriptor names a known format, sets the keys
// that format requires and only keys it uses, and that every value is in
// range.
func (d *Descriptor) Validate() error {
	if d.Format == "" {
		return errorf(ErrDescriptor, `missing key "format" (one of %s)`, strings.Join(Formats, ", "))
	}
	if err := checkFormat(d.Format); err != nil {
		return err
	}
	valid := keysFor(d.Format)
	for _, k := range d.setKeys() {
		if !slices.Contains(valid, k) {
			return errorf(ErrDescriptor, "key %q does not apply to format %q (its keys: %s)", k, d.Format, strings.Join(valid, ", "))
		}
	}
	required := map[string]string{FormatIDX: "images", FormatNPY: "inputs", FormatNPZ: "file", FormatImageFolder: "root"}[d.Format]
	if !slices.Contains(d.setKeys(), required) {
		return errorf(ErrDescriptor, "format %q needs key %q", d.Format, required)
	}
	if err := d.validateNorm(); err != nil {
		return err
	}
	return d.validateImage()
}

// validateNorm checks mean, std and scale.
func (d *Descriptor) validateNorm() error {
	if d.Mean != nil && len(d.Mean) == 0 {
		return errorf(ErrDescriptor, `key "mean" is an empty list`)
	}
	if d.Std != nil && len(d.Std) == 0 {
		return errorf(ErrDescriptor, `key "std" is an empty list`)
	}
	if d.Mean != nil && d.Std != nil && len(d.Mean) != len(d.Std) {
		return errorf(ErrDescriptor, `"mean" has %d values but "std" has %d`, len(d.Mean), len(d.Std))
	}
	for _, m := range d.Mean {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return errorf(ErrDescriptor, `"mean" holds %v`, m)
		}
	}
	for _, s := range d.Std {
		if !(s > 0) || math.IsInf(s, 0) {
			return errorf(ErrDescriptor, `"std" holds %v, want positive numbers`, s)
		}
	}
	if d.Scale != nil {
		if s := *d.Scale; s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return errorf(ErrDescriptor, `"scale" is %v, want a non-zero number`, s)
		}
	}
	return nil
}

// validateImage checks the image and layout options.
func (d *Descriptor) validateImage() error {
	if d.Resize < 0 {
		return errorf(ErrDescriptor, `"resize" is %d, want a positive size`, d.Resize)
	}
	if d.Crop < 0 {
		return errorf(ErrDescriptor, `"crop" is %d, want a positive size`, d.Crop)
	}
	if d.Channels != 0 && d.Channels != 1 && d.Channels != 3 {
		return errorf(ErrDescriptor, `"channels" is %d, want 1 (grayscale) or 3 (color)`, d.Channels)
	}
	if d.ColorOrder != "" {
		if _, err := parseColorOrder(d.ColorOrder); err != nil {
			return err
		}
	}
	if d.Layout != "" {
		if _, err := parseLayout(d.Layout); err != nil {
			return err
		}
	}
	return nil
}

// parseColorOrder reports whether the color order is BGR.
func parseColorOrder(s string) (bgr bool, err error) {
	switch strings.ToUpper(s) {
	case "", "RGB":
		return false, nil
	case "BGR":
		return true, nil
	}
	return false, errorf(ErrDescriptor, `"color_order" is %q, want RGB or BGR`, s)
}

// parseLayout reports whether the layout puts channels last.
func parseLayout(s string) (channelsLast bool, err error) {
	switch strings.ToUpper(s) {
	case "", "NCHW", "CHW":
		return false, nil
	case "NHWC", "HWC":
		return true, nil
	}
	return false, errorf(ErrDescriptor, `"layout" is %q, want NCHW or NHWC`, s)
}
