// Runs a model with ONNX Runtime on the inputs of an .npz (arrays named
// after the model's inputs, fed as they are) and writes every output as
// OUT/NAME.bin (raw little-endian data) plus OUT/outputs.json (names,
// types, dims), for gen_cases.py to turn into backend-test .pb files.
// Usage: NODE_PATH=$(/work/shared/bench/setup.sh)/node_modules node ort_outputs.mjs MODEL.onnx INPUTS.npz OUT
import fs from 'fs';
import zlib from 'zlib';
import { createRequire } from 'module';
const require = createRequire(process.env.NODE_PATH + '/');
const ort = require('onnxruntime-node');
const [modelPath, npzPath, outDir] = process.argv.slice(2);
const TYPES = { '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array], '|u1': ['uint8', Uint8Array], '|b1': ['bool', Uint8Array], '<f8': ['float64', Float64Array] };
function parseNpy(b) {
  const major = b[6], hl = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8), off = major === 1 ? 10 : 12;
  const h = b.toString('latin1', off, off + hl);
  const descr = /'descr':\s*'([^']+)'/.exec(h)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',').filter(s => s.trim()).map(Number);
  const t = TYPES[descr]; if (!t) throw new Error(`dtype ${descr} not supported`);
  const raw = b.subarray(off + hl); const ab = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length);
  return { type: t[0], data: t[0] === 'bool' ? new Uint8Array(ab) : new t[1](ab), shape };
}
function readNpz(p) {
  const b = fs.readFileSync(p); let e = b.length - 22; while (e >= 0 && b.readUInt32LE(e) !== 0x06054b50) e--;
  const n = b.readUInt16LE(e + 10); let c = b.readUInt32LE(e + 16); const out = {};
  for (let i = 0; i < n; i++) {
    const method = b.readUInt16LE(c + 10), csize = b.readUInt32LE(c + 20), nl = b.readUInt16LE(c + 28), xl = b.readUInt16LE(c + 30), cl = b.readUInt16LE(c + 32), lo = b.readUInt32LE(c + 42);
    const name = b.toString('utf8', c + 46, c + 46 + nl).replace(/\.npy$/, '');
    const start = lo + 30 + b.readUInt16LE(lo + 26) + b.readUInt16LE(lo + 28); const body = b.subarray(start, start + csize);
    out[name] = parseNpy(method === 8 ? zlib.inflateRawSync(body) : body); c += 46 + nl + xl + cl;
  }
  return out;
}
const s = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const arrays = readNpz(npzPath);
const feeds = {};
for (const n of s.inputNames) {
  const a = arrays[n];
  if (!a) throw new Error(`no array ${n}`);
  feeds[n] = new ort.Tensor(a.type, a.data, a.shape);
}
const res = await s.run(feeds);
fs.mkdirSync(outDir, { recursive: true });
const meta = [];
for (const n of s.outputNames) {
  const o = res[n];
  const d = o.data;
  fs.writeFileSync(`${outDir}/${n}.bin`, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  meta.push({ name: n, type: o.type, dims: o.dims });
}
fs.writeFileSync(`${outDir}/outputs.json`, JSON.stringify(meta));
