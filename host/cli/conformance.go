package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/potgo/pot/host/pluginmgr"
	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk/onnx/backendtest"
)

func newConformance(g *globals) *cobra.Command {
	var target string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "conformance [--target NAME] DIR...",
		Short: "Run ONNX backend tests (model.onnx + test_data_set_N) through a target",
		Long: `conformance runs every ONNX backend test folder found under the given folders
(Debian's libonnx-testdata installs them in ` + backendtest.DefaultDir + `) through a
target plugin and compares its outputs with the references (rtol 1e-3, atol 1e-7).
It prints a line per failing or skipped test and ends with "N passed, N failed, N
skipped". A test is skipped only when the target reports an operator, attribute or
type it does not support; a wrong number is a failure.`,
		Example: "  pot conformance --target cpu /usr/share/libonnx-testdata/data/node",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			return runConformance(cmd.Context(), g, target, dirs, verbose)
		},
	}
	cmd.Flags().StringVar(&target, "target", "cpu", "target plugin")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print passing tests")
	return cmd
}

// errFailures makes the exit status non-zero when tests fail.
var errFailures = errors.New("conformance tests failed")

func runConformance(ctx context.Context, g *globals, target string, dirs []string, verbose bool) error {
	cases, err := backendtest.Discover(dirs...)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return fmt.Errorf("no test folders (with model.onnx) under %s", strings.Join(dirs, ", "))
	}
	mgr, err := g.manager()
	if err != nil {
		return err
	}
	defer mgr.Close()
	t, err := mgr.Target(ctx, target)
	if err != nil {
		return err
	}
	b := &pluginBackend{t: t}
	start := time.Now()
	var pass, fail, skip int
	for _, dir := range cases {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := backendtest.Run(ctx, b, dir)
		switch r.Status {
		case backendtest.Pass:
			pass++
			if verbose {
				fmt.Fprintf(g.stdout, "PASS %s\n", r.Name)
			}
		case backendtest.Fail:
			fail++
			fmt.Fprintf(g.stdout, "FAIL %s: %s\n", r.Name, short(r.Reason))
		case backendtest.Skip:
			skip++
			fmt.Fprintf(g.stdout, "SKIP %s: %s\n", r.Name, short(r.Reason))
		}
		if t.Exited() {
			return fmt.Errorf("target %q died during %s", target, r.Name)
		}
	}
	fmt.Fprintf(g.stdout, "%d passed, %d failed, %d skipped (%s, target %s)\n", pass, fail, skip, time.Since(start).Round(time.Millisecond), target)
	if fail > 0 {
		return errFailures
	}
	return nil
}

// short keeps a test's reason on one line of at most 300 bytes.
func short(s string) string {
	s = oneLine(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// pluginBackend runs backend tests on a target plugin.
type pluginBackend struct{ t *pluginmgr.Target }

func (b *pluginBackend) Prepare(ctx context.Context, g *potv1.Graph) (backendtest.Model, error) {
	resp, err := b.t.LoadModel(ctx, g)
	if err != nil {
		return nil, err
	}
	if len(resp.GetUnsupported()) > 0 {
		return nil, &backendtest.UnsupportedError{Reason: strings.Join(resp.GetUnsupported(), "; ")}
	}
	return &pluginModel{t: b.t, id: resp.GetModelId(), g: g}, nil
}

type pluginModel struct {
	t  plugins.Target
	id string
	g  *potv1.Graph
}

func (m *pluginModel) Run(ctx context.Context, inputs []*potv1.Tensor) ([]*potv1.Tensor, error) {
	resp, err := m.t.Infer(ctx, &potv1.InferRequest{ModelId: m.id, Inputs: inputs})
	if status.Code(err) == codes.Unimplemented {
		return nil, &backendtest.UnsupportedError{Reason: err.Error()}
	}
	if err != nil {
		return nil, err
	}
	return resp.GetOutputs(), nil
}

func (m *pluginModel) Close() error { return m.t.UnloadModel(context.Background(), m.id) }
