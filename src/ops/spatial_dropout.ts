// Op `spatial_dropout`: dropout of whole channels (Keras SpatialDropout2D over [batch, height, width, channels],
// SpatialDropout1D over [batch, steps, channels]): in training each sample keeps or drops each channel at every
// position at once, kept ones scaled by 1 / (1 - rate); the identity at inference. Exported as Keras Dropout with
// noise_shape [null, 1, 1, null] ([null, 1, null] for rank 3): tfjs-layers 4.22 registers no SpatialDropout2D,
// and its Dropout draws a mask of noise_shape (null axes the input's) broadcast over the others, which is the same
// layer, so tf.loadLayersModel loads it. nnc import reads SpatialDropout1D/2D and that Dropout back.
import { Type, type Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { roundFloat, statement, type KerasConfigReader } from "./keras-import.ts";
import { kerasCommon, NO_PARAMS, wrongRank, type OpDefinition } from "./op.ts";
import { layerSignature, num, unit } from "./signature.ts";

export const schema = nodeSchema(
  "spatial_dropout",
  {
    rate: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      description: "fraction of channels dropped per sample",
    }),
  },
  "dropout of whole channels per sample, training only",
);
export type SpatialDropoutNode = Static<typeof schema>;

/** The mask's shape of a rank-`rank` input: [batch, 1, ..., 1, channels] (Keras' noise_shape, null the input's). */
export const channelNoiseShape = (rank: number): Array<number | null> => [
  null,
  ...Array.from({ length: rank - 2 }, () => 1),
  null,
];

/** nnc import of a rate (Dropout's and SpatialDropout's `rate`), as the statement writes it. */
export const readRate = (r: KerasConfigReader): number =>
  roundFloat(r.number("rate", 0.5, (x) => (x >= 0 && x < 1 ? undefined : "the rate is in [0, 1)")));

/** Whether a Keras Dropout's noise_shape is spatial_dropout's: one value per sample and channel. */
export function isChannelNoiseShape(noiseShape: unknown): boolean {
  if (!Array.isArray(noiseShape) || (noiseShape.length !== 3 && noiseShape.length !== 4)) return false;
  const middle = noiseShape.slice(1, -1);
  return noiseShape[0] === null && middle.every((d) => d === 1) && noiseShape.at(-1) !== 1;
}

export const spatialDropout: OpDefinition<SpatialDropoutNode> = {
  op: "spatial_dropout",
  schema,
  signatures: [
    layerSignature(
      "spatial_dropout",
      "dropout of whole channels, training only (Keras SpatialDropout2D over images, SpatialDropout1D over " +
        "[batch, steps, channels]): each sample drops a channel at every position at once; exported as Keras " +
        "Dropout with noise_shape [null, 1, 1, null], which tfjs-layers loads",
      [
        {
          name: "RATE",
          type: num(unit),
          doc: "fraction of channels dropped, 0 <= RATE < 1",
          required: true,
          field: "rate",
        },
      ],
    ),
  ],
  build: (_sig, arg) => ({ rate: arg<number>("RATE") }),
  keras: { base: "spatial_dropout2d", className: "Dropout" },
  arity: "one",
  infer(node, [x]) {
    const shape = x!.shape;
    if (shape.length !== 3 && shape.length !== 4) {
      return wrongRank(
        node,
        shape,
        "rank-4 [batch, height, width, channels] or rank-3 [batch, steps, channels]",
        "it drops whole channels: use 'dropout' on vectors",
      );
    }
    return { shape, params: NO_PARAMS };
  },
  kerasConfig: (node) => ({
    ...kerasCommon(node),
    rate: node.rate,
    noise_shape: channelNoiseShape(node.outputShape?.length ?? 4),
    seed: null,
  }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["SpatialDropout1D", "SpatialDropout2D"],
    read(r) {
      const rate = readRate(r);
      if (r.config["data_format"] !== undefined) r.channelsLast();
      return statement("spatial_dropout", [rate]);
    },
  },
  passesValues: () => true,
  trainingNoise: (node) => `drops whole channels at rate ${node.rate}`,
  // The output and its gradient (the mask is one value per sample and channel).
  trainingCopies: () => 2,
  // The identity at inference: no ONNX node, consumers take the input.
  onnx: (_node, ctx) => ctx.input(0, "any"),
};
