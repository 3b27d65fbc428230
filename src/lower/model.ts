// Lowering: a checked IR program + a model name -> a CompiledModel (src/runtime/types.ts): the network with
// Keras-named, seeded weights, inference, evaluation, and the training loop of src/train/.
import * as tf from "@tensorflow/tfjs-core";
import { checkLabels, outputClasses } from "../data/labels.ts";
import type { Dataset, Split } from "../data/types.ts";
import { fail } from "../diagnostics/index.ts";
import { lossMisfit, lossTypeFor, outputActivation } from "../ir/loss-rules.ts";
import type { Program } from "../ir/schema.ts";
import { withTrainOverrides } from "../ir/train-overrides.ts";
import { requireWeightsMemory } from "../ir/training-memory.ts";
import type {
  BackendName,
  CompiledModel,
  Evaluation,
  FitOptions,
  History,
  WeightData,
} from "../runtime/types.ts";
import { evaluateSplit } from "../train/evaluate.ts";
import { fitNetwork } from "../train/fit.ts";
import { Random } from "../util/random.ts";
import { lowerLoss, modelLoss } from "./loss.ts";
import { Network } from "./network.ts";

export interface BuildOptions {
  /** Which model of the program; default the first. */
  model?: string;
  /** Initialization seed; default the program's train.seed. */
  seed?: number;
  /** The backend the caller made active (runtime/backend.ts selectBackend); checked, not switched. */
  backend: BackendName;
}

/**
 * Lowers one model of a checked program. Kernels use the IR's initializers unless `train.init` overrides them
 * all. Every op runs in NHWC; batch normalization is documented on `batchNormTraining` (batchnorm.ts).
 */
export function buildModel(program: Program, options: BuildOptions): CompiledModel {
  const model =
    options.model === undefined ? program.models[0] : program.models.find((m) => m.name === options.model);
  if (!model) {
    fail("E305", { name: options.model ?? "", known: program.models.map((m) => m.name).join(", ") });
  }
  if (model.layers.some((l, i) => i > 0 && !l.outputShape)) {
    throw new Error(`internal: model '${model.name}' is not checked (layers without outputShape)`);
  }
  if (tf.getBackend() !== options.backend) {
    throw new Error(
      `internal: model built for backend '${options.backend}' but tfjs runs '${tf.getBackend()}'; select it first`,
    );
  }
  requireWeightsMemory(model, options.backend); // E638 before any weight is allocated
  const seed = options.seed ?? program.train.seed;
  const net = new Network(model, seed, program.train.init);
  return new LoweredModel(program, net, options.backend);
}

class LoweredModel implements CompiledModel {
  constructor(
    readonly program: Program,
    readonly net: Network,
    readonly backend: BackendName,
  ) {}

  get model() {
    return this.net.model;
  }

  private loss() {
    return lowerLoss(this.net, modelLoss(this.net.model, this.program.train.loss));
  }

  predict(x: tf.Tensor, options: { training?: boolean } = {}): tf.Tensor {
    const training = options.training === true;
    const seed = this.net.seed;
    // Training-mode predictions draw dropout masks from a fixed stream: there is no (epoch, step) to key them on.
    const dropoutRng = (layer: string) => new Random(seed).fork(`predict:dropout:${layer}`);
    return tf.tidy(() => {
      const shaped =
        x.rank === this.net.inputShape.length + 1 ? x : tf.reshape(x, [-1, ...this.net.inputShape]);
      return this.net.forward(shaped, { training, ...(training ? { dropoutRng } : {}) });
    });
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<History> {
    // A model checked without a train block was not held to a loss (a feature extractor): training is.
    const model = this.net.model;
    const loss = withTrainOverrides(this.program.train, options.train).loss;
    const output = model.layers[model.layers.length - 1]!;
    const type = lossTypeFor(model, loss);
    const problem = lossMisfit(type, outputActivation(model), output.outputShape ?? [], model.name);
    if (problem) {
      fail("E306", {
        loss: type,
        detail: loss.type === "auto" ? `(picked by loss auto) ${problem}` : problem,
      });
    }
    // A label past the output's units trains as an all-zero target, silently: every caller is refused (E506).
    const classes = outputClasses(this.net.model)!;
    checkLabels(data.train, classes, data.source);
    checkLabels(data.validation, classes, data.source);
    return fitNetwork(this.net, this.program.train, data, options);
  }

  evaluate(split: Split): Evaluation {
    return evaluateSplit(this.net, this.loss(), split);
  }

  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const w of this.net.weights) out[w.name] = w.variable;
    return out;
  }

  setWeights(weights: Record<string, tf.Tensor | WeightData | number[] | Float32Array>): void {
    for (const [name, value] of Object.entries(weights)) {
      const w = this.net.weight(name);
      if (!w)
        throw new Error(
          `no weight named '${name}' (weights: ${this.net.weights.map((e) => e.name).join(", ")})`,
        );
      tf.tidy(() => {
        const t =
          value instanceof tf.Tensor
            ? value
            : tf.tensor(
                // Copied: on the cpu backend a tensor would alias the caller's array.
                Float32Array.from(Array.isArray(value) || value instanceof Float32Array ? value : value.data),
                w.variable.shape,
                "float32",
              );
        if (!tf.util.arraysEqual(t.shape, w.variable.shape)) {
          throw new Error(`weight '${name}' has shape [${w.variable.shape}], got [${t.shape}]`);
        }
        w.variable.assign(t.dtype === "float32" ? t : tf.cast(t, "float32"));
      });
    }
  }

  dispose(): void {
    this.net.dispose();
  }
}
