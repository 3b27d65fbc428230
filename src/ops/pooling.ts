// What the window poolings share (maxpool and avgpool over images, maxpool1d and avgpool1d over sequences): a
// pooling window's node fields, statement, shape rule, Keras config, import and ONNX rule. They differ in the
// reduction, which is their kernels' business (src/kernels/), and in the number of spatial axes.
import type { Static, TObject } from "@sinclair/typebox";
import { nodeSchema, PaddingSchema, Pair, PositiveInt } from "../ir/common.ts";
import { onnxPads } from "./onnx.ts";
import { diagnostic } from "../diagnostics/index.ts";
import { argumentAt, kerasCommon, NO_PARAMS, type CommonField, type OpDefinition } from "./op.ts";
import { optionUnlessDefault, statement, type ImportedStatement } from "./keras-import.ts";
import { int, layerSignature, windowOptions } from "./signature.ts";
import { windowShape } from "./window.ts";

const poolProps = {
  poolSize: Pair("[height, width]"),
  strides: Pair("[height, width]"),
  padding: PaddingSchema,
};
const pool1dProps = {
  poolSize: PositiveInt("window length, in steps"),
  strides: PositiveInt("step of the window, in steps"),
  padding: PaddingSchema,
};
export const maxpoolSchema = nodeSchema("maxpool", poolProps, "2-D max pooling over NHWC input");
export const avgpoolSchema = nodeSchema("avgpool", poolProps, "2-D average pooling over NHWC input");
export const maxpool1dSchema = nodeSchema(
  "maxpool1d",
  pool1dProps,
  "1-D max pooling over [batch, steps, channels] input",
);
export const avgpool1dSchema = nodeSchema(
  "avgpool1d",
  pool1dProps,
  "1-D average pooling over [batch, steps, channels] input",
);
export type MaxPoolNode = Static<typeof maxpoolSchema>;
export type AvgPoolNode = Static<typeof avgpoolSchema>;
export type MaxPool1dNode = Static<typeof maxpool1dSchema>;
export type AvgPool1dNode = Static<typeof avgpool1dSchema>;
type PoolNode = MaxPoolNode | AvgPoolNode | MaxPool1dNode | AvgPool1dNode;

/** A pooling node's window and strides, one entry per spatial axis (a 1-D pooling holds plain integers). */
export const poolWindow = (node: PoolNode): { window: number[]; strides: number[] } => ({
  window: [node.poolSize].flat(),
  strides: [node.strides].flat(),
});

/** A pooling op over `axes` spatial axes: 2 for images (NHWC), 1 for sequences ([batch, steps, channels]). */
export function poolingOp<N extends PoolNode>(
  op: N["op"],
  schema: TObject,
  what: "max" | "average",
  keras: { base: string; className: string },
  axes: 1 | 2,
): OpDefinition<N> {
  const image = axes === 2;
  const input = image ? "NHWC input" : "[batch, steps, channels] input";
  const pool = image
    ? { type: { kind: "pair" } as const, doc: "window, 2 or 2x2" }
    : { type: int(), doc: "window, in steps" };
  return {
    op,
    schema,
    signatures: [
      layerSignature(
        op,
        `${axes}-D ${what} pooling over ${input}`,
        [{ name: "POOL", ...pool, required: true, field: "poolSize" }],
        image
          ? windowOptions("step of the window, S or SxS (default: the pool size)")
          : windowOptions("step of the window, in steps (default: the pool size)", int()),
      ),
    ],
    build: (_sig, arg) => {
      const poolSize = arg<number | [number, number]>("POOL");
      const copy = Array.isArray(poolSize) ? [...poolSize] : poolSize;
      return {
        poolSize,
        strides: arg<number | [number, number] | undefined>("stride") ?? copy,
        padding: arg<"valid" | "same">("padding"),
      } as Omit<N, CommonField>;
    },
    keras,
    arity: "one",
    // A window moved farther than its size never reads the values in between (Keras accepts it silently).
    lints(node) {
      const { window, strides } = poolWindow(node);
      if (!strides.some((s, axis) => s > window[axis]!)) return [];
      const p = { op: node.op, stride: strides.join("x"), window: window.join("x") };
      return [diagnostic("W424", p, argumentAt(node, "strides"))];
    },
    infer(node, [x]) {
      const { window, strides } = poolWindow(node);
      const out = windowShape({ ...node, strides }, x!, window, (c) => c);
      return "error" in out ? out : { shape: out.shape, params: NO_PARAMS };
    },
    kerasConfig: (node) => {
      const { window, strides } = poolWindow(node);
      return {
        ...kerasCommon(node),
        pool_size: window,
        strides,
        padding: node.padding,
        data_format: "channels_last",
      };
    },
    kerasWeights: () => [],
    fromKeras: {
      classNames: [keras.className],
      read(r) {
        const options: ImportedStatement["options"] = [];
        let size: string;
        if (image) {
          const [ph, pw] = r.pair("pool_size", [2, 2]);
          const [sh, sw] = r.pair("strides", [ph, pw]);
          if (sh !== ph || sw !== pw) options.push(["stride", sh === sw ? sh : `${sh}x${sw}`]);
          size = `${ph}x${pw}`;
        } else {
          const k = r.single("pool_size", 2);
          optionUnlessDefault(options, "stride", r.single("strides", k), k);
          size = `${k}`;
        }
        optionUnlessDefault(options, "padding", r.oneOf("padding", ["valid", "same"], "valid"), "valid");
        r.channelsLast();
        return statement(op, [size], options);
      },
    },
    // Over NCHW (a sequence: [N, C, steps]). TensorFlow's 'same' pads max pooling with -infinity and leaves the
    // padding out of an average's count: ONNX MaxPool's padding and AveragePool's count_include_pad=0 are the
    // same rules.
    onnx(node, ctx) {
      const { window, strides } = poolWindow(node);
      const type = what === "max" ? "MaxPool" : "AveragePool";
      const attributes = {
        kernel_shape: window,
        strides,
        pads: onnxPads(ctx.inputShape(0), window, strides, node.padding),
        ...(what === "max" ? {} : { count_include_pad: 0 }),
      };
      if (image) return { name: ctx.emit(type, [ctx.input(0, "nchw").name], attributes), layout: "nchw" };
      const perm = { perm: [0, 2, 1] };
      const channelsFirst = ctx.emit("Transpose", [ctx.input(0, "nnc").name], perm);
      return {
        name: ctx.emit("Transpose", [ctx.emit(type, [channelsFirst], attributes)], perm),
        layout: "nnc",
      };
    },
  };
}
