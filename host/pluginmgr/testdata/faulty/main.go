// Command faulty is a deliberately misbehaving plugin for the plugin
// manager's tests. It is built once per test run and copied under several
// names; the name says how it misbehaves:
//
//	pot-algorithm-Panic         Run logs, then panics in a goroutine (the process dies)
//	pot-algorithm-PanicHandler  Run panics in the handler (recovered into an error)
//	pot-algorithm-Exit          Run logs, then calls os.Exit(7)
//	pot-algorithm-Hang          Run logs, then blocks forever, ignoring its context
//	pot-algorithm-Slow          Run blocks until its context ends
//	pot-algorithm-Debug         Run logs a debug line and returns the incoming plan
//	pot-algorithm-NodeError     Run fails with a structured error (sdk.Error)
//	                            about node conv3
//	pot-algorithm-Stdout        Run prints to stdout (which a plugin must not do)
//	pot-algorithm-V2            speaks protocol version 2 only
//	pot-algorithm-Misnamed      Describe gives another name than the file's
//	pot-algorithm-BadProtocol   Describe lists protocol version 2 only, though
//	                            the handshake negotiates version 1
//	pot-target-panic, pot-target-exit, pot-target-hang
//	                            the same faults in the target's Describe
//
// It is never built into bin/.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-plugin"

	"github.com/potgo/pot/internal/plugins"
	"github.com/potgo/pot/proto/potv1"
	"github.com/potgo/pot/sdk"
)

func main() {
	base := filepath.Base(os.Args[0])
	switch {
	case strings.HasPrefix(base, plugins.Prefix(plugins.KindAlgorithm)):
		mode := strings.TrimPrefix(base, plugins.Prefix(plugins.KindAlgorithm))
		if mode == "V2" {
			serveV2(&plugins.AlgorithmPlugin{Impl: algorithm{mode: mode}})
			return
		}
		sdk.ServeAlgorithm(algorithm{mode: mode})
	case strings.HasPrefix(base, plugins.Prefix(plugins.KindTarget)):
		sdk.ServeTarget(target{mode: strings.TrimPrefix(base, plugins.Prefix(plugins.KindTarget))})
	default:
		fmt.Fprintf(os.Stderr, "faulty: unknown name %s\n", base)
		os.Exit(2)
	}
}

// serveV2 serves the plugin under protocol version 2 only, as a plugin
// built for a future pot would.
func serveV2(p plugin.Plugin) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  plugins.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{2: {plugins.KindAlgorithm: p}},
		GRPCServer:       plugins.NewServer,
		Logger:           sdk.Logger(),
	})
}

// misbehave does what mode says, after logging a few lines that the host
// must show in its error message.
func misbehave(ctx context.Context, mode string) {
	log := sdk.Logger()
	log.Info("faulty plugin working", "mode", mode, "step", 1)
	log.Warn("faulty plugin about to misbehave", "mode", mode)
	switch strings.ToLower(mode) {
	case "panic":
		go func() { panic("simulated crash in a goroutine") }()
		select {}
	case "panichandler":
		panic("simulated panic in a handler")
	case "exit":
		os.Exit(7)
	case "hang":
		select {}
	case "slow":
		<-ctx.Done()
	case "stdout":
		fmt.Println("this line must not reach the handshake")
	case "debug":
		log.Debug("faulty plugin debug marker 4242")
	}
}

type algorithm struct{ mode string }

func (a algorithm) Describe(context.Context) (*potv1.AlgorithmDescription, error) {
	name, protocols := a.mode, []int32{plugins.ProtocolVersion}
	switch a.mode {
	case "Misnamed":
		name = "SomeoneElse"
	case "BadProtocol":
		protocols = []int32{2}
	}
	return &potv1.AlgorithmDescription{
		Name: name, Version: "0.0.1-test", ProtocolVersions: protocols,
		ParamsSchema: `{"type": "object"}`, Defaults: `{}`,
	}, nil
}

func (a algorithm) Run(ctx context.Context, h sdk.Host, req *sdk.RunRequest) (*potv1.RunResponse, error) {
	if err := h.Progress(ctx, &potv1.ProgressRequest{Stage: "faulty", Done: 0, Total: 1}); err != nil {
		return nil, err
	}
	if a.mode == "NodeError" {
		return nil, &sdk.Error{Summary: "the layer is too wide", Detail: "split it", Node: "conv3"}
	}
	misbehave(ctx, a.mode)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &potv1.RunResponse{Plan: req.Plan, Report: `{"faulty": "` + a.mode + `"}`}, nil
}

type target struct{ mode string }

func (t target) Describe(ctx context.Context) (*potv1.TargetDescription, error) {
	misbehave(ctx, t.mode)
	return &potv1.TargetDescription{Name: t.mode, Version: "0.0.1-test", Device: "TEST",
		ProtocolVersions: []int32{plugins.ProtocolVersion}}, nil
}

var errNo = fmt.Errorf("the faulty target does nothing")

func (target) LoadModel(context.Context, *potv1.Graph) (*potv1.LoadModelResponse, error) {
	return nil, errNo
}
func (target) Model(context.Context, string) (*potv1.Graph, error) { return nil, errNo }
func (target) UnloadModel(context.Context, string) error           { return errNo }
func (target) UploadData(context.Context, *sdk.Dataset) (string, error) {
	return "", errNo
}
func (target) Infer(context.Context, *potv1.InferRequest) (*potv1.InferResponse, error) {
	return nil, errNo
}
func (target) CollectStatistics(context.Context, *potv1.StatisticsRequest) (*potv1.StatisticsResponse, error) {
	return nil, errNo
}
func (target) Evaluate(context.Context, *potv1.EvaluateRequest, func(*potv1.EvaluateResponse) error) error {
	return errNo
}
