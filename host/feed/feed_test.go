package feed

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/proto/potv1"
)

func dims(spec ...any) []*potv1.Dim {
	out := make([]*potv1.Dim, len(spec))
	for i, s := range spec {
		switch v := s.(type) {
		case int:
			out[i] = &potv1.Dim{Value: &potv1.Dim_Size{Size: int64(v)}}
		case string:
			out[i] = &potv1.Dim{Value: &potv1.Dim_Param{Param: v}}
		}
	}
	return out
}

// model builds the graph inputs of a model.
func model(ins ...*potv1.ValueInfo) []Input {
	return Inputs(&potv1.Graph{Inputs: ins})
}

func vi(name string, dt potv1.DataType, d ...any) *potv1.ValueInfo {
	return &potv1.ValueInfo{Name: name, Dtype: dt, HasShape: true, Shape: dims(d...)}
}

const (
	f32 = potv1.DataType_DATA_TYPE_FLOAT
	i64 = potv1.DataType_DATA_TYPE_INT64
)

// vad has the inputs of silero_vad: audio, an int64 sample rate scalar and
// two LSTM states whose batch is their second axis.
var vad = model(vi("input", f32, "batch", "sequence"), vi("sr", i64), vi("h", f32, 2, "batch", 64), vi("c", f32, 2, "batch", 64))

// head has the input of an openWakeWord head: a fixed batch of 1.
var head = model(vi("x", f32, 1, 16, 96))

// image is a classifier's input.
var image = model(vi("input", f32, "N", 1, 28, 28))

func arr(name string, shape ...int) dataset.Array {
	v := make([]float32, 1)
	for _, d := range shape {
		v = make([]float32, len(v)*d)
	}
	for i := range v {
		v[i] = float32(i % 7)
	}
	return dataset.Array{Name: name, Shape: shape, Data: v}
}

func named(t *testing.T, arrays ...dataset.Array) dataset.Dataset {
	t.Helper()
	ds, err := dataset.NewNamed("test.npz", arrays, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// plain is a data set of one array of samples (like images or a .npy).
type plain struct{ a dataset.Array }

func (p plain) Len() int           { return p.a.Shape[0] }
func (p plain) SampleShape() []int { return p.a.Sample() }
func (p plain) Labelled() bool     { return false }
func (p plain) Read(i int, dst []float32) (int, error) {
	copy(dst, p.a.Data.([]float32)[i*len(dst):])
	return -1, nil
}

func single(t *testing.T, a dataset.Array) dataset.Dataset { return plain{a} }

func consts(kv ...any) map[string]dataset.Constant {
	out := map[string]dataset.Constant{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = dataset.Constant{Values: []float64{float64(kv[i+1].(int))}}
	}
	return out
}

func TestBind(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inputs []Input
		ds     dataset.Dataset
		consts map[string]dataset.Constant
		dims   []string // per input, the uploaded tensor's dims
		batch  int
		err    string
	}{
		{name: "npz with every input", inputs: vad,
			ds:   named(t, arr("input", 4, 512), dataset.Array{Name: "sr", Shape: []int{4}, Data: []int64{16000, 16000, 8000, 16000}}, arr("h", 4, 2, 1, 64), arr("c", 4, 2, 1, 64)),
			dims: []string{"[4 512]", "[4]", "[4 2 1 64]", "[4 2 1 64]"}, batch: 1},
		{name: "npz audio with constants", inputs: vad, ds: named(t, arr("input", 4, 512)), consts: consts("sr", 16000, "h", 0, "c", 0),
			dims: []string{"[4 512]", "[4]", "[4 2 1 64]", "[4 2 1 64]"}, batch: 1},
		{name: "npz audio as whole samples", inputs: vad, ds: named(t, arr("input", 4, 1, 512)), consts: consts("sr", 16000, "h", 0, "c", 0),
			dims: []string{"[4 1 512]", "[4]", "[4 2 1 64]", "[4 2 1 64]"}, batch: 1},
		{name: "one array and constants", inputs: vad, ds: single(t, arr("", 3, 512)), consts: consts("sr", 16000, "h", 0, "c", 0),
			dims: []string{"[3 512]", "[3]", "[3 2 1 64]", "[3 2 1 64]"}, batch: 1},
		{name: "one array for four inputs", inputs: vad, ds: single(t, arr("", 3, 512)),
			err: `the model has 4 inputs (input [batch sequence], sr [], h [2 batch 64], c [2 batch 64]) and the data`},
		{name: "missing array", inputs: vad, ds: named(t, arr("input", 4, 512), arr("h", 4, 2, 1, 64)), consts: consts("sr", 16000),
			err: `input "c" [2 batch 64]: no array named "c" in the data (it has h, input): add one, or give a constant`},
		{name: "state stacked on the wrong axis", inputs: vad, ds: named(t, arr("input", 4, 512), arr("h", 4, 2, 64), arr("c", 4, 2, 1, 64)), consts: consts("sr", 16000),
			err: `input "h" [2 batch 64] has its batch on axis 1, so its samples cannot be stacked along a new first axis: give whole samples of the input's shape ([2 1 64] each)`},
		{name: "non-integer sample rate", inputs: vad, consts: consts("h", 0, "c", 0),
			ds:  named(t, arr("input", 2, 512), dataset.Array{Name: "sr", Shape: []int{2}, Data: []float32{16000, 0.5}}),
			err: `input "sr" []: array "sr": value 0.5 does not fit the model's int64 input`},
		{name: "constant for no input", inputs: vad, ds: named(t, arr("input", 4, 512)), consts: consts("sr", 16000, "hh", 0, "c", 0),
			err: `constant "hh": the model has no input of that name (its inputs: input, sr, h, c) (did you mean "h"?)`},
		{name: "constant filling an absurd input", inputs: model(vi("x", f32, "N", 512), vi("state", f32, 1<<20, 1<<20)), ds: single(t, arr("", 3, 512)), consts: consts("state", 0),
			err: `constant "state": a sample of shape [1048576 1048576] has 1099511627776 elements, more than the 67108864 pot builds per sample`},
		{name: "fixed batch of 1", inputs: head, ds: single(t, arr("", 5, 16, 96)), dims: []string{"[5 16 96]"}, batch: 1},
		{name: "fixed batch of 1, whole samples", inputs: head, ds: single(t, arr("", 5, 1, 16, 96)), dims: []string{"[5 1 16 96]"}, batch: 1},
		{name: "head with the wrong window", inputs: head, ds: single(t, arr("", 5, 22, 96)),
			err: `data gives samples of shape [22 96], the model input "x" wants [1 16 96]`},
		{name: "images without the channel axis", inputs: image, ds: single(t, arr("", 2, 28, 28)), dims: []string{"[2 1 28 28]"}},
		{name: "images of another size", inputs: image, ds: single(t, arr("", 2, 3, 32, 32)),
			err: `data gives samples of shape [3 32 32], the model input "input" wants [N 1 28 28]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Bind(context.Background(), tc.inputs, tc.ds, Options{Constants: tc.consts})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tt := range f.Tensors {
				got = append(got, fmt.Sprint(tt.GetDims()))
			}
			if !slices.Equal(got, tc.dims) {
				t.Errorf("dims %v, want %v", got, tc.dims)
			}
			if f.Batch != tc.batch {
				t.Errorf("batch %d (%s), want %d", f.Batch, f.BatchReason, tc.batch)
			}
			if f.Samples != tc.ds.Len() || len(f.Dataset("d").Tensors) != len(tc.inputs) {
				t.Errorf("%d samples, %d tensors", f.Samples, len(f.Tensors))
			}
		})
	}
}

// TestBindValues checks the uploaded values: constants repeated per sample
// in the input's type, arrays converted.
func TestBindValues(t *testing.T) {
	ds := named(t, arr("input", 2, 3), dataset.Array{Name: "sr", Shape: []int{2}, Data: []int32{16000, 8000}})
	f, err := Bind(context.Background(), vad, ds, Options{Constants: map[string]dataset.Constant{
		"h": {Values: []float64{0.5}}, "c": {Shape: []int{2, 1, 64}, Values: make([]float64, 128)}}})
	if err != nil {
		t.Fatal(err)
	}
	sr := f.Tensors[1]
	if sr.GetDtype() != i64 || binary.LittleEndian.Uint64(sr.GetData()[8:]) != 8000 {
		t.Errorf("sr %v", sr)
	}
	h := f.Tensors[2]
	if len(h.GetData()) != 4*2*128 || h.GetData()[len(h.GetData())-1] != 0x3f {
		t.Errorf("h: %d bytes, last %x", len(h.GetData()), h.GetData()[len(h.GetData())-1])
	}
	if !strings.Contains(f.Describe(), `sr <- array "sr" []`) || !strings.Contains(f.Describe(), "h <- constant 0.5") {
		t.Errorf("describe: %s", f.Describe())
	}
}
