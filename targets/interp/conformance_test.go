package interp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx/backendtest"
	"github.com/potgo/pot/targets/interp"
	"github.com/potgo/pot/targets/interp/ops"
	"github.com/potgo/pot/targets/interp/tensor"
)

// backend runs the ONNX backend tests on the runtime in-process.
type backend struct{}

func (backend) Prepare(ctx context.Context, g *potv1.Graph) (backendtest.Model, error) {
	p, err := interp.Compile(g, interp.Options{Threads: 1})
	if err != nil {
		var u *ops.UnsupportedError
		if errors.As(err, &u) {
			return nil, &backendtest.UnsupportedError{Reason: err.Error()}
		}
		return nil, err
	}
	return model{p}, nil
}

type model struct{ p *interp.Program }

func (m model) Run(ctx context.Context, inputs []*potv1.Tensor) ([]*potv1.Tensor, error) {
	in := map[string]*tensor.Tensor{}
	for _, t := range inputs {
		v, err := interp.FromProto(t)
		if err != nil {
			return nil, err
		}
		in[t.GetName()] = v
	}
	res, err := m.p.Run(ctx, in)
	if err != nil {
		if ops.IsUnsupported(err) {
			return nil, &backendtest.UnsupportedError{Reason: err.Error()}
		}
		return nil, err
	}
	var out []*potv1.Tensor
	for _, name := range m.p.OutputNames() {
		out = append(out, interp.ToProto(name, res[name]))
	}
	return out, nil
}

func (m model) Close() error { m.p.Close(); return nil }

// dirExists reports whether dir is a directory.
func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// TestConformance runs the ONNX backend node tests, and its PyTorch
// module tests (pytorch-converted) when present, from Debian's
// libonnx-testdata, or the copy of a representative part of them in
// testdata/onnx-node when the package is absent. Set POT_CONFORMANCE_RUN
// to a regular expression to run only matching tests, and
// POT_CONFORMANCE_DIR to run other folders.
func TestConformance(t *testing.T) {
	dirs := []string{filepath.Join(backendtest.DefaultDir, "node")}
	if pt := filepath.Join(backendtest.DefaultDir, "pytorch-converted"); dirExists(pt) {
		// PyTorch's module tests, converted: depthwise, grouped, strided
		// and padded convolutions among them.
		dirs = append(dirs, pt)
	}
	if d := os.Getenv("POT_CONFORMANCE_DIR"); d != "" {
		dirs = strings.Split(d, string(os.PathListSeparator))
	} else if _, err := os.Stat(dirs[0]); err != nil {
		dirs = []string{filepath.Join("testdata", "onnx-node")}
		if _, err := os.Stat(dirs[0]); err != nil {
			t.Skip("ONNX backend tests not found: install Debian package libonnx-testdata")
		}
		t.Logf("libonnx-testdata not installed (Debian package libonnx-testdata): running the bundled part in %s", dirs[0])
	}
	var filter *regexp.Regexp
	if f := os.Getenv("POT_CONFORMANCE_RUN"); f != "" {
		filter = regexp.MustCompile(f)
	}
	cases, err := backendtest.Discover(dirs...)
	if err != nil {
		t.Fatal(err)
	}
	var pass, fail, skip int
	for _, dir := range cases {
		if filter != nil && !filter.MatchString(filepath.Base(dir)) {
			continue
		}
		r := backendtest.Run(context.Background(), backend{}, dir)
		switch r.Status {
		case backendtest.Pass:
			pass++
		case backendtest.Fail:
			fail++
			t.Errorf("FAIL %s: %s", r.Name, r.Reason)
		case backendtest.Skip:
			skip++
			if testing.Verbose() {
				t.Logf("SKIP %s: %s", r.Name, r.Reason)
			}
		}
	}
	t.Log(fmt.Sprintf("%d passed, %d failed, %d skipped", pass, fail, skip))
}
