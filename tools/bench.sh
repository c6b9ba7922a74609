#!/bin/sh
# bench.sh prints one table of the cpu target's inference speed against
# ONNX Runtime: each model float and int8 (pot's own QDQ file, quantized
# first), on 1 and 2 threads, batch BENCH_BATCH, milliseconds per sample,
# measured row by row in the same sitting (pot and ONNX Runtime
# alternate, BENCH_REPEAT times each; the fastest counts).
#
#   POT_BENCH_ORT  folder of the ONNX Runtime reference runner (its ort.sh,
#                  which prints {"ms_per_sample_bB": ...}); without it the
#                  ORT columns are left out
#   BENCH_MODELS   models of examples/models (default: resnet_fmnist
#                  mobilenet_fmnist)
#   BENCH_THREADS  thread counts (default: 1 2)
#   BENCH_BATCH    samples per inference (default 64)
#   BENCH_REPEAT   runs per figure (default 3)
#   BENCH_DIR      where the int8 models go (default bin/bench)
#   POT            the pot binary (default bin/pot)
#
# The data are fmnist's (examples/data/fmnist-*.json): calibration for
# quantization (300 samples), test images for ONNX Runtime (2048).
set -u
POT=${POT:-bin/pot}
BENCH_MODELS=${BENCH_MODELS:-resnet_fmnist mobilenet_fmnist}
BENCH_THREADS=${BENCH_THREADS:-1 2}
BENCH_BATCH=${BENCH_BATCH:-64}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_DIR=${BENCH_DIR:-bin/bench}
ORT=""
if [ -n "${POT_BENCH_ORT:-}" ]; then
	if [ -x "$POT_BENCH_ORT/ort.sh" ]; then
		ORT="$POT_BENCH_ORT/ort.sh"
	else
		echo "bench: $POT_BENCH_ORT/ort.sh is missing or not executable: ONNX Runtime columns left out" >&2
	fi
else
	echo "bench: POT_BENCH_ORT is not set: ONNX Runtime columns left out (set it to the folder of ort.sh)" >&2
fi
mkdir -p "$BENCH_DIR" || exit 1

# num KEY: the number after "KEY": in the JSON line on stdin.
num() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p" | head -n 1; }

# best A B: the smaller of two numbers, either may be empty.
best() {
	if [ -z "$1" ]; then echo "$2"; elif [ -z "$2" ]; then echo "$1"; else
		awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'
	fi
}

# fmt4 X: X with four decimals, "-" when empty.
fmt4() {
	if [ -z "$1" ]; then echo -; else awk -v a="$1" 'BEGIN { printf "%.4f", a }'; fi
}

potms() { # model threads
	"$POT" bench --model "$1" --target cpu --batch "$BENCH_BATCH" --threads "$2" --json 2>/dev/null | num ms_per_sample
}

ortms() { # model threads
	"$ORT" "$1" examples/data/fmnist-test.json --threads "$2" --batch "$BENCH_BATCH" --limit 2048 2>/dev/null | num "ms_per_sample_b$BENCH_BATCH"
}

printf '%-18s %-6s %7s %10s %10s %8s\n' model type threads "pot ms" "ort ms" "pot/ort"
for m in $BENCH_MODELS; do
	float="examples/models/$m.onnx"
	int8="$BENCH_DIR/${m}_int8.onnx"
	if ! "$POT" quantize --model "$float" --data examples/data/fmnist-calib.json --target cpu --subset 300 \
		--progress-bar=false -o "$int8" >"$BENCH_DIR/$m.quantize.log" 2>&1; then
		echo "bench: quantizing $m failed (see $BENCH_DIR/$m.quantize.log)" >&2
		exit 1
	fi
	for kind in float int8; do
		model=$float
		[ "$kind" = int8 ] && model=$int8
		for t in $BENCH_THREADS; do
			p="" o=""
			i=0
			while [ $i -lt "$BENCH_REPEAT" ]; do
				p=$(best "$p" "$(potms "$model" "$t")")
				[ -n "$ORT" ] && o=$(best "$o" "$(ortms "$model" "$t")")
				i=$((i + 1))
			done
			ratio="-"
			if [ -n "$p" ] && [ -n "$o" ]; then
				ratio=$(awk -v a="$p" -v b="$o" 'BEGIN { printf "%.2f", a / b }')
			fi
			printf '%-18s %-6s %7s %10s %10s %8s\n' "$m" "$kind" "$t" "$(fmt4 "$p")" "$(fmt4 "$o")" "$ratio"
		done
	done
done
