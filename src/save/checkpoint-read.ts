// Checkpoints, the reading half: DIR/checkpoint.ckpt (layout in checkpoint.ts) -> the TrainState `--resume`
// continues from. A run folder can be shared like a model folder, so the file is read as untrusted data, in an
// order where nothing is allocated or believed before it is checked:
//   1. the file itself through folder-file.ts (a regular file of the folder, no link out of it);
//   2. the header: bounded in length, valid JSON, matching its schema strictly (schemas.ts);
//   3. the fingerprint: written for this program, settings, data and seed, or differing only in a lower
//      learning rate (E602 naming what changed);
//   4. the index: exactly the model's weights with their shapes, optimizer slots shaped as their weights,
//      history consistent with the epoch count (E017), sizes under MAX_WEIGHT_BYTES (E014);
//   5. the file's size equal to what the index describes (E013), before the blob is read;
//   6. the blob, tensor by tensor, against its sha256.
import { createHash } from "node:crypto";
import { closeSync } from "node:fs";
import { NncError, fail, type Diagnostic } from "../diagnostics/index.ts";
import type { Model } from "../ir/schema.ts";
import type { TrainState, WeightData } from "../runtime/types.ts";
import { bytesOf, readTensors, type TensorEntry } from "./blob.ts";
import { BEST_PREFIX, CHECKPOINT_FILE } from "./checkpoint.ts";
import { resumeCheck, type Fingerprint } from "./fingerprint.ts";
import {
  MAX_JSON_BYTES,
  MAX_WEIGHT_BYTES,
  formatBytes,
  openFolderFile,
  readFully,
  resolveFolderFile,
  shownName,
  type FolderFile,
} from "./folder-file.ts";
import { kerasWeights } from "./keras.ts";
import { CheckpointHeaderSchema, checkSchema, type CheckpointHeaderJson } from "./schemas.ts";

const MAGIC = "NNCCKPT1";
const PREFIX_BYTES = 12;
/** Shown with every refusal: a checkpoint that cannot be used never blocks training from scratch. */
const FRESH_START = "train from scratch instead: drop --resume and pass --force, or choose another --out";

const damaged = (dir: string, detail: string): never =>
  fail("E602", { dir, detail: `${CHECKPOINT_FILE} is damaged: ${detail}` });

/** The model the caller's fingerprint was made for: what the checkpoint's weights must fit. */
function expectedWeights(expected: Fingerprint): Map<string, number[]> {
  const model = expected.parts.model as Model | undefined;
  if (!model?.layers) throw new Error("readCheckpoint: the expected fingerprint names no model");
  return new Map(kerasWeights(model).map((w) => [w.name, w.shape] as const));
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * E017 unless the index holds exactly the model's weights, slots named "<weight>/<kind>" with their weight's
 * shape, each name once, and a history of exactly `epochsDone` epochs numbered 1, 2, ... (The optimizer checks,
 * on restoring, that every slot it needs is there: only it knows its slot kinds.)
 */
function checkIndex(file: string, header: CheckpointHeaderJson, model: Map<string, number[]>): void {
  const bad = (detail: string): never => fail("E017", { file, detail });
  const seen = new Set<string>();
  for (const { name, shape } of header.weights) {
    if (seen.has(name)) bad(`it holds the weight ${shownName(name)} twice`);
    seen.add(name);
    const want = model.get(name);
    if (!want) bad(`it holds a weight ${shownName(name)}, which the model does not have`);
    if (!sameShape(shape, want!)) {
      bad(`its weight ${name} has shape [${shape.join(", ")}], the model's is [${want!.join(", ")}]`);
    }
  }
  for (const name of model.keys()) if (!seen.has(name)) bad(`it lacks the model's weight ${name}`);
  for (const { name, shape } of header.slots) {
    if (seen.has(name)) bad(`it holds ${shownName(name)} twice`);
    seen.add(name);
    const cut = name.lastIndexOf("/");
    const weight = cut > 0 ? model.get(name.slice(0, cut)) : undefined;
    if (!weight) bad(`its optimizer slot ${shownName(name)} belongs to no weight of the model`);
    if (!sameShape(shape, weight!)) {
      bad(
        `its optimizer slot ${name} has shape [${shape.join(", ")}], its weight's is [${weight!.join(", ")}]`,
      );
    }
  }
  if (header.best) {
    const best = new Set<string>();
    for (const { name, shape } of header.best) {
      const weight = name.startsWith(BEST_PREFIX) ? name.slice(BEST_PREFIX.length) : undefined;
      const want = weight === undefined ? undefined : model.get(weight);
      if (!want || best.has(name)) bad(`its best-epoch weight ${shownName(name)} is not one of the model's`);
      best.add(name);
      if (!sameShape(shape, want!)) {
        bad(
          `its best-epoch weight ${name} has shape [${shape.join(", ")}], the model's is [${want!.join(", ")}]`,
        );
      }
    }
    if (best.size !== model.size) bad("its best-epoch weights are not all of the model's weights");
  }
  if (header.best && !header.earlyStop) bad("it holds best-epoch weights but no early-stopping state");
  const epochs = header.history.epochs;
  if (epochs.length !== header.epochsDone) {
    bad(`it says ${header.epochsDone} epochs are done, but its history holds ${epochs.length}`);
  }
  epochs.forEach((e, i) => {
    if (e.epoch !== i + 1) bad(`its history's epoch ${i + 1} is numbered ${e.epoch}`);
  });
}

/** The header: prefix and length first, then at most MAX_JSON_BYTES of JSON, then its schema. */
function readHeader(
  dir: string,
  file: FolderFile,
  fd: number,
): { header: CheckpointHeaderJson; blobStart: number } {
  const prefix = Buffer.alloc(PREFIX_BYTES);
  if (file.size < PREFIX_BYTES || !readFully(fd, prefix, 0) || prefix.toString("latin1", 0, 8) !== MAGIC) {
    return damaged(dir, `it is not an nnc checkpoint (it does not start with ${MAGIC})`);
  }
  const length = prefix.readUInt32LE(8);
  if (length > MAX_JSON_BYTES) {
    return fail("E014", {
      file: file.shown,
      what: "its header",
      size: formatBytes(length),
      limit: formatBytes(MAX_JSON_BYTES),
    });
  }
  if (PREFIX_BYTES + length > file.size)
    return damaged(dir, "its header runs past the end of the file (cut short?)");
  const text = Buffer.alloc(length);
  readFully(fd, text, PREFIX_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text.toString("utf8"));
  } catch (e) {
    return damaged(dir, `its header is not valid JSON (${(e as Error).message})`);
  }
  const header = checkSchema(CheckpointHeaderSchema, json, file.shown);
  const end = PREFIX_BYTES + length;
  return { header, blobStart: end + ((4 - (end % 4)) % 4) };
}

/** Reads the index's tensors from `fd` at `start`, hashing them as they come; E602 when the hash differs. */
function readBlob(
  dir: string,
  fd: number,
  start: number,
  entries: TensorEntry[],
  sha256: string,
): Map<string, WeightData> {
  const hash = createHash("sha256");
  let position = start;
  const tensors = readTensors(entries, (bytes) => {
    if (!readFully(fd, bytes, position)) damaged(dir, "it ended while being read (is it being written?)");
    hash.update(bytes);
    position += bytes.byteLength;
  });
  if (hash.digest("hex") !== sha256)
    damaged(dir, "its weights do not match their checksum (damaged or cut short)");
  return tensors;
}

/**
 * The TrainState to resume from DIR, if the checkpoint there was written for the same program, settings, data
 * and seed (E602 otherwise, naming what changed), and is whole and fits the model (E01x, see above).
 */
export function readCheckpoint(dir: string, expected: Fingerprint): TrainState {
  const model = expectedWeights(expected);
  try {
    const file = resolveFolderFile(dir, CHECKPOINT_FILE, "nnc");
    if (!file) {
      return fail("E602", {
        dir,
        detail: `no checkpoint there (${CHECKPOINT_FILE} is written after each finished epoch)`,
      });
    }
    const fd = openFolderFile(file);
    try {
      return readOpened(dir, file, fd, expected, model);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw withFreshStartHelp(e);
  }
}

function readOpened(
  dir: string,
  file: FolderFile,
  fd: number,
  expected: Fingerprint,
  model: Map<string, number[]>,
): TrainState {
  const { header, blobStart } = readHeader(dir, file, fd);
  // The same fingerprint, or one that differs only in a lower learning rate (resumeCheck, fingerprint.ts).
  const check = resumeCheck(header.fingerprint, expected);
  if (!check.ok) {
    return fail("E602", {
      dir,
      detail: `the run was trained with other settings: ${check.changes.join("; ") || "the fingerprint differs"}`,
    });
  }
  checkIndex(file.shown, header, model);
  const weightBytes = bytesOf(header.weights);
  const slotBytes = bytesOf(header.slots);
  const bestBytes = bytesOf(header.best ?? []);
  // The weights are the model's (checked above); slots are bounded as Adam's two per weight are.
  if (weightBytes > MAX_WEIGHT_BYTES || slotBytes > 2 * MAX_WEIGHT_BYTES) {
    fail("E014", {
      file: file.shown,
      what: "the weights and optimizer slots it describes",
      size: formatBytes(weightBytes + slotBytes),
      limit: formatBytes(3 * MAX_WEIGHT_BYTES),
    });
  }
  const expectedSize = blobStart + weightBytes + slotBytes + bestBytes;
  if (file.size !== expectedSize) {
    fail("E013", { file: file.shown, size: file.size, expected: expectedSize, source: "its header" });
  }
  const tensors = readBlob(
    dir,
    fd,
    blobStart,
    [...header.weights, ...header.slots, ...(header.best ?? [])],
    header.blobSha256,
  );
  const pick = (entries: TensorEntry[]): Record<string, WeightData> =>
    Object.fromEntries(entries.map((e) => [e.name, tensors.get(e.name)!]));
  return {
    epochsDone: header.epochsDone,
    // JSON holds a diverged metric (NaN) as null: give the number back.
    history: withLowerLrNote(
      { ...header.history, epochs: header.history.epochs.map(nullsAsNaN) },
      check.lowerLr,
      header.epochsDone,
      header.schedule,
    ),
    weights: pick(header.weights),
    optimizer: { step: header.optimizerStep, slots: pick(header.slots) },
    ...(header.computedOn ? { computedOn: header.computedOn } : {}),
    ...(header.schedule ? { schedule: lowerPlateau(header.schedule, check.lowerLr) } : {}),
    ...(header.scheduleEpochs !== undefined ? { scheduleEpochs: header.scheduleEpochs } : {}),
    ...(header.earlyStop
      ? {
          earlyStop: {
            ...header.earlyStop,
            ...(header.best
              ? {
                  weights: Object.fromEntries(
                    header.best.map((e) => [e.name.slice(BEST_PREFIX.length), tensors.get(e.name)!]),
                  ),
                }
              : {}),
          },
        }
      : {}),
  };
}

/**
 * A plateau schedule's saved rate under a lower --lr on --resume: scaled by new/old, so the cuts the plateau made
 * (its rate relative to the optimizer's) are kept relative to the new rate instead of the saved rate overriding it.
 */
function lowerPlateau(
  schedule: NonNullable<TrainState["schedule"]>,
  lowered: { from: number; to: number } | undefined,
): NonNullable<TrainState["schedule"]> {
  return lowered ? { ...schedule, lr: (schedule.lr * lowered.to) / lowered.from } : schedule;
}

/** A resumed run's history goes on with its epochs, so it says from where the learning rate was lowered. */
function withLowerLrNote(
  history: TrainState["history"],
  lowered: { from: number; to: number } | undefined,
  epochsDone: number,
  plateau: TrainState["schedule"],
): TrainState["history"] {
  if (!lowered) return history;
  const scaled = plateau
    ? `; schedule plateau's rate ${plateau.lr} scaled to ${+lowerPlateau(plateau, lowered).lr.toPrecision(6)} ` +
      `(x${+(lowered.to / lowered.from).toPrecision(6)}: its cuts kept relative to the new rate)`
    : "";
  const note =
    `learning rate ${lowered.to} from epoch ${epochsDone + 1} on (lowered from ${lowered.from} on --resume)` +
    scaled;
  return { ...history, notes: [...(history.notes ?? []), note] };
}

function nullsAsNaN<T extends object>(record: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v === null ? NaN : v])) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

/** Every refusal of a checkpoint (a link out, a directory, damage) also says that training can start over. */
function withFreshStartHelp(e: unknown): unknown {
  if (!(e instanceof NncError) || e.diagnostic.help !== undefined) return e;
  const d: Diagnostic = { ...e.diagnostic, help: FRESH_START };
  return new NncError(d);
}
