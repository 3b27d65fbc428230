// Checkpoints: a TrainState (weights, optimizer slots and step, epochs done, history) <-> one file,
// DIR/checkpoint.ckpt, rewritten atomically after every epoch so a killed run resumes from its last finished
// epoch, and refused (E602) when the program, settings, data or seed changed since.
//
// File layout (all integers little-endian):
//   bytes 0..7   "NNCCKPT1" (format and version)
//   bytes 8..11  uint32 H: length of the header in bytes
//   H bytes      header, UTF-8 JSON: CheckpointHeader below
//   0..3 bytes   zero padding to a multiple of 4
//   the rest     float32 blob (blob.ts): header.weights, header.slots, then header.best (early stopping's best
//                epoch's weights, named "best:NAME", when restore=true), back to back; its sha256 is in
//                the header, so a damaged file is told apart from a valid one.
// This file writes checkpoints; checkpoint-read.ts reads them back, as untrusted data.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { History, TrainState, WeightData } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { writeFileAtomic } from "./atomic.ts";
import { packTensors, type TensorEntry } from "./blob.ts";
import type { Fingerprint } from "./fingerprint.ts";

export const CHECKPOINT_FILE = "checkpoint.ckpt";
/** How early stopping's best weights are named in the blob, apart from the current ones. */
export const BEST_PREFIX = "best:";
const MAGIC = "NNCCKPT1"; // read back in checkpoint-read.ts

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
  schedule?: TrainState["schedule"];
  scheduleEpochs?: number;
  earlyStop?: Omit<NonNullable<TrainState["earlyStop"]>, "weights">;
  best?: TensorEntry[];
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
  const { weights: bestWeights, ...earlyStop } = state.earlyStop ?? {};
  const best = bestWeights
    ? packTensors(
        Object.entries(bestWeights).map(([name, w]) => [BEST_PREFIX + name, w] as [string, WeightData]),
      )
    : undefined;
  const blob = [...weights.chunks, ...slots.chunks, ...(best?.chunks ?? [])];
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
    ...(state.schedule ? { schedule: state.schedule } : {}),
    ...(state.scheduleEpochs !== undefined ? { scheduleEpochs: state.scheduleEpochs } : {}),
    ...(state.earlyStop ? { earlyStop: earlyStop as NonNullable<CheckpointHeader["earlyStop"]> } : {}),
    ...(best ? { best: best.entries } : {}),
    blobSha256: sha256(blob),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(headerBytes.byteLength, 8);
  const padding = Buffer.alloc((4 - ((12 + headerBytes.byteLength) % 4)) % 4);
  writeFileAtomic(join(dir, CHECKPOINT_FILE), [prefix, headerBytes, padding, ...blob]);
}
