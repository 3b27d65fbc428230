// The browser example (examples/browser/) in headless Chromium: a model trained by `nnc train specs/mnist-bn.nn`
// (short), served by examples/browser/serve.ts, loaded by the page with tf.loadLayersModel; the page's
// predictions for its test images and for a digit drawn with the mouse equal `nnc predict --input` on the same
// images. And a model trained on image bytes (input scale 255, a Rescaling layer in model.json) takes the bytes
// as they are. Skipped, with the reason printed, where Chromium is not installed (CI installs Debian's).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startServer } from "../../examples/browser/serve.ts";
import { run } from "../../src/cli/main.ts";
import { memoryIO } from "../../src/cli/io.ts";
import { writeIdxFolder } from "../data/helpers.ts";
import { tempDir } from "../helpers.ts";
import { digitsJson } from "../../scripts/gen-browser-digits.ts";

const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));

async function nnc(...argv: string[]) {
  const io = memoryIO();
  const code = await run(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

function findChromium(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("which", [name], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

interface Prediction {
  predicted: number;
  probabilities: number[];
}
interface PageState {
  state: string;
  status: string;
  inputScale: number;
  tests: Prediction[] | null;
  lastInput: number[] | null;
  lastOutput: Prediction | null;
}

const chromium = findChromium();
const tmp = tempDir("browser");
let browser: Browser | undefined;
const servers: Server[] = [];

/** `nnc predict DIR --input` of images of pixel bytes, given as the model's data source holds them. */
async function nncPredict(dir: string, images: number[][], divisor: number): Promise<Prediction[]> {
  const file = join(tmp, `input-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(images.map((im) => im.map((v) => v / divisor))));
  const r = await nnc("predict", dir, "--input", file, "--json", "--backend", "cpu");
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Prediction[];
}

function assertSame(page: Prediction[], ours: Prediction[], what: string): void {
  assert.is(page.length, ours.length, what);
  let worst = 0;
  page.forEach((p, i) => {
    assert.is(p.predicted, ours[i]!.predicted, `${what}: image ${i}`);
    p.probabilities.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - ours[i]!.probabilities[k]!))));
  });
  assert.ok(worst < 1e-5, `${what}: max |difference| ${worst}`);
}

/** Opens the page on a server for `modelDir`, waits for it to load the model and classify its test images. */
async function openPage(
  modelDir: string,
  query = "",
): Promise<{ page: Page; errors: string[]; state: PageState }> {
  const server = await startServer({ modelDir, port: 0 });
  servers.push(server);
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${(e as Error).message}`));
  await page.goto(`http://127.0.0.1:${address.port}/${query}`);
  await page.waitForFunction('document.body.dataset.state !== "loading"', { timeout: 120_000 });
  return { page, errors, state: await pageState(page) };
}

// Page-side code as text: this project's TypeScript has no DOM types.
const pageState = (page: Page): Promise<PageState> =>
  page.evaluate(`({
    state: document.body.dataset.state ?? "",
    status: document.getElementById("status").textContent ?? "",
    inputScale: window.nncPage.inputScale,
    tests: window.nncPage.tests,
    lastInput: window.nncPage.lastInput,
    lastOutput: window.nncPage.lastOutput,
  })`) as Promise<PageState>;

const digits = JSON.parse(readFileSync(repo("examples/browser/digits.json"), "utf8")) as {
  images: number[][];
  labels: number[];
};

const page = suite("the browser page");
page.before(async () => {
  if (!chromium) return;
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
});
page.after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  rmSync(tmp, { recursive: true, force: true });
});

page(
  "classifies the test images and a drawn digit as nnc predict does (mnist-bn, trainable and inference/)",
  async () => {
    if (!chromium) {
      console.log("  skipped: Chromium is not installed (apt-get install chromium)");
      return;
    }
    const out = join(tmp, "mnist-bn");
    const trained = await nnc(
      "train",
      repo("specs/mnist-bn.nn"),
      "--epochs",
      "1",
      "--limit",
      "1000",
      "--backend",
      "cpu",
      "--out",
      out,
    );
    assert.is(trained.code, 0, trained.stderr);
    // The embedded digits are in [0, 1] already (scale 1): no Rescaling, the page divides the bytes by 255, and
    // nnc predict --input takes the same values.
    const ours = await nncPredict(out, digits.images, 255);
    for (const dir of [out, join(out, "inference")]) {
      const { page, errors, state } = await openPage(dir);
      assert.is(state.state, "ready", state.status);
      assert.is(state.inputScale, 1);
      assert.match(state.status, "values in [0, 1]");
      assertSame(state.tests!, ours, `${dir}: test images`);
      const shown = (await page.evaluate(
        `[...document.querySelectorAll("#tests figure")].map((f) => Number(f.dataset.predicted))`,
      )) as number[];
      assert.equal(
        shown,
        ours.map((r) => r.predicted),
        "the figures on the page",
      );

      // A "7" drawn with the mouse: what the page fed the model (its 28x28 bytes) gives nnc's prediction.
      const box = (await (await page.$("#pad"))!.boundingBox())!;
      await page.mouse.move(box.x + 70, box.y + 60);
      await page.mouse.down();
      for (const [x, y] of [
        [210, 60],
        [190, 110],
        [160, 170],
        [140, 230],
      ] as const) {
        await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
      }
      await page.mouse.up();
      await page.waitForFunction("document.body.dataset.drawn !== undefined");
      const drawn = await pageState(page);
      assert.is(drawn.lastInput!.length, 784);
      assert.ok(drawn.lastInput!.filter((v) => v > 128).length > 20, "the stroke reached the model's input");
      assertSame([drawn.lastOutput!], await nncPredict(out, [drawn.lastInput!], 255), `${dir}: drawn digit`);
      assert.equal(errors, [], "console errors");
      await page.close();
    }
  },
);

page(
  "a model trained on image bytes (Rescaling 1/255 in model.json) takes the bytes as they are",
  async () => {
    if (!chromium) {
      console.log("  skipped: Chromium is not installed (apt-get install chromium)");
      return;
    }
    const data = writeIdxFolder(join(tmp, "bytes"), { train: 200, test: 20, shape: [28, 28] });
    const spec = join(tmp, "bytes.nn");
    writeFileSync(
      spec,
      `input 28x28x1\nflatten\ndense 16\nbatchnorm\nrelu\ndense 10 softmax\ntrain {\n  data idx:${data}\n  epochs 1\n}\n`,
    );
    const out = join(tmp, "bytes-run");
    const trained = await nnc("train", spec, "--backend", "cpu", "--out", out);
    assert.is(trained.code, 0, trained.stderr);
    const { page, errors, state } = await openPage(out);
    assert.is(state.state, "ready", state.status);
    assert.is(state.inputScale, 255);
    assert.match(state.status, "pixel bytes, divided by 255 in the model");
    assertSame(state.tests!, await nncPredict(out, digits.images, 1), "test images");
    assert.equal(errors, [], "console errors");
    await page.close();
  },
);

page("a folder without a model: the page says how to serve one", async () => {
  if (!chromium) {
    console.log("  skipped: Chromium is not installed (apt-get install chromium)");
    return;
  }
  const { page, state } = await openPage(tmp);
  assert.is(state.state, "error");
  assert.match(state.status, "cannot load the model /model/model.json");
  assert.match(state.status, "npx tsx examples/browser/serve.ts --model");
  await page.close();
});

const digitsFile = suite("examples/browser/digits.json");
digitsFile("is what scripts/gen-browser-digits.ts writes (held-out mnist digits as bytes)", async () => {
  assert.fixture(readFileSync(repo("examples/browser/digits.json"), "utf8"), await digitsJson());
  assert.is(digits.images.length, 24);
  assert.ok(
    digits.images.every(
      (im) => im.length === 784 && im.every((v) => Number.isInteger(v) && v >= 0 && v <= 255),
    ),
  );
});

const cli = suite("examples/browser/serve.ts as a command");
cli(
  "without a model folder: the usage, exit 2; with one: the URL it serves, and only its three places",
  async () => {
    const serve = repo("examples/browser/serve.ts");
    const usage = spawnSync(process.execPath, ["--import", "tsx", serve, "--model", tmp], {
      encoding: "utf8",
    });
    assert.is(usage.status, 2, usage.stderr);
    assert.match(usage.stderr, "usage: npx tsx examples/browser/serve.ts --model DIR");
    assert.match(usage.stderr, `${tmp} has no model.json`);

    const dir = join(tmp, "served");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "model.json"), "{}");
    writeFileSync(join(tmp, "secret.txt"), "beside the model folder, not in it");
    const child = spawn(process.execPath, ["--import", "tsx", serve, "--model", dir, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((done, failed) => {
        let out = "";
        child.stdout.on("data", (b: Buffer) => {
          out += b.toString();
          if (out.includes("\n")) done(out.trim());
        });
        child.once("exit", (code) => failed(new Error(`serve.ts exited with ${code}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const status = async (path: string) => (await fetch(url + path)).status;
      assert.is(await status(""), 200, "the page");
      assert.is(await status("model/model.json"), 200, "the model folder");
      assert.is(await status("node_modules/@tensorflow/tfjs-layers/dist/tf-layers.min.js"), 200, "tfjs");
      assert.is(
        await status("node_modules/@tensorflow/tfjs-layers/package.json"),
        404,
        "nothing else of node_modules",
      );
      // Sent as it is (fetch would resolve the dots): an encoded '/' that would climb out of the model folder.
      const raw = (path: string) =>
        new Promise<number>((done, failed) =>
          get(url + path, (res) => {
            res.resume();
            done(res.statusCode ?? 0);
          }).once("error", failed),
        );
      assert.is(await raw("model/..%2fsecret.txt"), 404, "no way out of the model folder");
      assert.is(await raw("model/secret.txt"), 404);
      assert.is(await status("serve.ts"), 200, "the example's own files");
    } finally {
      child.kill();
    }
  },
);

page.run();
cli.run();
digitsFile.run();
