#!/usr/bin/env bash
# Synthesizes speech clips with espeak-ng and sox (Debian packages) and
# runs openWakeWord's pipeline on them with ONNX Runtime
# (speech_features.mjs): positives say "hey jarvis" in 11 voices, 4
# speeds and 4 pitches; negatives say other phrases; plus silence and
# noise. Every clip is 16 kHz mono float32 with 0.5 s of silence before
# and 1 s after.
# Usage: gen_speech.sh MODELS_DIR WORK_DIR   (features in WORK_DIR/features)
set -euo pipefail
models="$1"; work="$2"; here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work/clips"; cd "$work/clips"
clip() { # name text voice speed pitch
  espeak-ng -v "$3" -s "$4" -p "$5" -w "$1.wav" "$2" && sox "$1.wav" -r 16000 -c 1 -e float -b 32 "$1.f32" pad 0.5 1.0 && rm "$1.wav"
}
for v in f1 f2 f3 f4 f5 m1 m2 m4 m5 m6 m7; do
  for s in 110 130 150 165; do
    for p in 30 45 60 75; do clip "pos_${v}_${s}_$p" "hey jarvis" "en-us+$v" "$s" "$p"; done
  done
done
i=0
for t in "hey marvin" "what time is it" "turn on the lights" "jarvis" "hey travis" "play some music" "good morning everyone"; do
  for v in f2 f5 m3 m6; do i=$((i+1)); clip "neg_${i}_$v" "$t" "en-us+$v" 130 50; done
done
sox -n -r 16000 -c 1 -e float -b 32 silence.f32 trim 0 2
sox -n -r 16000 -c 1 -e float -b 32 noise.f32 synth 2 whitenoise vol 0.05
sox -n -r 16000 -c 1 -e float -b 32 pink.f32 synth 2 pinknoise vol 0.1
/usr/bin/python3 - "$models/hey_jarvis_v0.1.onnx" "$work/jarvis_p1.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
m.graph.output.append(onnx.helper.make_tensor_value_info("p1.1", onnx.TensorProto.FLOAT, [1, 1]))
onnx.save(m, sys.argv[2])
PY
SCALE=32767 JARVIS="$work/jarvis_p1.onnx" NODE_PATH="$(/work/shared/bench/setup.sh)/node_modules" \
  node "$here/speech_features.mjs" "$models" "$work/features" ./*.f32
