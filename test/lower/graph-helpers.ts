// Test helpers for graph models (residuals, add, concat) written as IR JSON and checked through compileIR, so
// the tests of lowering and training do not depend on the `.nn` syntax for them. Small node factories with
// Keras-style defaults; `residualBlock` and `projectionBlock` are the two ResNet blocks.
import { compileIR } from "../../src/compile.ts";
import type { Program } from "../../src/ir/schema.ts";

type Node = { op: string; name: string; inputs: string[]; [field: string]: unknown };
type Act = "linear" | "relu" | "sigmoid" | "tanh" | "softmax" | "elu" | "gelu";

const GLOROT = { name: "glorot_uniform", scale: 1 };

export const node = {
  input: (name: string, shape: number[]): Node => ({ op: "input", name, inputs: [], shape }),
  dense: (name: string, from: string, units: number, activation: Act = "linear", useBias = true): Node => ({
    op: "dense",
    name,
    inputs: [from],
    units,
    activation,
    useBias,
    kernelInitializer: GLOROT,
  }),
  conv2d: (
    name: string,
    from: string,
    filters: number,
    o: {
      kernel?: number;
      stride?: number;
      padding?: "same" | "valid";
      activation?: Act;
      useBias?: boolean;
    } = {},
  ): Node => ({
    op: "conv2d",
    name,
    inputs: [from],
    filters,
    kernelSize: [o.kernel ?? 3, o.kernel ?? 3],
    strides: [o.stride ?? 1, o.stride ?? 1],
    padding: o.padding ?? "same",
    activation: o.activation ?? "linear",
    useBias: o.useBias ?? true,
    kernelInitializer: GLOROT,
  }),
  batchnorm: (name: string, from: string, momentum = 0.5): Node => ({
    op: "batchnorm",
    name,
    inputs: [from],
    momentum,
    epsilon: 0.001,
    center: true,
    scale: true,
    variance: "biased",
  }),
  activation: (name: string, from: string, activation: Act): Node => ({
    op: "activation",
    name,
    inputs: [from],
    activation,
  }),
  relu: (name: string, from: string): Node => node.activation(name, from, "relu"),
  add: (name: string, inputs: string[]): Node => ({ op: "add", name, inputs }),
  concat: (name: string, inputs: string[], axis = -1): Node => ({ op: "concat", name, inputs, axis }),
  flatten: (name: string, from: string): Node => ({ op: "flatten", name, inputs: [from] }),
  dropout: (name: string, from: string, rate: number): Node => ({
    op: "dropout",
    name,
    inputs: [from],
    rate,
  }),
  maxpool: (name: string, from: string, size = 2): Node => ({
    op: "maxpool",
    name,
    inputs: [from],
    poolSize: [size, size],
    strides: [size, size],
    padding: "valid",
  }),
  globalavgpool: (name: string, from: string): Node => ({ op: "globalavgpool", name, inputs: [from] }),
};

/**
 * ResNet's basic block on `from` (which has `filters` channels): conv2d -> batchnorm -> relu -> conv2d ->
 * batchnorm, plus the identity skip, add, relu. Returns its nodes; the last is named `${prefix}_out`.
 */
export function residualBlock(prefix: string, from: string, filters: number): Node[] {
  const p = (s: string) => `${prefix}_${s}`;
  return [
    node.conv2d(p("conv1"), from, filters),
    node.batchnorm(p("bn1"), p("conv1")),
    node.relu(p("relu1"), p("bn1")),
    node.conv2d(p("conv2"), p("relu1"), filters),
    node.batchnorm(p("bn2"), p("conv2")),
    node.add(p("add"), [p("bn2"), from]),
    node.relu(p("out"), p("add")),
  ];
}

/**
 * The block that changes shape: the body's first conv2d at stride 2 to `filters` channels, the skip projected by
 * a 1x1 conv2d at stride 2 without bias and a batchnorm.
 */
export function projectionBlock(prefix: string, from: string, filters: number): Node[] {
  const p = (s: string) => `${prefix}_${s}`;
  return [
    node.conv2d(p("conv1"), from, filters, { stride: 2 }),
    node.batchnorm(p("bn1"), p("conv1")),
    node.relu(p("relu1"), p("bn1")),
    node.conv2d(p("conv2"), p("relu1"), filters),
    node.batchnorm(p("bn2"), p("conv2")),
    node.conv2d(p("proj"), from, filters, { kernel: 1, stride: 2, useBias: false }),
    node.batchnorm(p("proj_bn"), p("proj")),
    node.add(p("add"), [p("bn2"), p("proj_bn")]),
    node.relu(p("out"), p("add")),
  ];
}

export interface TrainIR {
  batch?: number;
  epochs?: number;
  seed?: number;
  optimizer?: Record<string, unknown>;
  bnstats?: "exact" | "ema";
}

/** A checked program of one model made of `layers`; throws with the diagnostics when it does not check. */
export function graphProgram(layers: Node[], train: TrainIR = {}, name = "graph"): Program {
  const ir = {
    irVersion: 2,
    models: [{ name, layers }],
    train: {
      data: { source: "mnist" },
      optimizer: train.optimizer ?? { type: "adam", lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      loss: { type: "auto" },
      batch: train.batch ?? 16,
      epochs: train.epochs ?? 1,
      seed: train.seed ?? 0,
      bnstats: { mode: train.bnstats ?? "exact" },
      shuffle: true,
    },
    experiments: [],
  };
  const r = compileIR(JSON.stringify(ir));
  if (!r.ok || !r.program) throw new Error(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n"));
  return r.program;
}

/** The graph models the tests train: name, nodes, per-sample input shape. */
export const GRAPHS: Array<[string, Node[], number[]]> = [
  [
    "add of two dense branches",
    [
      node.input("x", [6]),
      node.dense("a", "x", 8, "relu"),
      node.dense("b", "x", 8, "tanh"),
      node.add("sum", ["a", "b"]),
      node.dense("out", "sum", 3, "softmax"),
    ],
    [6],
  ],
  [
    "concat along features [N, C], the input among the joined",
    [
      node.input("x", [6]),
      node.dense("a", "x", 5, "relu"),
      node.dense("b", "x", 4, "sigmoid"),
      node.concat("joined", ["a", "b", "x"], 1),
      node.dense("out", "joined", 3, "softmax"),
    ],
    [6],
  ],
  [
    "concat along channels (NHWC)",
    [
      node.input("x", [6, 6, 2]),
      node.conv2d("wide", "x", 4, { activation: "relu" }),
      node.conv2d("narrow", "x", 3, { kernel: 1 }),
      node.concat("joined", ["wide", "narrow"]),
      node.maxpool("pool", "joined"),
      node.flatten("flat", "pool"),
      node.dense("out", "flat", 3, "softmax"),
    ],
    [6, 6, 2],
  ],
  [
    "residual block with batchnorm, identity skip, global average pooling",
    [
      node.input("x", [6, 6, 1]),
      node.conv2d("stem", "x", 4),
      node.batchnorm("stem_bn", "stem"),
      node.relu("stem_relu", "stem_bn"),
      ...residualBlock("block", "stem_relu", 4),
      node.globalavgpool("gap", "block_out"),
      node.dense("out", "gap", 3, "softmax"),
    ],
    [6, 6, 1],
  ],
  [
    "residual block with a projection shortcut (1x1 conv2d stride 2 + batchnorm)",
    [
      node.input("x", [6, 6, 2]),
      node.conv2d("stem", "x", 4, { activation: "relu" }),
      ...projectionBlock("block", "stem", 8),
      node.flatten("flat", "block_out"),
      node.dense("out", "flat", 3, "softmax"),
    ],
    [6, 6, 2],
  ],
  [
    // dense `d` feeds the batchnorm and the add: its bias is not absorbed; the batchnorm feeds the relu and the
    // add: the relu is not fused into it.
    "a producer with two consumers: no absorbed bias, no fused relu",
    [
      node.input("x", [6]),
      node.dense("d", "x", 8),
      node.batchnorm("bn", "d"),
      node.relu("r", "bn"),
      node.add("sum", ["r", "bn", "d"]),
      node.dense("out", "sum", 3, "softmax"),
    ],
    [6],
  ],
];
