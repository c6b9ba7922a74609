"""Picks reference samples from speech_features.mjs's output (see
gen_speech.sh) and stores them, with ONNX Runtime's outputs, as ONNX
TensorProto files for TestRealModels:
  hey_jarvis/x.pb     [8, 1, 16, 96] windows: four whose first stage
                      scores >= 0.5 (the If runs the verifier branch),
                      four below (positives, negatives, silence)
  hey_jarvis/53.pb    [8, 1, 1] the model's output; p1.pb [8] the first
                      stage's score
  silero_vad/{input,h,c}.pb          [8, 1, 512], [8, 2, 1, 64] inputs
  silero_vad/{output,hn,cn}.pb       outputs (sr is 16000)
  hey_jarvis_calib.npy               [200, 16, 96] calibration windows, 40
                                     of which run the verifier branch
Usage: /usr/bin/python3 make_refs.py FEATURES_DIR
"""
import json
import os
import sys

import numpy as np
from onnx import numpy_helper

feat = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
idx = json.load(open(os.path.join(feat, "index.json")))


def load(name, shape):
    return np.fromfile(os.path.join(feat, name + ".f32"), dtype=np.float32).reshape(shape)


def save(folder, name, a):
    os.makedirs(os.path.join(here, folder), exist_ok=True)
    with open(os.path.join(here, folder, name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(a), name).SerializeToString())


x = load("jarvis_x", (-1, 1, 16, 96))
p = load("jarvis_p", (-1, 1, 1))
p1 = load("jarvis_p1", (-1,))
names = idx["jarvis"]
then = np.flatnonzero(p1 >= 0.5)
# Verifier branch: the two highest and two lowest final scores.
order = then[np.argsort(p[then, 0, 0])]
pick = [order[-1], order[-2], order[0], order[1]]
# Else branch: the highest first-stage score below 0.5, a positive clip's
# window, a negative phrase's, and silence.
below = np.flatnonzero(p1 < 0.5)
pick.append(below[np.argmax(p1[below])])
pick.append(next(i for i in below if names[i].startswith("pos_") and p1[i] > 0.01))
pick.append(next(i for i in below if names[i].startswith("neg_") and p1[i] > 0.001))
pick.append(next(i for i in below if names[i] == "silence"))
save("hey_jarvis", "x", x[pick])
save("hey_jarvis", "53", p[pick])
save("hey_jarvis", "p1", p1[pick])
print("hey_jarvis:", [(names[i], float(p1[i]), float(p[i, 0, 0])) for i in pick])

vn = idx["vad"]
inp = load("vad_input", (-1, 1, 512))
out = load("vad_output", (-1, 1, 1))
h, c = load("vad_h", (-1, 2, 1, 64)), load("vad_c", (-1, 2, 1, 64))
hn, cn = load("vad_hn", (-1, 2, 1, 64)), load("vad_cn", (-1, 2, 1, 64))
speech = np.flatnonzero(out[:, 0, 0] > 0.9)
mid = np.flatnonzero((out[:, 0, 0] > 0.2) & (out[:, 0, 0] < 0.8))
quiet = np.flatnonzero(out[:, 0, 0] < 0.05)
first = [i for i, n in enumerate(vn) if i == 0 or vn[i - 1] != n]  # zero state
pick = [speech[0], speech[len(speech) // 2], mid[0], mid[len(mid) // 2], quiet[len(quiet) // 2],
        next(i for i in quiet if vn[i] == "noise" and i not in first), first[0], first[len(first) // 2]]
for name, a in [("input", inp), ("h", h), ("c", c), ("output", out), ("hn", hn), ("cn", cn)]:
    save("silero_vad", name, a[pick])
print("silero_vad:", [(vn[i], float(out[i, 0, 0])) for i in pick])

# Calibration windows for `pot quantize` (hey_jarvis_calib.npy, [200, 16,
# 96]): 40 on which the If runs the verifier branch and 160 on which it
# does not, drawn with a fixed seed, in a shuffled order.
rng = np.random.default_rng(7)
then_i = rng.choice(np.flatnonzero(p1 >= 0.5), 40, replace=False)
else_i = rng.choice(np.flatnonzero(p1 < 0.5), 160, replace=False)
calib = np.concatenate([then_i, else_i])
rng.shuffle(calib)
np.save(os.path.join(here, "hey_jarvis_calib.npy"), np.ascontiguousarray(x[calib, 0]))
print("calibration:", len(calib), "windows,", int((p1[calib] >= 0.5).sum()), "run the verifier branch")
