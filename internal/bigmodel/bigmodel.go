// Package bigmodel writes a large float32 MLP in ONNX's external-data form
// without holding its weights in memory, with a few deterministic
// calibration samples, for pot's tests and measurements of models over
// protobuf's 2 GiB limit (issue 16). See gen/ for the command.
package bigmodel

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/potgo/pot/proto/onnxpb"
	"github.com/potgo/pot/sdk/onnx"
)

// Spec describes the model: Layers Gemm layers (transB=1, as PyTorch's
// Linear) whose widths alternate In → Hidden → In → Hidden ..., with Relu
// between them, an input "x" of shape [N, In] and an output "y".
type Spec struct {
	Layers  int
	In      int
	Hidden  int
	Samples int    // calibration samples written to calib.npy
	Seed    uint64 // of the weights and samples
}

// Default is the model of issue 16: 5 × (16384×8192) float32 weights,
// 2.5 GiB.
var Default = Spec{Layers: 5, In: 8192, Hidden: 16384, Samples: 4, Seed: 1}

// Files are what Write wrote.
type Files struct {
	Model, Data, Calib string
	// WeightBytes is the size of the float32 weights and biases.
	WeightBytes int64
}

// widths returns layer i's input and output width.
func (s Spec) widths(i int) (in, out int) {
	if i%2 == 0 {
		return s.In, s.Hidden
	}
	return s.Hidden, s.In
}

// OutWidth is the width of the output y.
func (s Spec) OutWidth() int {
	_, out := s.widths(s.Layers - 1)
	return out
}

// Write writes model.onnx, its external data model.onnx.data and
// calib.npy into dir, streaming the weights through a small buffer.
func Write(dir string, s Spec) (Files, error) {
	if s.Layers < 1 || s.In < 1 || s.Hidden < 1 || s.Samples < 1 {
		return Files{}, fmt.Errorf("bigmodel: bad spec %+v", s)
	}
	f := Files{
		Model: filepath.Join(dir, "model.onnx"),
		Data:  filepath.Join(dir, "model.onnx.data"),
		Calib: filepath.Join(dir, "calib.npy"),
	}
	const location = "model.onnx.data"
	g := &onnxpb.GraphProto{Name: ptr("bigmlp")}
	data, err := os.Create(f.Data)
	if err != nil {
		return Files{}, fmt.Errorf("bigmodel: %w", err)
	}
	defer data.Close()
	w := bufio.NewWriterSize(data, 1<<20)
	rng := splitmix(s.Seed)
	var off int64
	tensor := func(name string, dims []int64, n int64, scale float32) error {
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{
			Name: ptr(name), Dims: dims, DataType: ptr(int32(onnxpb.TensorProto_FLOAT)),
			DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
			ExternalData: []*onnxpb.StringStringEntryProto{
				{Key: ptr("location"), Value: ptr(location)},
				{Key: ptr("offset"), Value: ptr(strconv.FormatInt(off, 10))},
				{Key: ptr("length"), Value: ptr(strconv.FormatInt(4*n, 10))},
			},
		})
		if err := writeUniform(w, &rng, n, scale); err != nil {
			return fmt.Errorf("bigmodel: %s: %w", f.Data, err)
		}
		off += 4 * n
		return nil
	}
	prev := "x"
	for i := range s.Layers {
		in, out := s.widths(i)
		wn, bn := fmt.Sprintf("fc%d.weight", i), fmt.Sprintf("fc%d.bias", i)
		// Uniform in ±sqrt(3/in)·sqrt(2): unit-variance outputs after Relu.
		if err := tensor(wn, []int64{int64(out), int64(in)}, int64(out)*int64(in), float32(math.Sqrt(6/float64(in)))); err != nil {
			return Files{}, err
		}
		if err := tensor(bn, []int64{int64(out)}, int64(out), 0.1); err != nil {
			return Files{}, err
		}
		y := fmt.Sprintf("fc%d", i)
		if i == s.Layers-1 {
			y = "y"
		}
		g.Node = append(g.Node, &onnxpb.NodeProto{Name: ptr(y + "_gemm"), OpType: ptr("Gemm"), Input: []string{prev, wn, bn}, Output: []string{y},
			Attribute: []*onnxpb.AttributeProto{{Name: ptr("transB"), Type: onnxpb.AttributeProto_INT.Enum(), I: ptr(int64(1))}}})
		prev = y
		if i < s.Layers-1 {
			r := fmt.Sprintf("relu%d", i)
			g.Node = append(g.Node, &onnxpb.NodeProto{Name: ptr(r), OpType: ptr("Relu"), Input: []string{y}, Output: []string{r}})
			prev = r
		}
	}
	if err := w.Flush(); err != nil {
		return Files{}, fmt.Errorf("bigmodel: %s: %w", f.Data, err)
	}
	if err := data.Close(); err != nil {
		return Files{}, fmt.Errorf("bigmodel: %s: %w", f.Data, err)
	}
	f.WeightBytes = off
	g.Input = []*onnxpb.ValueInfoProto{valueInfo("x", s.In)}
	g.Output = []*onnxpb.ValueInfoProto{valueInfo("y", s.OutWidth())}
	m := &onnxpb.ModelProto{IrVersion: ptr(int64(8)), ProducerName: ptr("pot bigmodel"), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(13))}}}
	b, err := onnx.Encode(m)
	if err != nil {
		return Files{}, fmt.Errorf("bigmodel: %w", err)
	}
	if err := os.WriteFile(f.Model, b, 0o644); err != nil {
		return Files{}, fmt.Errorf("bigmodel: %w", err)
	}
	if err := writeCalib(f.Calib, s, &rng); err != nil {
		return Files{}, fmt.Errorf("bigmodel: %s: %w", f.Calib, err)
	}
	return f, nil
}

// writeCalib writes Samples × In standard-uniform float32 samples as .npy.
func writeCalib(path string, s Spec, rng *splitmix) error {
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", s.Samples, s.In)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(hdr)))
	w.WriteString(hdr)
	if err := writeUniform(w, rng, int64(s.Samples)*int64(s.In), 1); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}

// writeUniform writes n float32 values uniform in [-scale, scale).
func writeUniform(w io.Writer, rng *splitmix, n int64, scale float32) error {
	var buf [4096]byte
	for n > 0 {
		k := min(n, int64(len(buf)/4))
		for i := range k {
			v := (float32(rng.next()>>40)/(1<<24)*2 - 1) * scale
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// splitmix is SplitMix64: fast, deterministic and good enough for weights.
type splitmix uint64

func (s *splitmix) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func valueInfo(name string, width int) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: ptr(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: ptr(int32(onnxpb.TensorProto_FLOAT)),
		Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
			{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
			{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(width)}},
		}},
	}}}}
}

func ptr[T any](v T) *T { return &v }
