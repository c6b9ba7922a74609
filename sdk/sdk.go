package sdk

import (
	"github.com/potgo/pot/internal/plugins"
)

// Target is a device backend. See plugins.Target.
type Target = plugins.Target

// Algorithm is a quantization algorithm. See plugins.Algorithm.
type Algorithm = plugins.Algorithm

// Prefetcher is an Algorithm that tells, before it runs, which
// statistics it will collect, so that the host gathers them in the pass
// of the algorithm before it. See plugins.Prefetcher.
type Prefetcher = plugins.Prefetcher

// Host is what an algorithm can ask of the host. See plugins.Host.
type Host = plugins.Host

// RunRequest is the input of Algorithm.Run.
type RunRequest = plugins.RunRequest

// Dataset is a data set sent to a target.
type Dataset = plugins.Dataset

// ProtocolVersion is the graph protocol major version this SDK speaks.
const ProtocolVersion = plugins.ProtocolVersion

// BuildVersion is the version of pot this SDK was built from; `make
// build` sets it with -ldflags.
var BuildVersion = "dev"
