package plugins

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// heapSlack is the garbage a plugin process holding a large model lets
// accumulate before collecting. Go's default (GOGC=100) lets the heap
// grow by the live heap itself, which for a model of several GiB of
// weights doubles the process's memory; weights are pointer-free, so
// collecting more often costs little.
const heapSlack = 256 << 20

// tuneGC sets the garbage collector's percentage so that the heap grows
// by at most max(heapSlack, 10% of the live heap) between collections,
// and never by more than Go's default. It is called after a plugin
// process received a graph; an explicit GOGC in the environment wins.
func tuneGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := s[0].Value.Uint64()
	pct := 100
	if live > 0 {
		pct = int(min(100, max(10, 100*uint64(heapSlack)/live)))
	}
	debug.SetGCPercent(pct)
}
