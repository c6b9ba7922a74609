package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := configFromEnv(os.Getenv)
	if err == nil {
		err = run(ctx, cfg, os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the environment sets (see the package documentation).
type config struct {
	Root     string // the repository; relative paths below are under it
	Pot      string
	ORT      string // folder of ort.sh, "" without
	Torch    string // folder of torch_ptq.py, "" without
	Python   string
	Go       string
	Models   []string
	Threads  []int
	Batch    int
	Repeat   int
	Dir      string
	Search   bool
	GoBench  bool
	CPUInfo  string // /proc/cpuinfo
	Progress io.Writer
}

func configFromEnv(getenv func(string) string) (config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := config{
		Root:    ".",
		Pot:     get("POT", "bin/pot"),
		ORT:     get("POT_BENCH_ORT", ""),
		Torch:   get("POT_BENCH_TORCH", ""),
		Python:  get("POT_BENCH_PYTHON", "/usr/bin/python3"),
		Go:      get("GO", "go"),
		Models:  strings.Fields(get("BENCH_MODELS", "resnet_fmnist mobilenet_fmnist")),
		Dir:     get("BENCH_DIR", "bin/bench"),
		Search:  get("BENCH_SEARCH", "1") != "0",
		GoBench: get("BENCH_GOBENCH", "1") != "0",
		CPUInfo: "/proc/cpuinfo",
	}
	for _, t := range strings.Fields(get("BENCH_THREADS", "1 2")) {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			return c, fmt.Errorf("BENCH_THREADS: %q is not a thread count", t)
		}
		c.Threads = append(c.Threads, n)
	}
	var err error
	if c.Batch, err = positive(get("BENCH_BATCH", "64"), "BENCH_BATCH"); err != nil {
		return c, err
	}
	if c.Repeat, err = positive(get("BENCH_REPEAT", "3"), "BENCH_REPEAT"); err != nil {
		return c, err
	}
	return c, nil
}

func positive(s, name string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%s: %q is not a positive integer", name, s)
	}
	return n, nil
}
