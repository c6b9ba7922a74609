package openvino

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
)

// FuzzReadIR feeds model.xml and model.bin pairs to the reader: it fails
// or maps, never panics.
func FuzzReadIR(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, xml, bin []byte) {
		net, err := Decode(xml)
		if err != nil {
			return
		}
		_, _ = toGraph(net, bin)
	})
}

// fuzzSeeds are the IRs of the tests: a small CNN (seedXML, zero weights) and the
// OpenVINO test IRs of testdata/openvino (with their synthetic .bin).
func fuzzSeeds(f *testing.F) [][2][]byte {
	seeds := [][2][]byte{{[]byte(seedXML), seedBin()}}
	xmls, _ := filepath.Glob(filepath.Join("testdata", "openvino", "*.xml"))
	for _, p := range xmls {
		xb, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		bb, _ := os.ReadFile(BinPath(p))
		seeds = append(seeds, [2][]byte{xb, bb})
	}
	return seeds
}

const seedXML = `<?xml version="1.0"?>
<net name="seed" version="11">
	<layers>
		<layer id="0" name="x" type="Parameter" version="opset1">
			<data shape="?,2,4,4" element_type="f32"/>
			<output><port id="0" precision="FP32" names="x"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port></output>
		</layer>
		<layer id="1" name="w" type="Const" version="opset1">
			<data element_type="f16" shape="2,2,1,1" offset="0" size="8"/>
			<output><port id="0" precision="FP16"><dim>2</dim><dim>2</dim><dim>1</dim><dim>1</dim></port></output>
		</layer>
		<layer id="2" name="w32" type="Convert" version="opset1">
			<data destination_type="f32"/>
			<input><port id="0" precision="FP16"><dim>2</dim><dim>2</dim><dim>1</dim><dim>1</dim></port></input>
			<output><port id="1" precision="FP32"><dim>2</dim><dim>2</dim><dim>1</dim><dim>1</dim></port></output>
		</layer>
		<layer id="3" name="conv" type="Convolution" version="opset1">
			<data strides="1,1" dilations="1,1" pads_begin="0,0" pads_end="0,0" auto_pad="explicit"/>
			<input>
				<port id="0" precision="FP32"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port>
				<port id="1" precision="FP32"><dim>2</dim><dim>2</dim><dim>1</dim><dim>1</dim></port>
			</input>
			<output><port id="2" precision="FP32"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port></output>
		</layer>
		<layer id="4" name="b" type="Const" version="opset1">
			<data element_type="f32" shape="1,2,1,1" offset="8" size="8"/>
			<output><port id="0" precision="FP32"><dim>1</dim><dim>2</dim><dim>1</dim><dim>1</dim></port></output>
		</layer>
		<layer id="5" name="add" type="Add" version="opset1">
			<data auto_broadcast="numpy"/>
			<input>
				<port id="0" precision="FP32"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port>
				<port id="1" precision="FP32"><dim>1</dim><dim>2</dim><dim>1</dim><dim>1</dim></port>
			</input>
			<output><port id="2" precision="FP32" names="y"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port></output>
		</layer>
		<layer id="6" name="lo" type="Const" version="opset1">
			<data element_type="f32" shape="" offset="16" size="4"/>
			<output><port id="0" precision="FP32"/></output>
		</layer>
		<layer id="7" name="hi" type="Const" version="opset1">
			<data element_type="f32" shape="" offset="20" size="4"/>
			<output><port id="0" precision="FP32"/></output>
		</layer>
		<layer id="8" name="fq" type="FakeQuantize" version="opset1">
			<data levels="256" auto_broadcast="numpy"/>
			<input>
				<port id="0" precision="FP32"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port>
				<port id="1" precision="FP32"/><port id="2" precision="FP32"/><port id="3" precision="FP32"/><port id="4" precision="FP32"/>
			</input>
			<output><port id="5" precision="FP32"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port></output>
		</layer>
		<layer id="9" name="out" type="Result" version="opset1">
			<input><port id="0" precision="FP32"><dim>-1</dim><dim>2</dim><dim>4</dim><dim>4</dim></port></input>
		</layer>
	</layers>
	<edges>
		<edge from-layer="1" from-port="0" to-layer="2" to-port="0"/>
		<edge from-layer="0" from-port="0" to-layer="3" to-port="0"/>
		<edge from-layer="2" from-port="1" to-layer="3" to-port="1"/>
		<edge from-layer="3" from-port="2" to-layer="5" to-port="0"/>
		<edge from-layer="4" from-port="0" to-layer="5" to-port="1"/>
		<edge from-layer="5" from-port="2" to-layer="8" to-port="0"/>
		<edge from-layer="6" from-port="0" to-layer="8" to-port="1"/>
		<edge from-layer="7" from-port="0" to-layer="8" to-port="2"/>
		<edge from-layer="6" from-port="0" to-layer="8" to-port="3"/>
		<edge from-layer="7" from-port="0" to-layer="8" to-port="4"/>
		<edge from-layer="8" from-port="5" to-layer="9" to-port="0"/>
	</edges>
</net>
`

// TestSeedIR checks the fuzz seed reads: the f16 weights decompress, the
// bias folds into Conv, FakeQuantize decomposes, the batch is dynamic.
func TestSeedIR(t *testing.T) {
	net, err := Decode([]byte(seedXML))
	if err != nil {
		t.Fatal(err)
	}
	g, err := ToGraph(net, seedBin())
	if err != nil {
		t.Fatal(err)
	}
	if n := g.Nodes[0]; n.OpType != "Conv" || len(n.Inputs) != 3 || n.Outputs[0] != "y" {
		t.Fatalf("first node %v, want Conv with the bias writing y", n)
	}
	if g.Inputs[0].Name != "x" || g.Inputs[0].Shape[0].GetParam() != "N" {
		t.Fatalf("input %v", g.Inputs[0])
	}
	for _, in := range g.Initializers {
		if in.Name == "w" && in.Dtype == potv1.DataType_DATA_TYPE_FLOAT16 {
			t.Fatalf("f16 weights not decompressed: %v", in)
		}
	}
}

// seedBin is seedXML's weights: zeros but input_high = output_high = 4.
func seedBin() []byte {
	b := make([]byte, 40)
	binary.LittleEndian.PutUint32(b[20:], math.Float32bits(4))
	return b
}

// TestOpenVINOIRs reads every OpenVINO repository test IR of
// testdata/openvino (see its README): each either reads, with these node
// op types, or is refused with an *UnsupportedLayersError naming each
// refused layer, its type and the reason's key words.
func TestOpenVINOIRs(t *testing.T) {
	type refused struct{ layer, typ, why string }
	u1 := func(layer, typ string) refused { return refused{layer, typ, `element type "u1"`} }
	cases := []struct {
		file  string
		nodes string    // the graph's node op types when it reads
		refs  []refused // the refused layers, in order, when it does not
	}{
		{file: "add_abc.xml", nodes: "Add,Add"},
		{file: "shape_of.xml", nodes: "Relu,Shape,Reshape"},
		{file: "conv_with_rt_info.xml", nodes: "Conv"},
		{file: "add_abc_bin.xml", refs: []refused{u1("A", "Parameter"), u1("B", "Parameter"), u1("C", "Parameter")}},
		{file: "add_abc_initializers_u1_const.xml", refs: []refused{u1("add_node1/Output_0/Data__const", "Const"), u1("C", "Parameter")}},
		{file: "const_string.xml", refs: []refused{{"Constant_1", "Const", `element type "string"`}}},
		{file: "string_parameter.xml", refs: []refused{{"Parameter_1", "Parameter", `element type "string"`}}},
		{file: "dynamic_variable.xml", refs: []refused{{"ReadValue_3", "ReadValue", `state variable "my_var"`}}},
		{file: "experimental_detectron_detection_output_opset6.xml", refs: []refused{{"DO", "ExperimentalDetectronDetectionOutput", "OpenVINO-only"}}},
		{file: "experimental_detectron_roi_feature_extractor.xml", refs: []refused{{"ROIFeatureExtractor_1", "ExperimentalDetectronROIFeatureExtractor", "OpenVINO-only"}}},
		{file: "experimental_detectron_roi_feature_extractor_opset6.xml", refs: []refused{{"ROIFeatureExtractor_1", "ExperimentalDetectronROIFeatureExtractor", "OpenVINO-only"}}},
		{file: "if_body_without_parameters.xml", refs: []refused{{"PartitionedCall/model/if/cond", "If", "control flow"}}},
		{file: "if_diff_case.xml", refs: []refused{
			{"PartitionedCall/model/if/All", "ReduceLogicalAnd", "boolean reduction"},
			{"PartitionedCall/model/if/cond", "If", "control flow"}}},
		{file: "loop_2d_add.xml", refs: []refused{{"a_final5", "Loop", "control flow"}}},
		{file: "nms5.xml", refs: []refused{{"NonMaxSuppression_73", "NonMaxSuppression", "valid_outputs"}}},
		{file: "nms5_dynamism.xml", refs: []refused{{"NonMaxSuppression_73", "NonMaxSuppression", "valid_outputs"}}},
	}
	xmls, err := filepath.Glob(filepath.Join("testdata", "openvino", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(xmls) != len(cases) {
		t.Errorf("%d IRs in testdata/openvino, %d cases: every IR needs a case", len(xmls), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			g, err := ReadGraph(filepath.Join("testdata", "openvino", c.file))
			if c.refs == nil {
				if err != nil {
					t.Fatal(err)
				}
				var ops []string
				for _, n := range g.Nodes {
					ops = append(ops, n.OpType)
				}
				if got := strings.Join(ops, ","); got != c.nodes {
					t.Errorf("nodes %s, want %s", got, c.nodes)
				}
				return
			}
			var ue *UnsupportedLayersError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v, want *UnsupportedLayersError", err)
			}
			if len(ue.Layers) != len(c.refs) {
				t.Fatalf("%d layers refused, want %d: %v", len(ue.Layers), len(c.refs), err)
			}
			for i, w := range c.refs {
				l := ue.Layers[i]
				if l.Name != w.layer || l.Type != w.typ || !strings.Contains(l.Reason, w.why) {
					t.Errorf("refused %+v, want %s (%s): ...%s...", l, w.layer, w.typ, w.why)
				}
			}
		})
	}
}
