// The op registry: every op nnc knows, in the order docs list them. Phases look an op up here (opOf) rather
// than switch on its name. Adding an op is its module in this folder and a line below, and its kernel module
// (src/kernels/<op>.ts) and a line in that registry: the IR's node union and JSON Schema (src/ir/schema.ts),
// the docs, the editor grammar, completion and the Keras names all come from here.
import { activation } from "./activation.ts";
import { add } from "./add.ts";
import { average } from "./average.ts";
import { avgpool } from "./avgpool.ts";
import { avgpool1d } from "./avgpool1d.ts";
import { batchnorm } from "./batchnorm.ts";
import { concat } from "./concat.ts";
import { conv1d } from "./conv1d.ts";
import { conv2d } from "./conv2d.ts";
import { conv2dTranspose } from "./conv2d_transpose.ts";
import { depthwiseConv2d } from "./depthwise_conv2d.ts";
import { cropping2d } from "./cropping2d.ts";
import { dense } from "./dense.ts";
import { dropout } from "./dropout.ts";
import { spatialDropout } from "./spatial_dropout.ts";
import { gaussianNoise } from "./gaussian_noise.ts";
import { flatten } from "./flatten.ts";
import { globalavgpool } from "./globalavgpool.ts";
import { globalavgpool1d } from "./globalavgpool1d.ts";
import { globalmaxpool } from "./globalmaxpool.ts";
import { globalmaxpool1d } from "./globalmaxpool1d.ts";
import { input } from "./input.ts";
import { layernorm } from "./layernorm.ts";
import { maximum } from "./maximum.ts";
import { maxpool } from "./maxpool.ts";
import { maxpool1d } from "./maxpool1d.ts";
import { reshape } from "./reshape.ts";
import { separableConv2d } from "./separable_conv2d.ts";
import { subtract } from "./subtract.ts";
import { minimum } from "./minimum.ts";
import { multiply } from "./multiply.ts";
import { prelu } from "./prelu.ts";
import type { NodeLike, OpDefinition } from "./op.ts";
import { upsampling2d } from "./upsampling2d.ts";
import { zeropadding2d } from "./zeropadding2d.ts";

export const OPS = [
  input,
  flatten,
  dense,
  batchnorm,
  activation,
  prelu,
  dropout,
  spatialDropout,
  gaussianNoise,
  conv1d,
  conv2d,
  depthwiseConv2d,
  separableConv2d,
  conv2dTranspose,
  maxpool,
  avgpool,
  globalavgpool,
  globalmaxpool,
  maxpool1d,
  avgpool1d,
  globalavgpool1d,
  globalmaxpool1d,
  layernorm,
  add,
  concat,
  multiply,
  average,
  maximum,
  minimum,
  subtract,
  upsampling2d,
  zeropadding2d,
  cropping2d,
  reshape,
] as const;

const byOp = new Map<string, OpDefinition<NodeLike>>(
  OPS.map((o) => [o.op, o as unknown as OpDefinition<NodeLike>]),
);
const bySignature = new Map<string, OpDefinition<NodeLike>>(
  OPS.flatMap((o) => o.signatures.map((s) => [s.name, o as unknown as OpDefinition<NodeLike>] as const)),
);

const byKerasClass = new Map<string, OpDefinition<NodeLike>>(
  OPS.flatMap((o) =>
    (o.fromKeras?.classNames ?? []).map((c) => [c, o as unknown as OpDefinition<NodeLike>] as const),
  ),
);

/** nnc import: the op a Keras layer class is (`Dense` -> dense, `ReLU` -> activation), if nnc has it. */
export const opForKerasClass = (className: string): OpDefinition<NodeLike> | undefined =>
  byKerasClass.get(className);

/** The Keras classes nnc imports, for "supported are ..." messages. */
export const KERAS_IMPORT_CLASSES: readonly string[] = [...byKerasClass.keys()];

/** The definition of a node's op (the schema guarantees every node's op is registered). */
export function opOf<N extends NodeLike>(node: N | string): OpDefinition<N> {
  const name = typeof node === "string" ? node : node.op;
  const def = byOp.get(name);
  if (!def) throw new Error(`internal: no op module for '${name}'`);
  return def as unknown as OpDefinition<N>;
}

/** The op a layer statement writes (`relu` writes an `activation` node). */
export const opForStatement = (statement: string): OpDefinition<NodeLike> | undefined =>
  bySignature.get(statement);

export type { OpDefinition, NodeLike } from "./op.ts";
