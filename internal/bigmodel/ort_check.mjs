// Loads a float model and pot's QDQ output in ONNX Runtime (onnxruntime-node,
// found through NODE_PATH), runs both on the samples of a float32 .npy of
// shape [N, width], and prints one JSON line: load and run seconds, and the
// SQNR (dB) of the QDQ outputs against the float ones.
//
//   NODE_PATH=.../node_modules node internal/bigmodel/ort_check.mjs model.onnx out.onnx calib.npy
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(process.env.NODE_PATH + '/');
const ort = require('onnxruntime-node');

const [floatPath, qdqPath, npyPath] = process.argv.slice(2);
if (!npyPath) { console.error('usage: ort_check.mjs FLOAT.onnx QDQ.onnx SAMPLES.npy'); process.exit(2); }
const b = fs.readFileSync(npyPath);
const hlen = b.readUInt16LE(8), header = b.toString('latin1', 10, 10 + hlen);
const shape = header.match(/\((\d+),\s*(\d+)\)/).slice(1).map(Number);
const x = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));

async function run(path) {
  let t = process.hrtime.bigint();
  const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all' });
  const load = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, shape) });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const y = out[s.outputNames[0]];
  await s.release();
  return { load, secs, y };
}
const f = await run(floatPath);
const q = await run(qdqPath);
let sig = 0, noise = 0;
for (let i = 0; i < f.y.data.length; i++) { sig += f.y.data[i] ** 2; noise += (f.y.data[i] - q.y.data[i]) ** 2; }
console.log(JSON.stringify({
  samples: shape[0], output_dims: q.y.dims,
  float_load_s: +f.load.toFixed(2), float_run_s: +f.secs.toFixed(2),
  qdq_load_s: +q.load.toFixed(2), qdq_run_s: +q.secs.toFixed(2),
  sqnr_db: +(10 * Math.log10(sig / noise)).toFixed(2),
}));
