// Op `batchnorm`: batch normalization over the last (channel) axis, Keras conventions. The formula, the
// moving-average rule and the population statistics are written once, on batchNormTraining
// (src/lower/batchnorm.ts); this module holds what the front end and the Keras export need.
import { Type, type Static } from "@sinclair/typebox";
import { literals, nodeSchema } from "../ir/common.ts";
import { channelsOf, cls, kerasCommon, type OpDefinition } from "./op.ts";
import { optionUnlessDefault, roundFloat, statement, type ImportedStatement } from "./keras-import.ts";
import { affineOptions, affineParams, affineWeights, readAffineConfig } from "./normalization.ts";
import { layerSignature, num, oneOf } from "./signature.ts";

export const schema = nodeSchema(
  "batchnorm",
  {
    momentum: Type.Number({
      minimum: 0,
      maximum: 1,
      description: "Keras convention: moving = momentum * moving + (1 - momentum) * batch",
    }),
    epsilon: Type.Number({ exclusiveMinimum: 0 }),
    center: Type.Boolean({ description: "learn beta" }),
    scale: Type.Boolean({ description: "learn gamma" }),
    variance: literals(
      ["biased", "unbiased"],
      "batch variance that feeds the moving variance: biased (Keras 3, tfjs) or unbiased (PyTorch)",
    ),
  },
  "batch normalization over the last (channel) axis",
);
export type BatchNormNode = Static<typeof schema>;

export const batchnorm: OpDefinition<BatchNormNode> = {
  op: "batchnorm",
  schema,
  signatures: [
    layerSignature(
      "batchnorm",
      "batch normalization over the last (channel) axis, Keras conventions",
      [],
      [
        {
          name: "momentum",
          type: num({ min: 0, max: 1 }),
          doc: "moving = momentum * moving + (1 - momentum) * batch (Keras convention)",
          default: 0.99,
          field: "momentum",
        },
        ...affineOptions,
        {
          name: "variance",
          type: oneOf(["biased", "unbiased"]),
          doc: "batch variance feeding the moving variance: biased (Keras, tfjs) or unbiased (PyTorch)",
          default: "biased",
          field: "variance",
        },
      ],
    ),
  ],
  build: (_sig, arg) => ({
    momentum: arg<number>("momentum"),
    epsilon: arg<number>("epsilon"),
    center: arg<boolean>("center"),
    scale: arg<boolean>("scale"),
    variance: arg<"biased" | "unbiased">("variance"),
  }),
  keras: { base: "batch_normalization", className: "BatchNormalization" },
  arity: "one",
  infer(node, [x]) {
    // gamma (scale) and beta (center) train; the moving mean and variance do not.
    const channels = channelsOf(x!.shape);
    return {
      shape: x!.shape,
      params: { trainable: affineParams(node, channels), nonTrainable: 2 * channels },
    };
  },
  // Differs from Keras: nnc may feed the moving variance with the unbiased batch variance (PyTorch's
  // convention). That changes only training; inference reads the stored moving statistics, as Keras does.
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    axis: -1,
    momentum: node.momentum,
    epsilon: node.epsilon,
    center: node.center,
    scale: node.scale,
    beta_initializer: cls("Zeros"),
    gamma_initializer: cls("Ones"),
    moving_mean_initializer: cls("Zeros"),
    moving_variance_initializer: cls("Ones"),
    beta_regularizer: null,
    gamma_regularizer: null,
    beta_constraint: null,
    gamma_constraint: null,
  }),
  kerasWeights(node, [x]) {
    const channels = channelsOf(x!);
    return [
      ...affineWeights(node, channels),
      { suffix: "moving_mean", shape: [channels] },
      { suffix: "moving_variance", shape: [channels] },
    ];
  },
  fromKeras: {
    classNames: ["BatchNormalization"],
    read(r) {
      const options: ImportedStatement["options"] = [];
      const momentum = r.number("momentum", 0.99, (m) =>
        m >= 0 && m <= 1 ? undefined : "momentum is in [0, 1]",
      );
      optionUnlessDefault(options, "momentum", roundFloat(momentum), 0.99);
      readAffineConfig(r, options);
      r.expect("renorm", [false], "nnc has no batch renormalization");
      r.expect("virtual_batch_size", [null], "nnc has no ghost batch normalization (virtual_batch_size)");
      r.expect("adjustment", [null], "nnc has no adjustment function");
      return {
        ...statement("batchnorm", [], options),
        ...(r.lastAxisIndex === undefined ? {} : { lastAxis: r.lastAxisIndex }),
      };
    },
  },
  // The normalized input, the output, and their gradients.
  trainingCopies: () => 4,
  // At inference, with the stored (population) statistics: BatchNormalization (training_mode 0) over [N, C] or
  // NCHW, whose channel axis is 1; for other ranks nnc's last axis is not ONNX's, so the same affine
  // y = x s + (beta - mean s), s = gamma / sqrt(var + epsilon) per channel, as Mul and Add on the last axis.
  // (The export folds a batchnorm into the dense or conv2d before it where nnc's inference export does.)
  onnx(node, ctx) {
    const shape = ctx.outputShape();
    const channels = channelsOf(shape);
    const filled = (value: number) => new Float32Array(channels).fill(value);
    const gamma = node.scale ? ctx.weight("gamma").data : filled(1);
    const beta = node.center ? ctx.weight("beta").data : filled(0);
    const mean = ctx.weight("moving_mean").data;
    const variance = ctx.weight("moving_variance").data;
    if (shape.length === 1 || shape.length === 3) {
      const x = ctx.input(0, shape.length === 3 ? "nchw" : "nnc");
      const name = ctx.emit(
        "BatchNormalization",
        [
          x.name,
          ctx.constant("gamma", [channels], gamma),
          ctx.constant("beta", [channels], beta),
          ctx.constant("moving_mean", [channels], mean),
          ctx.constant("moving_variance", [channels], variance),
        ],
        { epsilon: { float: node.epsilon } },
      );
      return { name, layout: x.layout };
    }
    const s = Array.from({ length: channels }, (_, c) => gamma[c]! / Math.sqrt(variance[c]! + node.epsilon));
    const t = s.map((sc, c) => beta[c]! - mean[c]! * sc);
    const x = ctx.input(0, "nnc").name;
    const scaled = ctx.emit("Mul", [x, ctx.constant("scale", [channels], s)]);
    return { name: ctx.emit("Add", [scaled, ctx.constant("shift", [channels], t)]), layout: "nnc" };
  },
};
