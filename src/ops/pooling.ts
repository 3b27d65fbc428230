// What maxpool and avgpool share: a pooling window's node fields, statement, shape rule and Keras config.
// They differ only in the reduction, which is their kernels' business (src/kernels/).
import type { Static } from "@sinclair/typebox";
import { nodeSchema, PaddingSchema, Pair } from "../ir/common.ts";
import { onnxPads } from "./onnx.ts";
import { kerasCommon, NO_PARAMS, type CommonField, type OpDefinition } from "./op.ts";
import { optionUnlessDefault, statement, type ImportedStatement } from "./keras-import.ts";
import { layerSignature, windowOptions } from "./signature.ts";
import { windowShape } from "./window.ts";

const poolProps = {
  poolSize: Pair("[height, width]"),
  strides: Pair("[height, width]"),
  padding: PaddingSchema,
};
export const maxpoolSchema = nodeSchema("maxpool", poolProps, "2-D max pooling over NHWC input");
export const avgpoolSchema = nodeSchema("avgpool", poolProps, "2-D average pooling over NHWC input");
export type MaxPoolNode = Static<typeof maxpoolSchema>;
export type AvgPoolNode = Static<typeof avgpoolSchema>;

export function poolingOp<N extends MaxPoolNode | AvgPoolNode>(
  op: N["op"],
  schema: typeof maxpoolSchema | typeof avgpoolSchema,
  what: string,
  keras: { base: string; className: string },
): OpDefinition<N> {
  return {
    op,
    schema,
    signatures: [
      layerSignature(
        op,
        `2-D ${what} pooling over NHWC input`,
        [
          {
            name: "POOL",
            type: { kind: "pair" },
            doc: "window, 2 or 2x2",
            required: true,
            field: "poolSize",
          },
        ],
        windowOptions("step of the window, S or SxS (default: the pool size)"),
      ),
    ],
    build: (_sig, arg) => {
      const poolSize = arg<[number, number]>("POOL");
      return {
        poolSize,
        strides: arg<[number, number] | undefined>("stride") ?? [...poolSize],
        padding: arg<"valid" | "same">("padding"),
      } as Omit<N, CommonField>;
    },
    keras,
    arity: "one",
    infer(node, [x]) {
      const out = windowShape(node, x!, node.poolSize, (c) => c);
      return "error" in out ? out : { shape: out.shape, params: NO_PARAMS };
    },
    kerasConfig: (node) => ({
      ...kerasCommon(node),
      pool_size: [...node.poolSize],
      strides: [...node.strides],
      padding: node.padding,
      data_format: "channels_last",
    }),
    kerasWeights: () => [],
    fromKeras: {
      classNames: [keras.className],
      read(r) {
        const [ph, pw] = r.pair("pool_size", [2, 2]);
        const options: ImportedStatement["options"] = [];
        const [sh, sw] = r.pair("strides", [ph, pw]);
        if (sh !== ph || sw !== pw) options.push(["stride", sh === sw ? sh : `${sh}x${sw}`]);
        optionUnlessDefault(options, "padding", r.oneOf("padding", ["valid", "same"], "valid"), "valid");
        r.channelsLast();
        return statement(op, [`${ph}x${pw}`], options);
      },
    },
    // Over NCHW. TensorFlow's 'same' pads max pooling with -infinity and leaves the padding out of an
    // average's count: ONNX MaxPool's padding and AveragePool's count_include_pad=0 are the same rules.
    onnx(node, ctx) {
      const x = ctx.input(0, "nchw").name;
      const attributes = {
        kernel_shape: [...node.poolSize],
        strides: [...node.strides],
        pads: onnxPads(ctx.inputShape(0), node.poolSize, node.strides, node.padding),
        ...(what === "max" ? {} : { count_include_pad: 0 }),
      };
      const name = ctx.emit(what === "max" ? "MaxPool" : "AveragePool", [x], attributes);
      return { name, layout: "nchw" };
    },
  };
}
