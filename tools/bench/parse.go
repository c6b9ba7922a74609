package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// goBench is one line of `go test -bench` output: the benchmark's name
// without its -GOMAXPROCS suffix and its metrics by unit ("ns/op",
// "GFLOP/s", ...).
type goBench struct {
	Name    string
	Metrics map[string]float64
}

// parseGoBench reads the benchmark lines of `go test -bench` output; other
// lines and malformed metrics are skipped.
func parseGoBench(out []byte) []goBench {
	var res []goBench
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		b := goBench{Name: name, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			b.Metrics[f[i+1]] = v
		}
		res = append(res, b)
	}
	return res
}

// metric is the best of the named benchmark's runs (go test -count) in
// unit: the least time ("ns/op", or any unit per op), the highest rate
// (GFLOP/s, ...) otherwise; false when no run reports it.
func metric(bs []goBench, name, unit string) (float64, bool) {
	lower := strings.HasSuffix(unit, "/op")
	best, found := 0.0, false
	for _, b := range bs {
		v, ok := b.Metrics[unit]
		if b.Name != name || !ok {
			continue
		}
		if !found || lower && v < best || !lower && v > best {
			best, found = v, true
		}
	}
	return best, found
}

// cpuInfo is what the table's header says of the CPU.
type cpuInfo struct {
	Model string
	Flags map[string]bool
}

// parseCPUInfo reads the first processor's model name and flags of
// /proc/cpuinfo.
func parseCPUInfo(data []byte) cpuInfo {
	info := cpuInfo{Flags: map[string]bool{}}
	modelSeen, flagsSeen := false, false
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if !modelSeen {
				info.Model, modelSeen = strings.TrimSpace(v), true
			}
		case "flags":
			if !flagsSeen {
				for _, f := range strings.Fields(v) {
					info.Flags[f] = true
				}
				flagsSeen = true
			}
		}
	}
	return info
}

// lastJSON decodes the last line of out that is a JSON object.
func lastJSON(out []byte) (map[string]any, bool) {
	lines := strings.Split(string(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err == nil {
			return m, true
		}
	}
	return nil, false
}

// find is the first value under key in v, depth first (keys of an object
// in sorted order, so the answer does not depend on map order).
func find(v any, key string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		if x, ok := t[key]; ok {
			return x, true
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if x, ok := find(t[k], key); ok {
				return x, true
			}
		}
	case []any:
		for _, e := range t {
			if x, ok := find(e, key); ok {
				return x, true
			}
		}
	}
	return nil, false
}

// num is the number under key in the last JSON line of out.
func num(out []byte, key string) (float64, bool) {
	m, ok := lastJSON(out)
	if !ok {
		return 0, false
	}
	v, ok := find(m, key)
	if !ok {
		return 0, false
	}
	f, ok := v.(float64)
	return f, ok
}
