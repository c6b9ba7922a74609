"""Copies a small, fixed subset of the speech features that features.mjs
writes into a folder of test data (pot's host/cli/testdata/openwakeword).

Usage: /usr/bin/python3 subset.py DATA OUT [N]

For each model, the first N samples of a fixed random permutation of the
evaluation split (calibration and evaluation in the tests are then halves
of it); for hey_jarvis, whose If runs its verifier network only on
windows the first network scores >= 0.5, half of the samples are windows
of positive clips that it scores that high.
"""
import json, os, sys, zipfile, io
import numpy as np

data, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 64
rng = np.random.RandomState(0)
os.makedirs(out, exist_ok=True)

def take(a):
    return a[np.sort(rng.permutation(len(a))[:n])]

ev = os.path.join(data, 'eval')
np.save(os.path.join(out, 'melspectrogram.npy'), take(np.load(os.path.join(ev, 'melspectrogram.npy')))[: n // 2])
np.save(os.path.join(out, 'embedding.npy'), take(np.load(os.path.join(ev, 'embedding.npy'))))
np.save(os.path.join(out, 'alexa.npy'), take(np.load(os.path.join(ev, 'alexa.npy'))))
# hey_jarvis: windows of positive clips that take the If's then-branch,
# and ordinary windows.
stream = np.load(os.path.join(ev, 'stream', 'hey_jarvis.npy'))
clips = json.load(open(os.path.join(ev, 'stream', 'hey_jarvis.json')))
pos = [c for c in clips if c['label'] == 'hey_jarvis' and c['max'] >= 0.5]
# The last windows of a positive clip hold the whole phrase.
hot = np.concatenate([stream[c['first'] + c['count'] - 8: c['first'] + c['count']] for c in pos])
jar = np.concatenate([take(hot)[: n // 2], take(np.load(os.path.join(ev, 'hey_jarvis.npy')))[: n // 2]])
np.save(os.path.join(out, 'hey_jarvis.npy'), jar)
with zipfile.ZipFile(os.path.join(ev, 'silero_vad.npz')) as z:
    arrays = {k[:-4]: np.load(io.BytesIO(z.read(k))) for k in z.namelist()}
idx = np.sort(rng.permutation(len(arrays['input']))[:n])
np.savez(os.path.join(out, 'silero_vad.npz'), **{k: v[idx] for k, v in arrays.items()})
for f in sorted(os.listdir(out)):
    print(f, os.path.getsize(os.path.join(out, f)))
