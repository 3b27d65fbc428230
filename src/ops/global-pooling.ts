// What the global poolings share (globalavgpool and globalmaxpool over images, globalavgpool1d and
// globalmaxpool1d over sequences): the mean or maximum over every spatial position, [batch, ...spatial,
// channels] -> [batch, channels], with its statement, shape rule, Keras config, import and ONNX rule. Their
// kernels (src/kernels/) compute the reduction.
import type { TObject } from "@sinclair/typebox";
import { statement } from "./keras-import.ts";
import {
  channelsOf,
  imageHint,
  kerasCommon,
  NO_PARAMS,
  sequenceHint,
  wrongRank,
  type NodeLike,
  type OpDefinition,
} from "./op.ts";
import { layerSignature } from "./signature.ts";

/** The global pooling op `op`: `what` (mean or maximum) over `axes` spatial axes, 2 for images, 1 for sequences. */
export function globalPoolingOp<N extends NodeLike>(
  op: N["op"],
  schema: TObject,
  what: "mean" | "maximum",
  keras: { base: string; className: string },
  axes: 1 | 2,
): OpDefinition<N> {
  const image = axes === 2;
  const doc = image
    ? `${what} over height and width: [batch, H, W, C] -> [batch, C]`
    : `${what} over the steps: [batch, steps, C] -> [batch, C]`;
  return {
    op,
    schema,
    signatures: [layerSignature(op, doc)],
    build: () => ({}) as ReturnType<OpDefinition<N>["build"]>,
    keras,
    arity: "one",
    infer(node, [x]) {
      if (x!.shape.length !== axes + 2) {
        return image
          ? wrongRank(node, x!.shape, "rank-4 [batch, height, width, channels]", imageHint(x!))
          : wrongRank(node, x!.shape, "rank-3 [batch, steps, channels]", sequenceHint(x!));
      }
      return { shape: [null, channelsOf(x!.shape)], params: NO_PARAMS };
    },
    kerasConfig: (node) => ({ ...kerasCommon(node), data_format: "channels_last" }),
    kerasWeights: () => [],
    fromKeras: {
      classNames: [keras.className],
      read(r) {
        r.channelsLast();
        r.expect("keepdims", [false], `nnc's ${op} outputs [batch, channels] (keepdims false)`);
        return statement(op, []);
      },
    },
    // Images: GlobalAveragePool / GlobalMaxPool over NCHW keep H and W as 1x1, [N, C, 1, 1], flattened to
    // nnc's [N, C]. Sequences: ReduceMean / ReduceMax over the steps axis of nnc's [N, steps, C].
    onnx(_node, ctx) {
      if (!image) {
        const reduce = what === "mean" ? "ReduceMean" : "ReduceMax";
        return {
          name: ctx.emit(reduce, [ctx.input(0, "nnc").name], { axes: [1], keepdims: 0 }),
          layout: "nnc",
        };
      }
      const global = what === "mean" ? "GlobalAveragePool" : "GlobalMaxPool";
      const pooled = ctx.emit(global, [ctx.input(0, "nchw").name]);
      return { name: ctx.emit("Flatten", [pooled], { axis: 1 }), layout: "nnc" };
    },
  };
}
