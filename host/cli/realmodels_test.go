package cli

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/proto/potv1"
)

// The pretrained models of testdata/openwakeword are openWakeWord's speech
// pipeline (see testdata/openwakeword/README.md), fed features of speech
// that espeak-ng spoke, computed in ONNX Runtime by examples/speech.

// oww is the absolute path of a file of testdata/openwakeword.
func oww(name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", "openwakeword", name))
	if err != nil {
		panic(err)
	}
	return p
}

func mustGraph(t *testing.T, path string) *potv1.Graph {
	t.Helper()
	_, g, err := loadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// quantizeJSON runs pot quantize with --json and decodes the result.
func quantizeJSON(t *testing.T, args ...string) quantizeResult {
	t.Helper()
	stdout, stderr, code := pot(t, append([]string{"quantize", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("pot quantize %s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	var res quantizeResult
	mustJSON(t, stdout, &res)
	return res
}

// TestFixedBatchHead quantizes a wake-word head whose input has a fixed
// batch of 1 ([1 16 96]): statistics, bias correction and evaluation run
// one sample at a time. Samples with and without their batch dimension
// ([16 96] or [1 16 96]) give the same model, byte for byte, and bench
// runs the batch the model allows.
func TestFixedBatchHead(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "alexa_int8.onnx")
	res := quantizeJSON(t, "-m", oww("alexa_v0.1.onnx"), "--data", oww("alexa.npy"), "--metric", "sqnr", "-e", "-o", out)
	if m := res.Metric; m == nil || m.Samples != 64 || m.Quantized < 25 {
		t.Fatalf("metric %+v: want the output SQNR over 64 samples above 25 dB", m)
	}
	// The same windows as whole samples, batch dimension included.
	whole := filepath.Join(dir, "alexa_whole.npy")
	writeWithBatchAxis(t, oww("alexa.npy"), whole)
	out2 := filepath.Join(dir, "alexa_int8_whole.onnx")
	quantizeJSON(t, "-m", oww("alexa_v0.1.onnx"), "--data", whole, "-o", out2)
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if len(a) == 0 || string(a) != string(b) {
		t.Errorf("whole samples give another model (%d and %d bytes)", len(a), len(b))
	}
	stdout, stderr, code := pot(t, "bench", "-m", out, "--batch", "64", "--samples", "64", "--rounds", "1", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, stderr)
	}
	var br benchResult
	mustJSON(t, stdout, &br)
	if br.Batch != 1 || !strings.Contains(br.BatchNote, "fixed batch of 1") {
		t.Errorf("bench ran batch %d (%q), want 1 with the reason", br.Batch, br.BatchNote)
	}
	// Windows of another length are refused before any work, naming both
	// shapes.
	short := filepath.Join(dir, "short.npy")
	writeNPY(t, short, []int{4, 22, 96})
	_, stderr, code = pot(t, "quantize", "-m", oww("alexa_v0.1.onnx"), "--data", short, "-o", filepath.Join(dir, "x.onnx"))
	if code == 0 || !strings.Contains(stderr, `data gives samples of shape [22 96], the model input "onnx::Flatten_0" wants [1 16 96]`) {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

// writeWithBatchAxis copies a float32 .npy of shape [N ...] as [N 1 ...].
func writeWithBatchAxis(t *testing.T, src, dst string) {
	t.Helper()
	ds, err := dataset.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	shape := append([]int{ds.Len(), 1}, ds.SampleShape()...)
	per := 1
	for _, d := range ds.SampleShape() {
		per *= d
	}
	data := make([]float32, ds.Len()*per)
	for i := 0; i < ds.Len(); i++ {
		if _, err := ds.Read(i, data[i*per:(i+1)*per]); err != nil {
			t.Fatal(err)
		}
	}
	writeNPYData(t, dst, shape, data)
}

// writeNPYData writes float32 values as an .npy file of the given shape.
func writeNPYData(t *testing.T, path string, shape []int, data []float32) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	header := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Join(dims, ", ") + "), }"
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	b = append(b, header...)
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestChannelsLastImages feeds the speech embedding model, whose input is
// channels-last ([N 76 32 1]), from a folder of grayscale images of its
// log-mel windows (76 rows of 32 mel bins): pot reads them in the input's
// layout. The images hold the windows to 8 bits, so the model's outputs
// on them stay close to its outputs on the windows themselves.
func TestChannelsLastImages(t *testing.T) {
	dir := t.TempDir()
	ds, err := dataset.Open(oww("embedding.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// Log-mel values lie in [2, 14]: byte = (v - 2) / 12 * 255.
	win := make([]float32, 76*32)
	folder := filepath.Join(dir, "windows")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 32; i++ {
		if _, err := ds.Read(i, win); err != nil {
			t.Fatal(err)
		}
		img := image.NewGray(image.Rect(0, 0, 32, 76))
		for j, v := range win {
			img.Pix[j] = uint8(math.Round(math.Min(255, math.Max(0, float64(v-2)/12*255))))
		}
		f, err := os.Create(filepath.Join(folder, fmt.Sprintf("w%03d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	desc := filepath.Join(dir, "windows.json")
	// x = byte · 12/255 + 2: scale 12/255, mean −2, std 1.
	if err := os.WriteFile(desc, []byte(`{"format": "imagefolder", "root": "windows", "scale": 0.047058823529411764, "mean": [-2], "std": [1]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// pot reads each image as the window it came from, in the input's
	// layout: 76 rows of 32 bins, to the images' 8-bit rounding.
	imgs, err := openData(desc, feed.Inputs(mustGraph(t, oww("embedding_model.onnx"))), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(imgs.SampleShape()); got != "[76 32 1]" {
		t.Fatalf("image samples of shape %s, want [76 32 1]", got)
	}
	got := make([]float32, 76*32)
	for i := 0; i < 32; i++ {
		if _, err := ds.Read(i, win); err != nil {
			t.Fatal(err)
		}
		if _, err := imgs.Read(i, got); err != nil {
			t.Fatal(err)
		}
		for j := range win {
			if d := math.Abs(float64(got[j] - win[j])); d > 12.0/255/2+1e-5 && win[j] >= 2 && win[j] <= 14 {
				t.Fatalf("image %d value %d (row %d, bin %d) = %g, window %g", i, j, j/32, j%32, got[j], win[j])
			}
		}
	}
	res := quantizeJSON(t, "-m", oww("embedding_model.onnx"), "--data", desc, "--metric", "sqnr", "-e", "-o", filepath.Join(dir, "emb.onnx"))
	if m := res.Metric; m == nil || m.Samples != 32 || m.Quantized < 8 {
		t.Errorf("metric %+v", m)
	}
	// The float model on the images against the float model on the
	// windows: only the 8-bit rounding of the images differs.
	stdout, stderr, code := pot(t, "eval", "-m", oww("embedding_model.onnx"), "--data", desc, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	var ev evalResult
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil || ev.Samples != 32 {
		t.Fatalf("eval %s: %v", stdout, err)
	}
	// Transposed windows (32 rows of 76) cannot feed the input: refused
	// naming both shapes. ([1 76 32] would do: unit dimensions do not
	// change the order of the values.)
	wrong := filepath.Join(dir, "transposed.npy")
	writeNPY(t, wrong, []int{4, 32, 76, 1})
	_, stderr, code = pot(t, "quantize", "-m", oww("embedding_model.onnx"), "--data", wrong, "-o", filepath.Join(dir, "x.onnx"))
	if code == 0 || !strings.Contains(stderr, `data gives samples of shape [32 76 1], the model input "input_1" wants [N 76 32 1]`) {
		t.Errorf("transposed windows: exit %d, stderr %s", code, stderr)
	}
}

// TestAudioFrontEnd quantizes the melspectrogram model, whose input is
// [batch samples], from 16-bit audio stored as int16: one second of audio
// per sample, batched.
func TestAudioFrontEnd(t *testing.T) {
	res := quantizeJSON(t, "-m", oww("melspectrogram.onnx"), "--data", oww("melspectrogram.npy"), "--metric", "sqnr", "-e",
		"-o", filepath.Join(t.TempDir(), "mel.onnx"))
	if m := res.Metric; m == nil || m.Samples != 32 || math.IsNaN(m.Quantized) {
		t.Errorf("metric %+v", m)
	}
}

// TestAccuracyAwareOwnMetric runs the accuracy-aware search on unlabelled
// data with --metric sqnr: the search measures the output SQNR (not the
// top-1 agreement it falls back to when no metric is chosen) and reverts
// layers until the SQNR meets the budget (200 dB is the float model
// against itself, so a drop of 168 asks for 32 dB).
func TestAccuracyAwareOwnMetric(t *testing.T) {
	res := quantizeJSON(t, "-q", "accuracy_aware", "-m", oww("alexa_v0.1.onnx"), "--data", oww("alexa.npy"), "--metric", "sqnr",
		"--max-drop", "168", "-o", filepath.Join(t.TempDir(), "alexa.onnx"))
	var rep struct {
		Metric string  `json:"metric"`
		Met    bool    `json:"met"`
		Final  float64 `json:"final_metric"`
	}
	if err := json.Unmarshal(res.Reports, &rep); err != nil {
		t.Fatal(err)
	}
	// The result's metric is rounded to six significant digits.
	if rep.Metric != "sqnr" || !rep.Met || rep.Final < 32 || len(res.Reverted) == 0 || math.Abs(res.Metric.Quantized-rep.Final) > 1e-5*rep.Final {
		t.Errorf("search %+v, reverted %v, metric %+v", rep, res.Reverted, res.Metric)
	}
}

// TestFloat16Overflow: the audio front end squares int16-scale audio, far
// past float16's range, so on the gpu target its float model overflows.
// pot refuses before any work, naming the nodes that overflow; keeping
// them in float32 with the option it suggests (OpenVINO's
// disable_fp16_compression) makes the model quantize and run.
func TestFloat16Overflow(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mel.onnx")
	args := []string{"quantize", "-m", oww("melspectrogram.onnx"), "--data", oww("melspectrogram.npy"), "--target", "gpu", "-o", out}
	_, stderr, code := pot(t, args...)
	m := regexp.MustCompile(`--target-opt (float32=[^ ;]+); OpenVINO`).FindStringSubmatch(stderr)
	if code == 0 || m == nil || !strings.Contains(stderr, `node "Conv_2" (Conv) is the first`) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res := quantizeJSON(t, append(args[1:], "--target-opt", m[1], "--metric", "sqnr", "-e")...)
	if res.Metric == nil || math.IsNaN(res.Metric.Quantized) || math.IsInf(res.Metric.Quantized, 0) {
		t.Errorf("with %s: %+v", m[1], res.Metric)
	}
	_, stderr, code = pot(t, append(args, "--target-opt", "float32=Conv_2,NoSuchNode")...)
	if code == 0 || !strings.Contains(stderr, "target option float32: the model has no node NoSuchNode") {
		t.Errorf("unknown node: exit %d: %s", code, stderr)
	}
}

// TestAudioFrontEndIR converts the melspectrogram model, a model pot did
// not make, to OpenVINO IR and quantizes it from the IR: its Clip has a
// computed lower bound (a decibel floor below the maximum), written as
// Maximum, and an infinite upper bound, left out. The quantized model
// measures within 0.05 dB of the one quantized from the ONNX model (the
// IR path quantizes the Maximum's inputs too).
func TestAudioFrontEndIR(t *testing.T) {
	dir := t.TempDir()
	xml := filepath.Join(dir, "mel.xml")
	if _, stderr, code := pot(t, "convert", "-m", oww("melspectrogram.onnx"), "-o", xml); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	net, _ := readIR(t, xml)
	var types []string
	for _, l := range net.Layers {
		if strings.HasPrefix(l.Name, "Clip_28") {
			types = append(types, l.Type)
		}
	}
	if !slices.Equal(types, []string{"Maximum"}) {
		t.Errorf("Clip_28 written as %v, want [Maximum]", types)
	}
	run := func(model string) float64 {
		res := quantizeJSON(t, "-m", model, "--data", oww("melspectrogram.npy"), "--metric", "sqnr", "-e",
			"-o", filepath.Join(dir, filepath.Base(model)+".q.onnx"))
		if res.Metric == nil || res.Metric.Samples != 32 {
			t.Fatalf("%s: metric %+v", model, res.Metric)
		}
		return res.Metric.Quantized
	}
	fromONNX, fromIR := run(oww("melspectrogram.onnx")), run(xml)
	if math.Abs(fromONNX-fromIR) > 0.05 {
		t.Errorf("SQNR from ONNX %.4f dB, from IR %.4f dB", fromONNX, fromIR)
	}
}

// TestLowBitWeightsOfOtherOperations quantizes openWakeWord's embedding
// model with 4-bit weights on vpu: its convolutions get 4-bit weights,
// while the constant bounds of its Maximums, which vpu quantizes in 8
// bits only, keep the target's configuration and are listed in
// MinMaxQuantization's report (a Conv would be refused).
func TestLowBitWeightsOfOtherOperations(t *testing.T) {
	res := quantizeJSON(t, "-m", oww("embedding_model.onnx"), "--data", oww("embedding.npy"), "--target", "vpu", "--weight-bits", "4",
		"-o", filepath.Join(t.TempDir(), "e4.onnx"))
	var rep struct {
		Reports struct {
			MinMax struct {
				TargetDefault map[string]string `json:"target_default_weights"`
			} `json:"MinMaxQuantization"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(res.Reports, &rep); err != nil {
		t.Fatal(err)
	}
	kept := rep.Reports.MinMax.TargetDefault
	if len(kept) == 0 {
		t.Fatalf("no operation kept the target's configuration: %s", res.Reports)
	}
	for node, why := range kept {
		if !strings.HasSuffix(node, "/Maximum") || !strings.Contains(why, "not 4-bit") {
			t.Errorf("%s kept the target's configuration: %s", node, why)
		}
	}
}
