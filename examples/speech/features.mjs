// Runs openWakeWord's float speech pipeline in ONNX Runtime over the clips
// that synth.sh speaks, and writes the inputs of every model of the
// pipeline as NumPy files that pot reads (see README.md):
//
//   OUT/<split>/melspectrogram.npy   int16-valued audio, [N 16000] (1 s each)
//   OUT/<split>/embedding.npy        log-mel windows, [N 76 32 1]
//   OUT/<split>/<head>.npy           embedding windows, [N T 96] (T = the head's)
//   OUT/<split>/silero_vad.npz       input [N 640], sr [N] int64, h and c [N 2 1 64]:
//                                    each chunk with the recurrent state it met
//   OUT/<split>/stream/<head>.npy    every window of the head's positive and
//                                    negative clips, in order, and
//   OUT/<split>/stream/<head>.json   which clip each window belongs to and the
//                                    float model's score (for detection counts)
//
// As openWakeWord does (openwakeword/utils.py, vad.py): audio is 16-bit
// PCM fed as float values (not scaled) to the melspectrogram, whose output
// is scaled x/10 + 2; embeddings are computed on windows of 76 frames every
// 8 frames; each clip is preceded by 4 s of low noise (uniform integers in
// [-1000, 1000), as openWakeWord fills its feature buffer at start); the
// VAD gets 640-sample chunks scaled by 1/32767 with sr = 16000 and its h
// and c carried from chunk to chunk.
//
// Usage: NODE_PATH=$(../../../shared/bench/setup.sh)/node_modules \
//          [MEL_MODEL=m.onnx] [EMB_MODEL=e.onnx] node features.mjs CLIPS MODELS OUT [--max N]
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(process.env.NODE_PATH + '/');
const ort = require('onnxruntime-node');
const AdmZip = require('adm-zip');

const args = process.argv.slice(2);
const [clipsDir, modelsDir, outDir] = args;
if (!clipsDir || !modelsDir || !outDir) {
  console.error('usage: features.mjs CLIPS MODELS OUT [--max N]');
  process.exit(2);
}
const maxIdx = args.indexOf('--max');
const MAX = maxIdx >= 0 ? Number(args[maxIdx + 1]) : 400;
const HEADS = { alexa: 'alexa_v0.1', hey_jarvis: 'hey_jarvis_v0.1', hey_mycroft: 'hey_mycroft_v0.1', hey_rhasspy: 'hey_rhasspy_v0.1', timer: 'timer_v0.1', weather: 'weather_v0.1' };

// A small deterministic generator (mulberry32).
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readWav(file) {
  const b = fs.readFileSync(file);
  let off = 12;
  let fmt = null;
  while (off < b.length) {
    const id = b.toString('ascii', off, off + 4), size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt || fmt.channels !== 1 || fmt.rate !== 16000 || fmt.bits !== 16) throw new Error(`${file}: want 16 kHz mono 16-bit PCM`);
      return new Int16Array(b.buffer.slice(b.byteOffset + off + 8, b.byteOffset + off + 8 + size));
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

function npy(typed, shape) {
  const descr = typed instanceof Float32Array ? '<f4' : typed instanceof Int16Array ? '<i2' : typed instanceof BigInt64Array ? '<i8' : null;
  if (!descr) throw new Error('unsupported array type');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength)]);
}

function concat(Type, parts) {
  const out = new Type(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

// pick chooses at most MAX items with a fixed seed, keeping their order.
function pick(items, seed) {
  if (items.length <= MAX) return items;
  const r = rng(seed);
  const idx = items.map((_, i) => [r(), i]).sort((a, b) => a[0] - b[0]).slice(0, MAX).map(x => x[1]).sort((a, b) => a - b);
  return idx.map(i => items[i]);
}

const opts = { intraOpNumThreads: 2, interOpNumThreads: 1 };
// MEL_MODEL and EMB_MODEL replace the front end (for example by pot's
// quantized models, to measure the whole pipeline in int8).
const mel = await ort.InferenceSession.create(process.env.MEL_MODEL || path.join(modelsDir, 'melspectrogram.onnx'), opts);
const emb = await ort.InferenceSession.create(process.env.EMB_MODEL || path.join(modelsDir, 'embedding_model.onnx'), opts);
const vad = await ort.InferenceSession.create(path.join(modelsDir, 'silero_vad.onnx'), opts);
const heads = {};
for (const [k, file] of Object.entries(HEADS)) {
  const s = await ort.InferenceSession.create(path.join(modelsDir, file + '.onnx'), opts);
  heads[k] = { s, T: s.inputMetadata?.[0]?.shape?.[1] ?? 16 };
}

async function melspec(audio) { // Int16Array -> Float32Array frames x 32, scaled
  const out = (await mel.run({ input: new ort.Tensor('float32', Float32Array.from(audio), [1, audio.length]) })).output;
  const v = out.data;
  const frames = v.length / 32;
  for (let i = 0; i < v.length; i++) v[i] = v[i] / 10 + 2;
  return { data: v, frames };
}

async function embeddings(spec) { // windows of 76 frames every 8 -> [W][96]
  const windows = [];
  for (let i = 0; i + 76 <= spec.frames; i += 8) windows.push(spec.data.slice(i * 32, (i + 76) * 32));
  const out = [];
  for (let i = 0; i < windows.length; i += 64) {
    const batch = windows.slice(i, i + 64);
    const r = await emb.run({ input_1: new ort.Tensor('float32', concat(Float32Array, batch), [batch.length, 76, 32, 1]) });
    const v = r[emb.outputNames[0]].data;
    for (let j = 0; j < batch.length; j++) out.push(v.slice(j * 96, (j + 1) * 96));
  }
  return { windows, emb: out };
}

const PREFIX = 4 * 16000;
for (const split of ['calib', 'eval']) {
  const dir = path.join(clipsDir, split);
  const files = fs.readdirSync(dir).filter(f => f.endsWith('.wav')).sort();
  const audioSegs = [], melWins = [], vadRows = [], headRows = Object.fromEntries(Object.keys(HEADS).map(k => [k, []]));
  const streams = Object.fromEntries(Object.keys(HEADS).map(k => [k, { windows: [], clips: [] }]));
  const r = rng(split === 'calib' ? 1 : 2);
  for (const f of files) {
    const label = f.split('__')[0];
    const clip = readWav(path.join(dir, f));
    // 1 s segments of the clip itself for the melspectrogram.
    for (let i = 0; i + 16000 <= clip.length; i += 16000) audioSegs.push(clip.slice(i, i + 16000));
    // The stream: 4 s of low noise, then the clip.
    const audio = new Int16Array(PREFIX + clip.length);
    for (let i = 0; i < PREFIX; i++) audio[i] = Math.floor(r() * 2000) - 1000;
    audio.set(clip, PREFIX);
    const spec = await melspec(audio);
    const { windows, emb: e } = await embeddings(spec);
    // The first embedding whose window reaches into the clip.
    const first = Math.max(0, Math.ceil((PREFIX / 160 - 76) / 8));
    if (label !== 'noise') for (let w = first; w < windows.length; w++) melWins.push(windows[w]);
    for (const [k, h] of Object.entries(heads)) {
      const rows = [];
      for (let end = Math.max(first, h.T - 1); end < e.length; end++) rows.push(concat(Float32Array, e.slice(end - h.T + 1, end + 1)));
      if (label !== 'noise') headRows[k].push(...rows);
      if (label === k || label === 'negative') {
        const st = streams[k];
        st.clips.push({ file: f, label, first: st.windows.length, count: rows.length });
        st.windows.push(...rows);
      }
    }
    // The VAD, chunk by chunk, with its state.
    let h = new Float32Array(128), c = new Float32Array(128);
    for (let i = 0; i + 640 <= clip.length; i += 640) {
      const chunk = Float32Array.from(clip.subarray(i, i + 640), v => v / 32767);
      const res = await vad.run({ input: new ort.Tensor('float32', chunk, [1, 640]), sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
        h: new ort.Tensor('float32', h, [2, 1, 64]), c: new ort.Tensor('float32', c, [2, 1, 64]) });
      vadRows.push({ chunk, h, c });
      h = Float32Array.from(res.hn.data); c = Float32Array.from(res.cn.data);
    }
  }
  const od = path.join(outDir, split);
  fs.mkdirSync(path.join(od, 'stream'), { recursive: true });
  const segs = pick(audioSegs, 11);
  fs.writeFileSync(path.join(od, 'melspectrogram.npy'), npy(concat(Int16Array, segs), [segs.length, 16000]));
  const mw = pick(melWins, 12);
  fs.writeFileSync(path.join(od, 'embedding.npy'), npy(concat(Float32Array, mw), [mw.length, 76, 32, 1]));
  for (const [k, h] of Object.entries(heads)) {
    const rows = pick(headRows[k], 13);
    fs.writeFileSync(path.join(od, k + '.npy'), npy(concat(Float32Array, rows), [rows.length, h.T, 96]));
    // Float scores of the stream, for detection counts.
    const st = streams[k];
    const scores = [];
    for (const w of st.windows) {
      // A distribution (the timer head: "no timer" then six durations)
      // scores its most likely duration.
      const o = (await h.s.run({ [h.s.inputNames[0]]: new ort.Tensor('float32', w, [1, h.T, 96]) }))[h.s.outputNames[0]].data;
      scores.push(o.length === 1 ? o[0] : Math.max(...Array.from(o).slice(1)));
    }
    for (const cl of st.clips) cl.max = Math.max(...scores.slice(cl.first, cl.first + cl.count));
    fs.writeFileSync(path.join(od, 'stream', k + '.npy'), npy(concat(Float32Array, st.windows), [st.windows.length, h.T, 96]));
    fs.writeFileSync(path.join(od, 'stream', k + '.json'), JSON.stringify(st.clips));
    const pos = st.clips.filter(c => c.label === k), neg = st.clips.filter(c => c.label !== k);
    console.log(JSON.stringify({ split, head: k, positives: `${pos.filter(c => c.max > 0.5).length}/${pos.length}`, false_alarms: `${neg.filter(c => c.max > 0.5).length}/${neg.length}` }));
  }
  const vr = pick(vadRows, 14);
  const zip = new AdmZip();
  zip.addFile('input.npy', npy(concat(Float32Array, vr.map(v => v.chunk)), [vr.length, 640]));
  zip.addFile('sr.npy', npy(BigInt64Array.from(vr.map(() => 16000n)), [vr.length]));
  zip.addFile('h.npy', npy(concat(Float32Array, vr.map(v => v.h)), [vr.length, 2, 1, 64]));
  zip.addFile('c.npy', npy(concat(Float32Array, vr.map(v => v.c)), [vr.length, 2, 1, 64]));
  zip.writeZip(path.join(od, 'silero_vad.npz'));
  console.log(JSON.stringify({ split, clips: files.length, melspectrogram: segs.length, embedding: mw.length, vad: vr.length }));
}
