package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// script writes an executable sh script.
func script(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestRunWithFakes runs the whole table with fake pot, ONNX Runtime,
// PyTorch and go commands that print canned output (pot's and the
// runners' JSON lines, go test -bench lines), on the real resnet_fmnist
// for the convolution count, and checks the figures and verdicts.
func TestRunWithFakes(t *testing.T) {
	dir := t.TempDir()
	pot := filepath.Join(dir, "pot")
	// float 0.40 ms at 1 thread, 0.25 at 2; int8 0.10 and 0.09.
	script(t, pot, `case "$1" in
quantize)
  case "$*" in
  *accuracy_aware*) echo '{"seconds":30.5,"reports":{"final_drop":0.0016,"reverted":["a","b"],"evaluations":48}}' ;;
  *) echo '{"output":"x","seconds":0.5,"reports":{"reports":{"X":{"seconds":9}}}}' ;;
  esac ;;
bench)
  case "$*" in
  *int8*"--threads 1"*) echo '{"ms_per_sample":0.10}' ;;
  *int8*) echo '{"ms_per_sample":0.09}' ;;
  *"--threads 1"*) echo '{"ms_per_sample":0.40}' ;;
  *) echo '{"ms_per_sample":0.25}' ;;
  esac ;;
esac
`)
	ort := filepath.Join(dir, "ort")
	torch := filepath.Join(dir, "torch")
	for _, d := range []string{ort, torch} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script(t, filepath.Join(ort, "ort.sh"), `echo 'noise'
echo '{"top1":0.9,"ms_per_sample_b1":1,"ms_per_sample_b64":0.20}'
`)
	python := filepath.Join(dir, "python")
	script(t, python, `echo '{"model":"m","quantize_seconds":1.25}'`)
	goCmd := filepath.Join(dir, "go")
	// The GNA convolution takes 3.5 ms but in the fourth and last call
	// (two benchmarks, BENCH_REPEAT 2), 2.5: the table reads the best run.
	script(t, goCmd, `n=$(( $(cat "$0.n" 2>/dev/null || echo 0) + 1 )); echo $n > "$0.n"
gna=3500000; [ $n -ge 4 ] && gna=2500000
cat <<EOF
goos: linux
BenchmarkPeak/fma-avx512-2         	    1000	    1000 ns/op	       100.0 GFLOP/s
BenchmarkPeak/vpdpbusd-avx512-2    	    1000	    1000 ns/op	       400.0 GOP/s
BenchmarkConvVsCPU/cpu/resnet_32x32x3x3-2  3  1000000 ns/op  90 GFLOP/s
BenchmarkConvVsCPU/gna/resnet_32x32x3x3-2  3  $gna ns/op  36 GFLOP/s
PASS
EOF
`)
	cpuinfo := filepath.Join(dir, "cpuinfo")
	if err := os.WriteFile(cpuinfo, []byte("processor\t: 0\nmodel name\t: Fake CPU 9000\nflags\t\t: fpu avx2 fma avx512f\n\nprocessor\t: 1\nflags\t\t: avx512_vnni\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"POT": pot, "POT_BENCH_ORT": ort, "POT_BENCH_TORCH": torch, "POT_BENCH_PYTHON": python,
			"GO": goCmd, "BENCH_REPEAT": "2", "BENCH_DIR": filepath.Join(dir, "out")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Root = filepath.Join("..", "..")
	cfg.CPUInfo = cpuinfo
	var out, errb bytes.Buffer
	if err := run(context.Background(), cfg, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	table := out.String()
	t.Log("\n" + table)
	for _, want := range []string{
		"cpu: Fake CPU 9000; flags: +avx2 +fma +avx512f -avx512_vnni -avx_vnni",
		"resnet_fmnist float 1t ms/sample, pot/ort",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	// figure -> value and status.
	for fig, want := range map[string][2]string{
		"resnet_fmnist float 1t ms/sample, pot/ort":          {"2.00", "NOT MET"},
		"mobilenet_fmnist float 2t ms/sample, pot/ort":       {"1.25", "NOT MET"},
		"resnet_fmnist int8 1t ms/sample, ort/pot":           {"2.00", "met"},
		"resnet_fmnist float speed-up 1t->2t":                {"1.60", "NOT MET"},
		"resnet_fmnist int8 speed-up 1t->2t":                 {"1.11", "NOT MET"},
		"mobilenet_fmnist 1t pot int8/float":                 {"0.25", "met"},
		"resnet_fmnist quantize s (300 calib), pot/torch":    {"", "met"},
		"mobilenet_fmnist accuracy-aware vpu 4-bit s":        {"", "met"},
		"resnet_32x32x3x3 1t conv ms, gna/cpu float":         {"2.5", "met"},
		"resnet_64x64x3x3 1t conv ms, gna/cpu float":         {"-", "-"},
		"resnet_fmnist float conv 1t, fraction of peak":      {"", "-"},
		"resnet_fmnist int8 conv 1t, fraction of peak":       {"", "-"},
		"mobilenet_fmnist quantize s (300 calib), pot/torch": {"", "met"},
	} {
		line := ""
		for l := range strings.SplitSeq(table, "\n") {
			if strings.Contains(l, fig) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no row %q", fig)
			continue
		}
		f := strings.Fields(line)
		if got := f[len(f)-1]; got != want[1] && !strings.HasSuffix(line, want[1]) {
			t.Errorf("%s: status %q, want %q", fig, got, want[1])
		}
		if want[0] != "" && !strings.Contains(line, "  "+want[0]+"  ") {
			t.Errorf("%s: row %q lacks value %s", fig, line, want[0])
		}
	}
	// The fraction of peak follows from resnet's real convolution count:
	// ops per sample / 0.40 ms against 100 GFLOP/s.
	ops, err := convOpsPerSample(context.Background(), filepath.Join("..", "..", "examples", "models", "resnet_fmnist.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if ops < 1e6 {
		t.Fatalf("resnet_fmnist: %g convolution operations per sample", ops)
	}
	frac := ops / 0.40e-3 / 1e9 / 100 * 100
	if want := f("%.0f%%", frac); !strings.Contains(table, want+"  info") {
		t.Errorf("float fraction of peak: want %s in\n%s", want, table)
	}
}

// TestRunWithoutReferences leaves the ORT and PyTorch columns empty and
// says why, instead of failing.
func TestRunWithoutReferences(t *testing.T) {
	dir := t.TempDir()
	pot := filepath.Join(dir, "pot")
	script(t, pot, `echo '{"ms_per_sample":0.5,"seconds":1}'`)
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{"POT": pot, "BENCH_REPEAT": "1", "BENCH_SEARCH": "0", "BENCH_GOBENCH": "0",
			"BENCH_MODELS": "mobilenet_fmnist", "POT_BENCH_TORCH": dir, "POT_BENCH_PYTHON": "/bin/false",
			"BENCH_DIR": filepath.Join(dir, "out")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Root = filepath.Join("..", "..")
	var out, errb bytes.Buffer
	if err := run(context.Background(), cfg, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"POT_BENCH_ORT is not set", "PyTorch's PTQ of mobilenet_fmnist failed"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
	if strings.Contains(out.String(), "accuracy-aware") || strings.Contains(out.String(), "gna/cpu") {
		t.Errorf("skipped goals are in the table:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "mobilenet_fmnist 1t pot int8/float") {
		t.Errorf("no int8/float row:\n%s", out.String())
	}
}

func TestConfigRefusesBadNumbers(t *testing.T) {
	for _, env := range []map[string]string{{"BENCH_REPEAT": "0"}, {"BENCH_BATCH": "x"}, {"BENCH_THREADS": "1 two"}} {
		if _, err := configFromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}

func TestParseGoBench(t *testing.T) {
	bs := parseGoBench([]byte("BenchmarkA/b-16 \t 10\t 5.5 ns/op\t 2 GFLOP/s\nBenchmarkBad x 1 ns/op\nok pkg 1s\n"))
	if len(bs) != 1 || bs[0].Name != "BenchmarkA/b" || bs[0].Metrics["ns/op"] != 5.5 || bs[0].Metrics["GFLOP/s"] != 2 {
		t.Errorf("got %+v", bs)
	}
}

// TestMetricBest: of a benchmark's runs, metric reads the least time
// per op and the highest rate, skipping other benchmarks and runs
// without the unit.
func TestMetricBest(t *testing.T) {
	bs := parseGoBench([]byte("BenchmarkA-2 10 7 ns/op 2 GFLOP/s\nBenchmarkB-2 10 1 ns/op 9 GFLOP/s\n" +
		"BenchmarkA-2 10 5 ns/op 3 GFLOP/s\nBenchmarkA-2 10 6 ns/op\nBenchmarkA-2 10 9 ns/op 1 GFLOP/s\n"))
	for _, tc := range []struct {
		name, unit string
		want       float64
		ok         bool
	}{
		{"BenchmarkA", "ns/op", 5, true},
		{"BenchmarkA", "GFLOP/s", 3, true},
		{"BenchmarkB", "ns/op", 1, true},
		{"BenchmarkA", "B/op", 0, false},
		{"BenchmarkC", "ns/op", 0, false},
	} {
		if got, ok := metric(bs, tc.name, tc.unit); got != tc.want || ok != tc.ok {
			t.Errorf("metric(%s, %s) = %g, %v; want %g, %v", tc.name, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseGoBench(f *testing.F) {
	f.Add([]byte("BenchmarkPeak/fma-avx512-2  1000  1000 ns/op  100.0 GFLOP/s\n"))
	f.Add([]byte("Benchmark-x 1 2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range parseGoBench(data) {
			if !strings.HasPrefix(b.Name, "Benchmark") {
				t.Errorf("name %q", b.Name)
			}
		}
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Add([]byte("model name\t: X\nflags\t: avx2 fma\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := parseCPUInfo(data)
		for fl := range info.Flags {
			if strings.ContainsAny(fl, " \t\n") {
				t.Errorf("flag %q", fl)
			}
		}
	})
}

func FuzzNum(f *testing.F) {
	f.Add([]byte(`{"a":{"seconds":1.5}}`), "seconds")
	f.Add([]byte("x\n{\"ms_per_sample\":0.4}\n"), "ms_per_sample")
	f.Fuzz(func(t *testing.T, data []byte, key string) {
		num(data, key)
	})
}
