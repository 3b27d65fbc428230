// Training: --init-from DIR, a model's starting weights taken from a saved model folder (nnc train's, or nnc
// import --weights'), by layer name: every weight the model has (kernels, biases, batchnorm's gamma, beta and
// moving statistics) must be in the folder under the same name and shape, and the folder may hold no layer the
// model lacks, else E747 naming the layer. The folder is read as any model folder is (loadModel,
// docs/security.md).
import * as tf from "@tensorflow/tfjs-core";
import { fail } from "../diagnostics/index.ts";
import type { Model } from "../ir/schema.ts";
import type { BackendChoice, CompiledModel, WeightData } from "../runtime/types.ts";
import { kerasWeights } from "./keras.ts";
import { loadModel } from "./model.ts";

export interface InitFrom {
  dir: string;
  /** Weights taken, and the folder's input scale. */
  weights: number;
  inputScale: number;
}

const layerOf = (name: string) => name.slice(0, name.lastIndexOf("/"));

/** Sets `model`'s weights from the model folder `dir`; E747 when the folder does not fit the model. */
export async function initFrom(
  model: CompiledModel,
  ir: Model,
  dir: string,
  backend: BackendChoice,
): Promise<InitFrom> {
  const source = await loadModel(dir, { backend });
  try {
    const theirs = new Map<string, WeightData>();
    // A scope: getWeights may hand out fresh tensors (or the model's own variables, which it leaves alone).
    tf.engine().startScope();
    try {
      for (const [name, t] of Object.entries(source.getWeights())) {
        theirs.set(name, { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
      }
    } finally {
      tf.engine().endScope();
    }
    const mismatch = (detail: string): never => fail("E747", { dir, detail });
    const wanted = kerasWeights(ir);
    const ours = new Set(wanted.map((w) => layerOf(w.name)));
    for (const w of wanted) {
      const found = theirs.get(w.name);
      const layer = layerOf(w.name);
      const node = ir.layers.find((l) => l.name === layer)!;
      if (!found) {
        const has = [...theirs.keys()].some((n) => layerOf(n) === layer);
        mismatch(
          has
            ? `layer '${layer}' (${node.op}) needs ${w.name}, which the folder's '${layer}' does not have`
            : `the folder has no layer '${layer}' (${node.op}), which the model has: layers are matched by name`,
        );
      }
      if (found!.shape.join(",") !== w.shape.join(",")) {
        mismatch(
          `${w.name} is [${found!.shape.join(", ")}] in the folder, but layer '${layer}' (${node.op}) needs ` +
            `[${w.shape.join(", ")}]`,
        );
      }
    }
    const extra = [...theirs.keys()].map(layerOf).find((l) => !ours.has(l));
    if (extra) {
      mismatch(`the folder's layer '${extra}' has weights, but the model has no layer of that name`);
    }
    model.setWeights(Object.fromEntries(wanted.map((w) => [w.name, theirs.get(w.name)!])));
    return { dir, weights: wanted.length, inputScale: source.inputScale };
  } finally {
    source.dispose();
  }
}
