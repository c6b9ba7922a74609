#!/usr/bin/env bash
# Speaks wake-word phrases and ordinary sentences with espeak-ng (Debian's
# espeak-ng and sox) into 16 kHz mono 16-bit WAV clips:
#   OUT/<split>/<label>__<voice>__<speed>__<n>.wav
# label is the wake word a clip holds (alexa, hey_jarvis, hey_mycroft,
# hey_rhasspy, timer, weather) or "negative". Voices are split into a
# calibration set and an evaluation set, so that the two never share a
# speaker.
# Usage: examples/speech/synth.sh OUT
set -euo pipefail
out=${1:?usage: synth.sh OUT}
command -v espeak-ng >/dev/null || { echo "needs espeak-ng (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "needs sox (apt-get install sox)" >&2; exit 1; }

declare -A phrases=(
  [alexa]="alexa|alexa, what time is it|alexa, play some music"
  [hey_jarvis]="hey jarvis|hey jarvis, turn on the lights|hey jarvis, what is on my calendar"
  [hey_mycroft]="hey mycroft|hey mycroft, tell me a joke|hey mycroft, how are you"
  [hey_rhasspy]="hey rhasspy|hey rhasspy, open the door|hey rhasspy, stop the music"
  [timer]="set a timer for five minutes|set a ten minute timer|start a one hour timer"
  [weather]="what is the weather today|what's the weather like|how is the weather outside"
  [negative]="good morning everyone|please pass me the salt|the quick brown fox jumps over the lazy dog|i would like a cup of coffee|turn left at the next street|my sister lives in the city|we went hiking last weekend|can you hear the birds singing|the meeting starts at nine|dinner is ready in the kitchen|he reads a book every night|the train was late again"
)
calib_voices=(en-us en-gb-x-rp en-029 en-us+f2 en-gb+m3)
eval_voices=(en-gb en-gb-scotland en-us+f4 en-gb-x-gbclan en-us+m7)
speeds=(140 175)

synth() { # split voice speed label n text
  local dir="$out/$1" raw
  mkdir -p "$dir"
  raw=$(mktemp --suffix=.wav)
  espeak-ng -v "$2" -s "$3" -w "$raw" "$6"
  # 0.5 s of silence before, 0.7 s after, 16 kHz mono 16-bit.
  sox -R "$raw" -r 16000 -c 1 -b 16 "$dir/$4__${2/+/-}__$3__$5.wav" pad 0.5 0.7
  rm -f "$raw"
}

for label in "${!phrases[@]}"; do
  IFS='|' read -ra texts <<<"${phrases[$label]}"
  for n in "${!texts[@]}"; do
    for s in "${speeds[@]}"; do
      for v in "${calib_voices[@]}"; do synth calib "$v" "$s" "$label" "$n" "${texts[$n]}"; done
      for v in "${eval_voices[@]}"; do synth eval "$v" "$s" "$label" "$n" "${texts[$n]}"; done
    done
  done
done
# Non-speech for the voice activity detector: noise and silence.
mkdir -p "$out/calib" "$out/eval"
# sox -R makes the noise the same on every run; the two splits get
# different lengths, so different noise.
for split in calib eval; do
  len=2; [ "$split" = eval ] && len=3
  for k in 1 2; do
    sox -R -n -r 16000 -c 1 -b 16 "$out/$split/noise__white__0__$k.wav" synth $len whitenoise vol 0.0$k
    sox -R -n -r 16000 -c 1 -b 16 "$out/$split/noise__pink__0__$k.wav" synth $len pinknoise vol 0.0$((k+2))
  done
  sox -n -r 16000 -c 1 -b 16 "$out/$split/noise__silence__0__0.wav" trim 0 $len
done
echo "$(find "$out" -name '*.wav' | wc -l) clips in $out"
