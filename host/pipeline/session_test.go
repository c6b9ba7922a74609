package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/potgo/pot/host/dataset"
	"github.com/potgo/pot/host/feed"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/internal/testenv"
	"github.com/potgo/pot/proto/potv1"
)

func TestCheckOutput(t *testing.T) {
	g := lenet(t)
	tests := []struct{ output, want string }{
		{"", ""},
		{"logits", ""},
		{"logit", `metric output "logit" (--metric-output): the model has no output of that name (its outputs: logits) (did you mean "logits"?)`},
	}
	for _, tc := range tests {
		err := checkOutput(g, tc.output)
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.want {
				t.Errorf("checkOutput(%q) = %q, want %q", tc.output, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("checkOutput(%q) = nil, want %q", tc.output, tc.want)
		}
	}
}

// TestBind binds the example MNIST data to LeNet's input, as Open does
// before it starts the target.
func TestBind(t *testing.T) {
	g := lenet(t)
	open := func(name string) dataset.Dataset {
		ds, err := dataset.Open(testenv.Example("data", name), dataset.WithInputNames(feed.Names(feed.Inputs(g))))
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	calib, test := open("mnist-calib.json"), open("mnist-test.json")
	prog := &progressLog{}
	s := &Session{hostService: newHostService("cpu", g, "", prog), log: hclog.NewNullLogger()}
	ctx := context.Background()

	feeds, err := s.bind(ctx, Options{Calibration: calib, Evaluation: test})
	if err != nil {
		t.Fatal(err)
	}
	c, e := feeds["calibration"], feeds["evaluation"]
	if c == nil || e == nil || c == e || c.Samples != calib.Len() || e.Samples != test.Len() || e.Labels == nil {
		t.Fatalf("feeds %+v", feeds)
	}
	for _, want := range []string{fmt.Sprintf("read calibration data %d/%d", c.Samples, c.Samples), fmt.Sprintf("read evaluation data %d/%d", e.Samples, e.Samples)} {
		if !slices.Contains(prog.updates, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	// Evaluation data that is the calibration data is bound once.
	if feeds, err = s.bind(ctx, Options{Calibration: calib, Evaluation: calib}); err != nil || feeds["evaluation"] != feeds["calibration"] {
		t.Errorf("evaluation on the calibration data: %v, %v", feeds, err)
	}
	if feeds, err = s.bind(ctx, Options{Calibration: calib}); err != nil || len(feeds) != 1 {
		t.Errorf("calibration data only: %v, %v", feeds, err)
	}
	// Data that cannot feed the model is refused, named.
	if _, err := s.bind(ctx, Options{Calibration: calib, Evaluation: rgbData{}}); err == nil ||
		!strings.HasPrefix(err.Error(), `evaluation data: data gives samples of shape [3 32 32], the model input "input" wants [N 1 28 28]`) {
		t.Errorf("evaluation data of another shape: %v", err)
	}
}

// rgbData is two 3×32×32 samples: not LeNet's input.
type rgbData struct{}

func (rgbData) Len() int                         { return 2 }
func (rgbData) SampleShape() []int               { return []int{3, 32, 32} }
func (rgbData) Labelled() bool                   { return false }
func (rgbData) Read(int, []float32) (int, error) { return -1, nil }

// describedRemote is a Remote that only describes itself (sameTarget
// reads nothing else).
type describedRemote struct {
	plugins.Target
	d *potv1.TargetDescription
}

func (r describedRemote) Description() *potv1.TargetDescription { return r.d }
func (r describedRemote) String() string                        { return "remote target test:1" }

// TestSameTargetFloatSums checks that a remote target whose float
// convolutions sum another way (its float_sums property: Winograd on one
// machine, direct sums on another) is refused, naming both, and that one
// that sums the same way, or does not say (an older SDK), is taken.
func TestSameTargetFloatSums(t *testing.T) {
	desc := func(sums string) *potv1.TargetDescription {
		d := &potv1.TargetDescription{Name: "cpu", Version: "v1", BatchSize: 64, Properties: map[string]string{}}
		if sums != "" {
			d.Properties["float_sums"] = sums
		}
		return d
	}
	for _, tc := range []struct {
		local, remote string
		refused       bool
	}{
		{"winograd-f4x3", "winograd-f4x3", false},
		{"direct", "direct", false},
		{"winograd-f4x3", "direct", true},
		{"direct", "winograd-f4x3", true},
		{"winograd-f4x3", "", false},
		{"", "direct", false},
	} {
		err := sameTarget(desc(tc.local), describedRemote{d: desc(tc.remote)}, false, hclog.NewNullLogger())
		if refused := err != nil; refused != tc.refused {
			t.Errorf("local %q, remote %q: error %v, want refused %v", tc.local, tc.remote, err, tc.refused)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), tc.local) || !strings.Contains(err.Error(), tc.remote) || !strings.Contains(err.Error(), "float_sums")) {
			t.Errorf("local %q, remote %q: the error does not name both and the property: %v", tc.local, tc.remote, err)
		}
	}
}
