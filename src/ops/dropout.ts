// Op `dropout`: inverted dropout in training (kept values scaled by 1 / (1 - rate)), the identity at inference.
import { Type, type Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { kerasCommon, NO_PARAMS, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { isChannelNoiseShape, readRate } from "./spatial_dropout.ts";
import { layerSignature, num, unit } from "./signature.ts";

export const schema = nodeSchema(
  "dropout",
  { rate: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: "fraction of units dropped" }) },
  "inverted dropout, training only",
);
export type DropoutNode = Static<typeof schema>;

export const dropout: OpDefinition<DropoutNode> = {
  op: "dropout",
  schema,
  signatures: [
    layerSignature("dropout", "inverted dropout (training only)", [
      {
        name: "RATE",
        type: num(unit),
        doc: "fraction of units dropped, 0 <= RATE < 1",
        required: true,
        field: "rate",
      },
    ]),
  ],
  build: (_sig, arg) => ({ rate: arg<number>("RATE") }),
  keras: { base: "dropout", className: "Dropout" },
  arity: "one",
  infer: (_node, [x]) => ({ shape: x!.shape, params: NO_PARAMS }),
  kerasConfig: (node) => ({ ...kerasCommon(node), rate: node.rate, noise_shape: null, seed: null }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["Dropout"],
    read(r) {
      const rate = readRate(r);
      // A mask per sample and channel is spatial_dropout's (which nnc exports so, as Dropout).
      if (isChannelNoiseShape(r.config["noise_shape"])) return statement("spatial_dropout", [rate]);
      r.expect(
        "noise_shape",
        [null],
        "nnc drops units independently (noise_shape null) or whole channels ([null, 1, 1, null]: spatial_dropout)",
      );
      return statement("dropout", [rate]);
    },
  },
  passesValues: () => true,
  trainingNoise: (node) => `drops units at rate ${node.rate}`,
  // In training: the mask, the output and its gradient.
  trainingCopies: () => 3,
  // The identity at inference: no ONNX node, consumers take the input.
  onnx: (_node, ctx) => ctx.input(0, "any"),
};
