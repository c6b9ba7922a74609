#!/usr/bin/env bash
# Quantizes every model of openWakeWord's pipeline for each target on the
# speech features of features.mjs and measures, for the closing table:
# pot's output SQNR on the evaluation voices, ONNX Runtime's output SQNR of
# pot's QDQ file against the float model, and for the wake-word heads the
# detections of the float and the quantized model on the evaluation clips.
# Usage: [TARGETS="cpu gpu vpu"] accept.sh MODELS DATA OUT [POT QUANTIZE FLAGS...]
# (DATA: features.mjs's OUT; extra flags go to every pot quantize)
set -uo pipefail
models=${1:?}; data=${2:?}; out=${3:?}; shift 3
read -ra targets <<<"${TARGETS:-cpu gpu vpu}"
here="$(cd "$(dirname "$0")" && pwd)"; root="$here/../.."
bench="$root/../shared/bench"; export NODE_PATH="$("$bench/setup.sh")/node_modules"
mkdir -p "$out"
sqnr() { /usr/bin/python3 - "$1" "$2" <<'PY'
import sys, numpy as np
a, b = np.fromfile(sys.argv[1], np.float32).astype(np.float64), np.fromfile(sys.argv[2], np.float32).astype(np.float64)
print("%.2f" % (10 * np.log10(np.sum(a * a) / max(np.sum((a - b) ** 2), 1e-30))))
PY
}
# ORT reads float32 audio: convert the int16 melspectrogram inputs once.
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1]).astype(np.float32))" "$data/eval/melspectrogram.npy" "$out/mel_eval_f32.npy"
declare -A file=([melspectrogram]=melspectrogram [embedding]=embedding_model [silero_vad]=silero_vad [alexa]=alexa_v0.1
  [hey_jarvis]=hey_jarvis_v0.1 [hey_mycroft]=hey_mycroft_v0.1 [hey_rhasspy]=hey_rhasspy_v0.1 [timer]=timer_v0.1 [weather]=weather_v0.1)
for m in melspectrogram embedding silero_vad alexa hey_jarvis hey_mycroft hey_rhasspy timer weather; do
  ext=npy; [ $m = silero_vad ] && ext=npz
  ortdata="$data/eval/$m.$ext"; [ $m = melspectrogram ] && ortdata="$out/mel_eval_f32.npy"
  "$bench/ort_npz.sh" "$models/${file[$m]}.onnx" "$ortdata" --outputs "$out/$m.float.f32" >/dev/null 2>&1
  for t in "${targets[@]}"; do
    q="$out/${m}_$t.onnx"
    run() { "$root/bin/pot" quantize -m "$models/${file[$m]}.onnx" --data "$data/calib/$m.$ext" --eval-data "$data/eval/$m.$ext" \
      --metric sqnr --target "$t" -o "$q" --json "$@" 2>"$out/${m}_$t.err"; }
    res=$(run "$@"); f32=""
    # A model that overflows float16: keep the nodes pot names in float32.
    if [ -z "$res" ] && f32=$(grep -o 'target-opt float32=[^ ;]*' "$out/${m}_$t.err" | head -1 | cut -d' ' -f2) && [ -n "$f32" ]; then
      res=$(run --target-opt "$f32" "$@")
    fi
    if [ -z "$res" ]; then echo "{\"model\":\"$m\",\"target\":\"$t\",\"error\":$(head -c 400 "$out/${m}_$t.err" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')}"; continue; fi
    pot=$(echo "$res" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f %.1f" % (d["metric"]["quantized"], d["seconds"]))')
    "$bench/ort_npz.sh" "$q" "$ortdata" --outputs "$out/${m}_$t.f32" >/dev/null 2>&1
    nf32=0; [ -n "$f32" ] && nf32=$(echo "${f32#float32=}" | tr ',' '\n' | grep -c .)
    line="{\"model\":\"$m\",\"target\":\"$t\",\"float32_nodes\":$nf32,\"pot_sqnr\":${pot% *},\"seconds\":${pot#* },\"ort_sqnr\":$(sqnr "$out/$m.float.f32" "$out/${m}_$t.f32")"
    if [ -f "$data/eval/stream/$m.npy" ]; then
      fl=$(node "$here/detect.mjs" "$models/${file[$m]}.onnx" "$data/eval/stream/$m.npy" "$data/eval/stream/$m.json" $m 2>/dev/null)
      qd=$(node "$here/detect.mjs" "$q" "$data/eval/stream/$m.npy" "$data/eval/stream/$m.json" $m 2>/dev/null)
      line="$line,\"float\":$fl,\"quantized\":$qd"
    fi
    echo "$line}"
  done
done
