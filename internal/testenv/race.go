//go:build race

package testenv

// Race is true when the tests run under the race detector (go test
// -race), which makes sync.Pool drop items at random: tests that count
// allocations skip themselves then.
const Race = true
