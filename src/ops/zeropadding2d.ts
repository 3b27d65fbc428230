// Op `zeropadding2d`: rows and columns of zeros around NHWC images (Keras ZeroPadding2D). Compiled step:
// covered (its backward cuts the margins off dy).
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { statement } from "./keras-import.ts";
import { MarginsSchema, marginsText, readMargins, spatialAxes, symmetric, type Margins } from "./margins.ts";
import { imageHint, kerasCommon, NO_PARAMS, wrongRank, type OpDefinition } from "./op.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "zeropadding2d",
  { padding: MarginsSchema("[[top, bottom], [left, right]] rows and columns of zeros added") },
  "zeros around the height and width of NHWC images",
);
export type ZeroPadding2dNode = Static<typeof schema>;

export const zeropadding2d: OpDefinition<ZeroPadding2dNode> = {
  op: "zeropadding2d",
  schema,
  signatures: [
    layerSignature("zeropadding2d", "rows and columns of zeros around NHWC images (Keras ZeroPadding2D)", [
      {
        name: "PADDING",
        type: { kind: "pair" },
        doc: "P (P rows and columns on every side) or PxQ (P rows top and bottom, Q columns left and right)",
        required: true,
        field: "padding",
      },
    ]),
  ],
  build: (_sig, arg) => ({ padding: symmetric(arg<[number, number]>("PADDING")) }),
  keras: { base: "zero_padding2d", className: "ZeroPadding2D" },
  arity: "one",
  infer(node, [x]) {
    const s = x!.shape;
    if (s.length !== 4) return wrongRank(node, s, "rank-4 [batch, height, width, channels]", imageHint(x!));
    const [[t, b], [l, r]] = node.padding;
    return { shape: [null, s[1]! + t + b, s[2]! + l + r, s[3]!], params: NO_PARAMS };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    padding: node.padding.map((side) => [...side]),
    data_format: "channels_last",
  }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["ZeroPadding2D"],
    read(r) {
      r.channelsLast();
      return statement("zeropadding2d", [marginsText(readMargins(r, "padding", 1))]);
    },
  },
  // ONNX Pad (constant zeros) in whichever layout the input is: pads are [begins..., ends...] per axis.
  onnx(node, ctx) {
    const x = ctx.input(0, "any");
    const [h, w] = spatialAxes(x.layout);
    const pads = new Array<number>(8).fill(0);
    const [[t, b], [l, r]] = node.padding as Margins;
    [pads[h], pads[w], pads[h + 4], pads[w + 4]] = [t, l, b, r];
    return { name: ctx.emit("Pad", [x.name, ctx.ints("pads", pads)]), layout: x.layout };
  },
};
