import { spawn } from "node:child_process";
import { readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Program } from "../../src/ir/schema.ts";
import type { TrainState, WeightData } from "../../src/runtime/types.ts";
import { setBeforeRename } from "../../src/save/atomic.ts";
import {
  CHECKPOINT_FILE,
  checkpointFingerprint,
  hasCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from "../../src/save/index.ts";
import { kerasWeights } from "../../src/save/keras.ts";
import { Random } from "../../src/util/random.ts";
import { failsWith, removeTempDirs, tempDir } from "../helpers.ts";
import { MLP_SPEC } from "./helpers.ts";
import { WRITER_FINGERPRINT } from "./checkpoint-writer-model.ts";
import { checkedProgram } from "./reference-model.ts";

const program = checkedProgram(MLP_SPEC);
const fingerprint = checkpointFingerprint(program, program.models[0]!.name);

function randomWeight(rng: Random, shape: number[]): WeightData {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { shape, data };
}

function fakeState(epochsDone: number, seed = epochsDone): TrainState {
  const rng = new Random(seed);
  return {
    epochsDone,
    history: {
      epochs: Array.from({ length: epochsDone }, (_, i) => ({
        epoch: i + 1,
        loss: 1 / (i + 2),
        accuracy: 0.5 + i / 100,
        valLoss: 1 / (i + 3),
        valAccuracy: 0.4 + i / 100,
        seconds: 0.25,
        samplesPerSecond: 1000,
      })),
    },
    // Every weight of the model (readCheckpoint refuses a checkpoint that does not fit it, E017).
    weights: Object.fromEntries(
      kerasWeights(program.models[0]!).map((w) => [w.name, randomWeight(rng, w.shape)]),
    ),
    optimizer: {
      step: 17 * epochsDone,
      slots: { "dense/kernel/m": randomWeight(rng, [36, 12]), "dense/kernel/v": randomWeight(rng, [36, 12]) },
    },
    computedOn: { backend: "wasm", threads: 1 + (epochsDone % 2) },
  };
}

/** A program with other train settings, as the CLI makes from flags. */
const withTrain = (changes: Partial<Program["train"]>): Program => ({
  ...program,
  train: { ...program.train, ...changes },
});

const RoundTrip = suite("checkpoint: write and read");
RoundTrip.after(removeTempDirs);

RoundTrip(
  "reads back exactly what was written: weights, slots, step, epochs, history, what computed it",
  () => {
    const dir = tempDir();
    assert.not.ok(hasCheckpoint(dir));
    const state = fakeState(3);
    writeCheckpoint(dir, state, { fingerprint });
    assert.ok(hasCheckpoint(dir));
    assert.equal(readCheckpoint(dir, fingerprint), state);
    assert.equal(readdirSync(dir), [CHECKPOINT_FILE]);
  },
);

RoundTrip("a later checkpoint replaces the earlier one", () => {
  const dir = tempDir();
  writeCheckpoint(dir, fakeState(1), { fingerprint });
  writeCheckpoint(dir, fakeState(2), { fingerprint });
  assert.equal(readCheckpoint(dir, fingerprint), fakeState(2));
});

RoundTrip("more epochs, or moved source text, still resume", () => {
  const dir = tempDir();
  writeCheckpoint(dir, fakeState(1), { fingerprint });
  const moreEpochs = withTrain({ epochs: program.train.epochs + 5, span: [100, 200] });
  const shifted = {
    ...moreEpochs,
    models: moreEpochs.models.map((m) => ({ ...m, layers: m.layers.map((l) => ({ ...l, span: [1, 2] })) })),
  } as Program;
  assert.is(readCheckpoint(dir, checkpointFingerprint(shifted, "model")).epochsDone, 1);
});

const Atomic = suite("checkpoint: atomic writes");
Atomic.after(() => {
  setBeforeRename(undefined);
  removeTempDirs();
});

Atomic(
  "a crash after writing the new file but before publishing it leaves the previous checkpoint intact",
  () => {
    const dir = tempDir();
    writeCheckpoint(dir, fakeState(1), { fingerprint });
    setBeforeRename((temp) => {
      // The process "dies" here with the new checkpoint half written: cut the temporary file and stop.
      truncateSync(temp, 100);
      throw new Error("simulated crash");
    });
    assert.throws(() => writeCheckpoint(dir, fakeState(2), { fingerprint }), /simulated crash/);
    setBeforeRename(undefined);
    assert.equal(readCheckpoint(dir, fingerprint), fakeState(1));
    // The leftover temporary file does not confuse the next write.
    writeCheckpoint(dir, fakeState(2), { fingerprint });
    assert.equal(readCheckpoint(dir, fingerprint), fakeState(2));
  },
);

// A smoke test of the real thing: the kill lands wherever the writer happens to be (often hashing or syncing,
// not inside the write), so the deterministic test above is the one that pins the mechanism.
Atomic("a process killed (SIGKILL) while rewriting its checkpoint leaves a whole one", async () => {
  const dir = tempDir();
  const writer = fileURLToPath(new URL("./checkpoint-writer.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", writer, dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const completed = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const lines = out.trim().split("\n");
      // Let it finish a few writes, then kill it in the middle of whatever it is doing.
      if (lines.length >= 3) {
        child.kill("SIGKILL");
        resolve(Number(lines.at(-1)));
      }
    });
    child.on("exit", (code) =>
      code !== null ? reject(new Error(`writer exited ${code}: ${stderr}`)) : undefined,
    );
  });
  await new Promise((resolve) => child.once("close", resolve));
  const state = readCheckpoint(dir, WRITER_FINGERPRINT);
  assert.ok(state.epochsDone >= completed, `epochs ${state.epochsDone} >= ${completed}`);
  assert.ok(state.weights["dense/kernel"]!.data.every((v) => v === state.epochsDone));
});

const Refused = suite("checkpoint: E602");
Refused.after(removeTempDirs);

const e602 = async (dir: string, expected = fingerprint) => {
  const d = await failsWith("E602", () => readCheckpoint(dir, expected));
  return d.message;
};

Refused("no checkpoint", async () => {
  const dir = tempDir();
  assert.is(
    await e602(dir),
    `cannot resume from ${dir}: no checkpoint there (checkpoint.ckpt is written after each finished epoch)`,
  );
});

Refused("changed settings are named with old and new values", async () => {
  const dir = tempDir();
  writeCheckpoint(dir, fakeState(1), { fingerprint });
  const changed = withTrain({ batch: program.train.batch * 2, seed: program.train.seed + 1 });
  const message = await e602(dir, checkpointFingerprint(changed, "model"));
  assert.match(message, `batch ${program.train.batch} -> ${program.train.batch * 2}`);
  assert.match(message, `seed ${program.train.seed} -> ${program.train.seed + 1}`);
  assert.not.match(message, "optimizer");
  const lr = withTrain({ optimizer: { ...program.train.optimizer, lr: 0.5 } });
  assert.match(await e602(dir, checkpointFingerprint(lr, "model")), /optimizer \{.*"lr":0\.5/);
  const data = withTrain({ data: { ...program.train.data, limit: 100 } });
  assert.match(await e602(dir, checkpointFingerprint(data, "model")), /data \{.*\} -> \{.*"limit":100/);
});

Refused("a changed model names the layers that changed", async () => {
  const dir = tempDir();
  writeCheckpoint(dir, fakeState(1), { fingerprint });
  const other = checkedProgram(MLP_SPEC.replace("dense 12", "dense 16"));
  const message = await e602(dir, checkpointFingerprint(other, "model"));
  assert.match(
    message,
    "the run was trained with other settings: model 'model' changed in layers dense, batch_normalization",
  );
});

Refused("a damaged checkpoint", async () => {
  const dir = tempDir();
  writeCheckpoint(dir, fakeState(1), { fingerprint });
  const file = join(dir, CHECKPOINT_FILE);
  const bytes = readFileSync(file);
  truncateSync(file, bytes.byteLength - 4);
  // Cut short: told by its size before the blob is read (E013).
  const cut = await failsWith("E013", () => readCheckpoint(dir, fingerprint));
  assert.match(
    cut.message,
    `holds ${bytes.byteLength - 4} bytes where its header describes ${bytes.byteLength}`,
  );
  writeFileSync(file, "not a checkpoint");
  assert.match(await e602(dir), "checkpoint.ckpt is damaged: it is not an nnc checkpoint");
  bytes[bytes.byteLength - 1] ^= 0x40;
  writeFileSync(file, bytes);
  assert.match(await e602(dir), "do not match their checksum");
});

RoundTrip.run();
Atomic.run();
Refused.run();
