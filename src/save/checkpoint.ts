// Checkpoints: a TrainState (weights, optimizer slots and step, epochs done, history) <-> one file,
// DIR/checkpoint.ckpt, rewritten atomically after every epoch so a killed run resumes from its last finished
// epoch, and refused (E602) when the program, settings, data or seed changed since.
//
// File layout (all integers little-endian):
//   bytes 0..7   "NNCCKPT1" (format and version)
//   bytes 8..11  uint32 H: length of the header in bytes
//   H bytes      header, UTF-8 JSON: CheckpointHeader below
//   0..3 bytes   zero padding to a multiple of 4
//   the rest     float32 blob (blob.ts): header.weights then header.slots, back to back; its sha256 is in
//                the header, so a damaged file is told apart from a valid one.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../diagnostics/index.ts";
import type { History, TrainState, WeightData } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { writeFileAtomic } from "./atomic.ts";
import { packTensors, unpackTensors, type TensorEntry } from "./blob.ts";
import { resumeCheck, type Fingerprint } from "./fingerprint.ts";

export const CHECKPOINT_FILE = "checkpoint.ckpt";
const MAGIC = "NNCCKPT1";

interface CheckpointHeader {
  nnc: string;
  writtenAt: string;
  fingerprint: Fingerprint;
  epochsDone: number;
  history: History;
  optimizerStep: number;
  /** Absent in checkpoints written before it was recorded. */
  computedOn?: TrainState["computedOn"];
  weights: TensorEntry[];
  slots: TensorEntry[];
  blobSha256: string;
}

export interface CheckpointMeta {
  fingerprint: Fingerprint;
}

export const hasCheckpoint = (dir: string): boolean => existsSync(join(dir, CHECKPOINT_FILE));

const sha256 = (chunks: readonly Uint8Array[]) => {
  const hash = createHash("sha256");
  for (const c of chunks) hash.update(c);
  return hash.digest("hex");
};

/** Writes DIR/checkpoint.ckpt, replacing the previous one only once the new one is complete on disk. */
export function writeCheckpoint(dir: string, state: TrainState, meta: CheckpointMeta): void {
  const weights = packTensors(Object.entries(state.weights));
  const slots = packTensors(Object.entries(state.optimizer.slots));
  const blob = [...weights.chunks, ...slots.chunks];
  const header: CheckpointHeader = {
    nnc: VERSION,
    writtenAt: new Date().toISOString(),
    fingerprint: meta.fingerprint,
    epochsDone: state.epochsDone,
    history: state.history,
    optimizerStep: state.optimizer.step,
    ...(state.computedOn ? { computedOn: state.computedOn } : {}),
    weights: weights.entries,
    slots: slots.entries,
    blobSha256: sha256(blob),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(headerBytes.byteLength, 8);
  const padding = Buffer.alloc((4 - ((12 + headerBytes.byteLength) % 4)) % 4);
  writeFileAtomic(join(dir, CHECKPOINT_FILE), [prefix, headerBytes, padding, ...blob]);
}

/** Parses a checkpoint file; a string says what is wrong with it. */
function parseCheckpoint(bytes: Buffer): { header: CheckpointHeader; blob: Uint8Array } | string {
  if (bytes.byteLength < 12 || bytes.toString("latin1", 0, 8) !== MAGIC) {
    return `it is not an nnc checkpoint (it does not start with ${MAGIC})`;
  }
  const length = bytes.readUInt32LE(8);
  if (12 + length > bytes.byteLength) return `its header runs past the end of the file (cut short?)`;
  let header: CheckpointHeader;
  try {
    header = JSON.parse(bytes.toString("utf8", 12, 12 + length)) as CheckpointHeader;
  } catch (e) {
    return `its header is not valid JSON (${(e as Error).message})`;
  }
  const start = 12 + length + ((4 - ((12 + length) % 4)) % 4);
  const blob = bytes.subarray(start);
  if (!Array.isArray(header.weights) || !Array.isArray(header.slots) || !header.fingerprint?.parts) {
    return "its header lacks the weights, slots or fingerprint";
  }
  if (sha256([blob]) !== header.blobSha256)
    return "its weights do not match their checksum (damaged or cut short)";
  return { header, blob };
}

/**
 * The TrainState to resume from DIR, if the checkpoint there was written for the same program, settings, data
 * and seed (E602 otherwise, naming what changed).
 */
export function readCheckpoint(dir: string, expected: Fingerprint): TrainState {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) {
    return fail("E602", {
      dir,
      detail: `no checkpoint there (${CHECKPOINT_FILE} is written after each finished epoch)`,
    });
  }
  const parsed = parseCheckpoint(readFileSync(file));
  if (typeof parsed === "string")
    return fail("E602", { dir, detail: `${CHECKPOINT_FILE} is damaged: ${parsed}` });
  const { header, blob } = parsed;
  // The same fingerprint, or one that differs only in a lower learning rate (resumeCheck, fingerprint.ts).
  const resumable = resumeCheck(header.fingerprint, expected);
  if (!resumable.ok) {
    return fail(
      "E602",
      {
        dir,
        detail: `the run was trained with other settings: ${resumable.changes.join("; ") || "the fingerprint differs"}`,
      },
      { help: "train from scratch instead: drop --resume and pass --force, or choose another --out" },
    );
  }
  // The history goes on with this run's epochs, so it says from where the rate was lowered.
  const lowered = resumable.lowerLr;
  const notes = lowered
    ? [
        ...(header.history.notes ?? []),
        `learning rate ${lowered.to} from epoch ${header.epochsDone + 1} on (lowered from ${lowered.from} on --resume)`,
      ]
    : header.history.notes;
  const unpacked = unpackTensors([...header.weights, ...header.slots], blob);
  if ("problem" in unpacked)
    return fail("E602", { dir, detail: `${CHECKPOINT_FILE} is damaged: it ${unpacked.problem}` });
  const pick = (entries: TensorEntry[]): Record<string, WeightData> =>
    Object.fromEntries(entries.map((e) => [e.name, unpacked.tensors.get(e.name)!]));
  return {
    epochsDone: header.epochsDone,
    history: { ...header.history, ...(notes ? { notes } : {}) },
    weights: pick(header.weights),
    optimizer: { step: header.optimizerStep, slots: pick(header.slots) },
    ...(header.computedOn ? { computedOn: header.computedOn } : {}),
  };
}
