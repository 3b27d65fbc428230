// Op `upsampling2d`: NHWC images enlarged by repeating each row and column (Keras UpSampling2D with its default
// interpolation, nearest). Compiled step: covered (its backward sums dy over each repeated block).
import type { Static } from "@sinclair/typebox";
import { nodeSchema, Pair } from "../ir/common.ts";
import { statement } from "./keras-import.ts";
import { spatialAxes } from "./margins.ts";
import { imageHint, kerasCommon, NO_PARAMS, wrongRank, type OpDefinition } from "./op.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "upsampling2d",
  { size: Pair("[height, width] repeat factors") },
  "nearest-neighbour upsampling of NHWC images",
);
export type UpSampling2dNode = Static<typeof schema>;

export const upsampling2d: OpDefinition<UpSampling2dNode> = {
  op: "upsampling2d",
  schema,
  signatures: [
    layerSignature(
      "upsampling2d",
      "NHWC images enlarged by repeating rows and columns (Keras UpSampling2D, nearest)",
      [
        {
          name: "SIZE",
          type: { kind: "pair" },
          doc: "repeat factors, S or SxS (rows x columns)",
          required: true,
          field: "size",
        },
      ],
    ),
  ],
  build: (_sig, arg) => ({ size: arg<[number, number]>("SIZE") }),
  keras: { base: "up_sampling2d", className: "UpSampling2D" },
  arity: "one",
  infer(node, [x]) {
    const s = x!.shape;
    if (s.length !== 4) return wrongRank(node, s, "rank-4 [batch, height, width, channels]", imageHint(x!));
    return { shape: [null, s[1]! * node.size[0], s[2]! * node.size[1], s[3]!], params: NO_PARAMS };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    size: [...node.size],
    data_format: "channels_last",
    interpolation: "nearest",
  }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["UpSampling2D"],
    read(r) {
      const [sh, sw] = r.pair("size", [2, 2]);
      r.channelsLast();
      r.oneOf("interpolation", ["nearest"], "nearest", "nnc upsamples by nearest neighbour only");
      return statement("upsampling2d", [sh === sw ? sh : `${sh}x${sw}`]);
    },
  },
  // ONNX Resize, nearest, in whichever layout the input is: output pixel i reads input floor(i / S).
  onnx(node, ctx) {
    const x = ctx.input(0, "any");
    const scales = [1, 1, 1, 1];
    const [h, w] = spatialAxes(x.layout);
    [scales[h], scales[w]] = node.size;
    const name = ctx.emit("Resize", [x.name, "", ctx.constant("scales", [4], scales)], {
      mode: "nearest",
      coordinate_transformation_mode: "asymmetric",
      nearest_mode: "floor",
    });
    return { name, layout: x.layout };
  },
};
