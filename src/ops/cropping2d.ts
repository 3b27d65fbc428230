// Op `cropping2d`: rows and columns cut from the edges of NHWC images (Keras Cropping2D). Compiled step:
// covered (its backward pads dy with zeros).
import type { Static } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { nodeSchema } from "../ir/common.ts";
import { formatShape } from "../util/shape.ts";
import { statement } from "./keras-import.ts";
import { MarginsSchema, marginsText, readMargins, spatialAxes, symmetric } from "./margins.ts";
import { at, imageHint, kerasCommon, NO_PARAMS, wrongRank, type OpDefinition } from "./op.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "cropping2d",
  { cropping: MarginsSchema("[[top, bottom], [left, right]] rows and columns cut off") },
  "the edges of NHWC images cut off",
);
export type Cropping2dNode = Static<typeof schema>;

export const cropping2d: OpDefinition<Cropping2dNode> = {
  op: "cropping2d",
  schema,
  signatures: [
    layerSignature("cropping2d", "rows and columns cut from the edges of NHWC images (Keras Cropping2D)", [
      {
        name: "CROPPING",
        type: { kind: "pair" },
        doc: "P (P rows and columns off every side) or PxQ (P rows top and bottom, Q columns left and right)",
        required: true,
        field: "cropping",
      },
    ]),
  ],
  build: (_sig, arg) => ({ cropping: symmetric(arg<[number, number]>("CROPPING")) }),
  keras: { base: "cropping2d", className: "Cropping2D" },
  arity: "one",
  infer(node, [x]) {
    const s = x!.shape;
    if (s.length !== 4) return wrongRank(node, s, "rank-4 [batch, height, width, channels]", imageHint(x!));
    const [[t, b], [l, r]] = node.cropping;
    const shape = [null, s[1]! - t - b, s[2]! - l - r, s[3]!];
    if (shape[1]! < 1 || shape[2]! < 1) {
      const detail = `cropping ${t + b} rows and ${l + r} columns leaves nothing of the ${s[1]}x${s[2]} input`;
      return { error: diagnostic("E304", { op: node.op, got: formatShape(shape), detail }, at(node)) };
    }
    return { shape, params: NO_PARAMS };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    cropping: node.cropping.map((side) => [...side]),
    data_format: "channels_last",
  }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["Cropping2D"],
    read(r) {
      r.channelsLast();
      return statement("cropping2d", [marginsText(readMargins(r, "cropping", 0))]);
    },
  },
  // ONNX Slice over the height and width axes of whichever layout the input is in.
  onnx(node, ctx) {
    const x = ctx.input(0, "any");
    const [h, w] = ctx.inputShape(0);
    const [[t, b], [l, r]] = node.cropping;
    const inputs = [
      x.name,
      ctx.ints("starts", [t, l]),
      ctx.ints("ends", [h! - b, w! - r]),
      ctx.ints("axes", spatialAxes(x.layout)),
    ];
    return { name: ctx.emit("Slice", inputs), layout: x.layout };
  },
};
