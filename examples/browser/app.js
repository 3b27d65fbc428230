// The browser example: loads a model nnc trained (model.json + weights.bin, the TensorFlow.js Layers format) with
// tf.loadLayersModel and classifies 28x28 digits, drawn on the pad or read from a file of test images. Plain
// browser JavaScript, no build step; `tf` is the global the tfjs bundles in index.html define.
//
// What the model is fed: pixel bytes 0..255 (white on black, as MNIST), row after row, in the model's input shape
// (NHWC for image inputs). A model trained on image bytes (fashion-mnist, idx:, pixel CSVs) divides them itself:
// its model.json starts with a Keras Rescaling(1/255) layer (docs/interop.md). A model without one (trained on
// the embedded `mnist`, whose values are already in [0, 1]) gets bytes / 255 from this page.
//
// URL parameters: model=URL of model.json (default /model/model.json), samples=URL of test images (default
// digits.json), classes=NAME,NAME,... (default the digits 0..9).
"use strict";

const params = new URLSearchParams(location.search);
const MODEL_URL = params.get("model") || "/model/model.json";
const SAMPLES_URL = params.get("samples") || "digits.json";
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** What the page exposes, for people in the console and for the browser test. */
const page = (window.nncPage = {
  model: null,
  inputScale: 1,
  lastInput: null,
  lastOutput: null,
  tests: null,
});

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
};

/**
 * The divisor a loaded model applies to raw inputs: its Rescaling(scale=1/k, offset=0) when that is the one layer
 * reading the input (nnc's inputScaleOf, src/save/input-scale.ts), else 1.
 */
function inputScaleOf(model) {
  const input = model.layers.find((l) => l.getClassName() === "InputLayer");
  const readers = model.layers.filter(
    (l) => l !== input && l.inboundNodes.some((node) => node.inboundLayers.includes(input)),
  );
  if (readers.length !== 1 || readers[0].getClassName() !== "Rescaling") return 1;
  const { scale, offset } = readers[0].getConfig();
  if (offset !== 0 || !(scale > 0))
    throw new Error(`the model's input Rescaling has scale=${scale} offset=${offset}`);
  return 1 / scale;
}

/** True when the model ends in a softmax (probabilities); otherwise its outputs are logits, softmaxed here. */
function outputsProbabilities(model) {
  const last = model.layers[model.layers.length - 1].getConfig();
  return last.activation === "softmax";
}

function className(k) {
  const names = params.get("classes");
  return names ? (names.split(",")[k] ?? String(k)) : String(k);
}

/** Model inputs for pixel bytes (count * 784 values): as they are when the model rescales them, else / 255. */
function modelInput(bytes) {
  return page.inputScale !== 1 ? Float32Array.from(bytes) : Float32Array.from(bytes, (b) => b / 255);
}

/** Classes and probabilities of `count` images of pixel bytes. */
async function classify(bytes, count) {
  const shape = page.model.inputs[0].shape.slice(1);
  const x = modelInput(bytes);
  const y = tf.tidy(() => {
    const out = page.model.predict(tf.tensor(x, [count, ...shape]));
    return outputsProbabilities(page.model) ? out : tf.softmax(out);
  });
  const rows = await y.array();
  y.dispose();
  return rows.map((p) => ({ predicted: p.indexOf(Math.max(...p)), probabilities: p }));
}

// ---- the drawing pad
const pad = $("pad");
const padCtx = pad.getContext("2d", { willReadFrequently: true });

function clearPad() {
  padCtx.fillStyle = "#000";
  padCtx.fillRect(0, 0, pad.width, pad.height);
  $("input28").getContext("2d").clearRect(0, 0, SIDE, SIDE);
  $("answer").textContent = "";
  $("bars").replaceChildren();
}

function setUpPad() {
  clearPad();
  padCtx.strokeStyle = "#fff";
  padCtx.lineWidth = 22;
  padCtx.lineCap = "round";
  padCtx.lineJoin = "round";
  let drawing = false;
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    padCtx.beginPath();
    padCtx.moveTo(...at(e));
    padCtx.lineTo(...at(e));
    padCtx.stroke();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    padCtx.lineTo(...at(e));
    padCtx.stroke();
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    classifyDrawing().catch(showError);
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("clear").addEventListener("click", clearPad);
}

/**
 * The drawing as MNIST prepared its digits: the ink's bounding box scaled to fit 20x20 (aspect kept), placed in
 * 28x28 so that its centre of mass is the centre. Returns 784 pixel bytes, or null for an empty pad.
 */
function drawingAsDigit() {
  const { data } = padCtx.getImageData(0, 0, pad.width, pad.height);
  let [x0, y0, x1, y1] = [pad.width, pad.height, -1, -1];
  for (let y = 0; y < pad.height; y++) {
    for (let x = 0; x < pad.width; x++) {
      if (data[(y * pad.width + x) * 4] > 0) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const fit = 20 / Math.max(w, h);
  const [sw, sh] = [w * fit, h * fit];
  const small = document.createElement("canvas");
  small.width = small.height = SIDE;
  const ctx = small.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  const place = (dx, dy) => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, SIDE, SIDE);
    ctx.drawImage(pad, x0, y0, w, h, dx, dy, sw, sh);
    const pixels = ctx.getImageData(0, 0, SIDE, SIDE).data;
    return Uint8Array.from({ length: PIXELS }, (_, i) => pixels[i * 4]);
  };
  const first = place((SIDE - sw) / 2, (SIDE - sh) / 2);
  let [mass, mx, my] = [0, 0, 0];
  first.forEach((v, i) => {
    mass += v;
    mx += v * (i % SIDE);
    my += v * Math.floor(i / SIDE);
  });
  const shift = (m) => Math.round((SIDE - 1) / 2 - m / mass);
  return place((SIDE - sw) / 2 + shift(mx), (SIDE - sh) / 2 + shift(my));
}

function show(bytes, canvas) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  bytes.forEach((v, i) => image.data.set([v, v, v, 255], i * 4));
  ctx.putImageData(image, 0, 0);
}

async function classifyDrawing() {
  const bytes = drawingAsDigit();
  if (!bytes) return;
  show(bytes, $("input28"));
  const [result] = await classify(bytes, 1);
  page.lastInput = Array.from(bytes);
  page.lastOutput = result;
  $("answer").textContent =
    `${className(result.predicted)}  (p=${result.probabilities[result.predicted].toFixed(3)})`;
  $("bars").replaceChildren(
    ...result.probabilities.flatMap((p, k) => {
      const name = document.createElement("span");
      name.textContent = className(k);
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.style.width = `${(p * 100).toFixed(1)}%`;
      const figure = document.createElement("span");
      figure.textContent = p.toFixed(3);
      return [name, bar, figure];
    }),
  );
  document.body.dataset.drawn = String(result.predicted);
}

// ---- the test images
async function classifyTests() {
  const response = await fetch(SAMPLES_URL);
  if (!response.ok) throw new Error(`cannot load the test images ${SAMPLES_URL}: HTTP ${response.status}`);
  const file = await response.json();
  const images = Array.isArray(file) ? file : file.images;
  const labels = Array.isArray(file) ? undefined : file.labels;
  images.forEach((im, i) => {
    const flat = im.flat(Infinity);
    if (flat.length !== PIXELS || flat.some((v) => !(v >= 0 && v <= 255)))
      throw new Error(`${SAMPLES_URL}: image ${i} is not ${PIXELS} pixel values in 0..255`);
  });
  const bytes = images.flatMap((im) => im.flat(Infinity));
  const results = await classify(bytes, images.length);
  page.tests = results;
  let right = 0;
  $("tests").replaceChildren(
    ...results.map((r, i) => {
      const figure = document.createElement("figure");
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = SIDE;
      show(bytes.slice(i * PIXELS, (i + 1) * PIXELS), canvas);
      const caption = document.createElement("figcaption");
      const label = labels?.[i];
      if (label === r.predicted) right++;
      caption.textContent =
        `${className(r.predicted)} p=${r.probabilities[r.predicted].toFixed(2)}` +
        (label === undefined ? "" : label === r.predicted ? " ✓" : ` ✗ (${className(label)})`);
      if (label !== undefined && label !== r.predicted) figure.className = "wrong";
      figure.dataset.predicted = String(r.predicted);
      figure.append(canvas, caption);
      return figure;
    }),
  );
  $("tests-status").textContent =
    `${images.length} images from ${SAMPLES_URL}` + (labels ? `: ${right} of ${images.length} right` : "");
}

function showError(e) {
  status(String(e && e.message ? e.message : e), true);
  document.body.dataset.state = "error";
}

async function main() {
  await tf.setBackend("cpu");
  let model;
  try {
    model = await tf.loadLayersModel(MODEL_URL);
  } catch (e) {
    throw new Error(
      `cannot load the model ${MODEL_URL}: ${e.message}\n` +
        "Serve a model folder: npx tsx examples/browser/serve.ts --model runs/mnist-bn (docs/browser.md)",
    );
  }
  page.model = model;
  const shape = model.inputs[0].shape.slice(1);
  if (shape.reduce((a, b) => a * b, 1) !== PIXELS) {
    throw new Error(`this page classifies 28x28 images; the model takes [${shape.join(", ")}]`);
  }
  page.inputScale = inputScaleOf(model);
  status(
    `model ${MODEL_URL}: ${model.layers.length} layers, ${model.countParams().toLocaleString("en-US")} parameters, ` +
      `input [${shape.join(", ")}]; ` +
      (page.inputScale !== 1
        ? `pixel bytes, divided by ${page.inputScale} in the model (its Rescaling layer)`
        : "values in [0, 1] (the model has no Rescaling layer: the page divides the bytes by 255)") +
      `; backend ${tf.getBackend()}`,
  );
  setUpPad();
  await classifyTests();
  document.body.dataset.state = "ready";
}

main().catch(showError);
