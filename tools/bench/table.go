package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// row is one figure of the table: what pot measured, its reference, the
// value compared with the goal's target, and whether it meets it.
type row struct {
	Goal, Figure, Pot, Ref, Value, Target, Status string
}

// check is a row's status: "-" without a value, else met / NOT MET.
func check(v float64, ok func(float64) bool) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case ok(v):
		return "met"
	default:
		return "NOT MET"
	}
}

func le(limit float64) func(float64) bool { return func(v float64) bool { return v <= limit } }
func ge(limit float64) func(float64) bool { return func(v float64) bool { return v >= limit } }
func lt(limit float64) func(float64) bool { return func(v float64) bool { return v < limit } }

// f formats v with format, "-" when it is not a number.
func f(format string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// get is a measured figure, NaN when absent.
func (b *bench) get(key string) float64 {
	if v, ok := b.ms[key]; ok {
		return v
	}
	return missing
}

func (b *bench) rows() []row {
	var rows []row
	threads := b.cfg.Threads
	key := func(m, kind string, t int, who string) string { return fmt.Sprintf("%s/%s/%d/%s", m, kind, t, who) }
	// 1. float pot/ORT.
	for _, m := range b.cfg.Models {
		for _, t := range threads {
			p, o := b.get(key(m, "float", t, "pot")), b.get(key(m, "float", t, "ort"))
			rows = append(rows, row{"1", fmt.Sprintf("%s float %dt ms/sample, pot/ort", m, t), f("%.4f", p), f("ort %.4f", o), f("%.2f", p/o), "<= 1.00", check(p/o, le(1))})
		}
	}
	// 2. int8 ORT/pot, then speed-ups.
	for _, m := range b.cfg.Models {
		for _, t := range threads {
			p, o := b.get(key(m, "int8", t, "pot")), b.get(key(m, "int8", t, "ort"))
			rows = append(rows, row{"2", fmt.Sprintf("%s int8 %dt ms/sample, ort/pot", m, t), f("%.4f", p), f("ort %.4f", o), f("%.2f", o/p), ">= 1.50", check(o/p, ge(1.5))})
		}
	}
	if len(threads) >= 2 {
		t1, t2 := threads[0], threads[1]
		for _, m := range b.cfg.Models {
			for _, kind := range []string{"float", "int8"} {
				p1, p2 := b.get(key(m, kind, t1, "pot")), b.get(key(m, kind, t2, "pot"))
				o1, o2 := b.get(key(m, kind, t1, "ort")), b.get(key(m, kind, t2, "ort"))
				rows = append(rows, row{"2", fmt.Sprintf("%s %s speed-up %dt->%dt", m, kind, t1, t2),
					f("%.4f", p1) + "->" + f("%.4f", p2), f("ort %.2fx", o1/o2), f("%.2f", p1/p2), ">= 1.70", check(p1/p2, ge(1.7))})
			}
		}
	}
	// 3. mobilenet int8/float.
	if hasModel(b.cfg.Models, "mobilenet_fmnist") {
		m := "mobilenet_fmnist"
		for _, t := range threads {
			i8, fl := b.get(key(m, "int8", t, "pot")), b.get(key(m, "float", t, "pot"))
			rows = append(rows, row{"3", fmt.Sprintf("%s %dt pot int8/float", m, t), f("%.4f", i8), f("float %.4f", fl), f("%.2f", i8/fl), "<= 0.50", check(i8/fl, le(0.5))})
		}
	}
	// 4. quantization time against PyTorch.
	for _, m := range b.cfg.Models {
		q, ok := b.quant[m]
		if !ok {
			continue
		}
		rows = append(rows, row{"4", fmt.Sprintf("%s quantize s (300 calib), pot/torch", m),
			f("%.2f", q[0]) + " (" + f("%.2f", q[1]) + " own)", f("torch %.2f", q[2]), f("%.2f", q[0]/q[2]), "< 1.00", check(q[0]/q[2], lt(1))})
	}
	// 5. accuracy-aware search.
	if b.cfg.Search {
		s := b.search
		v, pot := missing, "-"
		if s.ok {
			v = s.wall
			pot = fmt.Sprintf("%.1f (%.1f own), %d reverted, %d evals, drop %s", s.wall, s.seconds, s.reverted, s.evals, f("%.4f", s.drop))
		}
		rows = append(rows, row{"5", "mobilenet_fmnist accuracy-aware vpu 4-bit s", pot, "issue 7: 121 s", f("%.1f", v), "<= 60", check(v, le(60))})
	}
	// 6. GNA's convolution and the fraction of peak.
	if b.cfg.GoBench {
		for _, layer := range []string{"resnet_32x32x3x3", "resnet_64x64x3x3"} {
			gna, ok1 := metric(b.goBench, "BenchmarkConvVsCPU/gna/"+layer, "ns/op")
			cpu, ok2 := metric(b.goBench, "BenchmarkConvVsCPU/cpu/"+layer, "ns/op")
			if !ok1 || !ok2 {
				gna, cpu = missing, missing
			}
			rows = append(rows, row{"6", fmt.Sprintf("%s 1t conv ms, gna/cpu float", layer), f("%.3f", gna/1e6), f("cpu %.3f", cpu/1e6), f("%.1f", gna/cpu), "<= 3.00", check(gna/cpu, le(3))})
		}
		if hasModel(b.cfg.Models, "resnet_fmnist") && len(threads) > 0 && threads[0] == 1 {
			for _, k := range []struct{ kind, peak, unit string }{
				{"float", "fma-avx512", "GFLOP/s"}, {"int8", "vpdpbusd-avx512", "GOP/s"},
			} {
				peak, ok := metric(b.goBench, "BenchmarkPeak/"+k.peak, k.unit)
				if !ok { // a CPU without AVX-512: its 256-bit loop
					k.peak = map[string]string{"float": "fma-avx2", "int8": "madd-avx2"}[k.kind]
					peak, ok = metric(b.goBench, "BenchmarkPeak/"+k.peak, k.unit)
				}
				if !ok {
					peak = missing
				}
				rate := b.convOps / (b.get(key("resnet_fmnist", k.kind, 1, "pot")) * 1e-3) / 1e9
				rows = append(rows, row{"peak", fmt.Sprintf("resnet_fmnist %s conv 1t, fraction of peak", k.kind),
					f("%.1f ", rate) + k.unit, f("peak %.0f ", peak) + k.peak, f("%.0f%%", 100*rate/peak), "info", "-"})
			}
		}
	}
	return rows
}

// printTable writes the header lines and the rows in aligned columns.
func printTable(w io.Writer, cpu cpuInfo, cfg config, rows []row) {
	model := cpu.Model
	if model == "" {
		model = "unknown"
	}
	var flags []string
	for _, fl := range []string{"avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"} {
		mark := "-"
		if cpu.Flags[fl] {
			mark = "+"
		}
		flags = append(flags, mark+fl)
	}
	fmt.Fprintf(w, "cpu: %s; flags: %s\n", model, strings.Join(flags, " "))
	fmt.Fprintf(w, "issue 17 goals; batch %d, best of %d, pot and references alternating; t = threads, s = seconds\n\n", cfg.Batch, cfg.Repeat)
	head := row{"goal", "figure", "pot", "reference", "value", "target", "status"}
	all := append([]row{head}, rows...)
	cols := func(r row) []string { return []string{r.Goal, r.Figure, r.Pot, r.Ref, r.Value, r.Target, r.Status} }
	width := make([]int, 7)
	for _, r := range all {
		for i, c := range cols(r) {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		var sb strings.Builder
		for i, c := range cells {
			if i > 0 {
				sb.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == 4 { // numbers right-aligned
				sb.WriteString(pad + c)
			} else {
				sb.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(sb.String(), " "))
	}
	line(cols(head))
	dashes := make([]string, 7)
	for i := range dashes {
		dashes[i] = strings.Repeat("-", width[i])
	}
	line(dashes)
	prev := ""
	for _, r := range rows {
		if prev != "" && r.Goal != prev {
			fmt.Fprintln(w)
		}
		prev = r.Goal
		line(cols(r))
	}
}
