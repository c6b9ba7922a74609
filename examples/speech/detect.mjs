// Counts wake-word detections of a head model, run in ONNX Runtime, over
// the stream windows features.mjs writes (OUT/<split>/stream/<head>.npy and
// .json): a clip is detected when any of its windows scores above 0.5
// (for the timer head, whose output is a distribution over "no timer" and
// six durations: when a duration has the highest probability above 0.5).
// Prints one JSON line: positives detected, negatives falsely detected.
// Usage: NODE_PATH=.../node_modules node detect.mjs MODEL.onnx STREAM.npy STREAM.json HEAD
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(process.env.NODE_PATH + '/');
const ort = require('onnxruntime-node');

const [model, npyPath, jsonPath, head] = process.argv.slice(2);
const b = fs.readFileSync(npyPath);
const hl = b.readUInt16LE(8);
const h = b.toString('latin1', 10, 10 + hl);
const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',').filter(s => s.trim()).map(Number);
const raw = b.subarray(10 + hl);
const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const clips = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const per = shape[1] * shape[2];
const score = new Float32Array(shape[0]);
for (let i = 0; i < shape[0]; i++) {
  const out = (await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data.slice(i * per, (i + 1) * per), [1, shape[1], shape[2]]) }))[s.outputNames[0]].data;
  score[i] = out.length === 1 ? out[0] : Math.max(...Array.from(out).slice(1));
}
let pos = 0, npos = 0, fa = 0, nneg = 0;
for (const c of clips) {
  const hit = score.slice(c.first, c.first + c.count).some(v => v > 0.5);
  if (c.label === head) { npos++; if (hit) pos++; } else { nneg++; if (hit) fa++; }
}
console.log(JSON.stringify({ detected: pos, positives: npos, false_alarms: fa, negatives: nneg }));
