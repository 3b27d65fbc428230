// Data-parallel training: what the main thread hands each other training thread when it starts.
import type { Model, Train } from "../../ir/schema.ts";
import type { BackendName, WeightData } from "../../runtime/types.ts";
import type { ExchangeBuffers } from "./exchange.ts";

export interface ThreadSetup {
  rank: number;
  exchange: ExchangeBuffers;
  /** The batch's rows (floats, sample after sample) and labels: each thread reads its share. */
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  model: Model;
  /** Train settings with every override applied (loss, optimizer, seed for dropout). */
  train: Train;
  backend: BackendName;
  /** The main thread's weights and optimizer state when training starts (fresh or resumed). */
  weights: Record<string, WeightData>;
  optimizer: { step: number; slots: Record<string, WeightData> };
  /** The training loss's weight per class index, when the settings weigh classes. */
  classWeights?: number[];
}

export type FromThread = { type: "ready" } | { type: "failed"; message: string };
