// Op `gaussian_noise`: Keras GaussianNoise(stddev): in training adds zero-mean normal noise of standard deviation
// STDDEV to every value, drawn from nnc's seeded stream for (seed, epoch, step, node) as dropout's masks are; the
// identity at inference.
import { Type, type Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { roundFloat, statement } from "./keras-import.ts";
import { kerasCommon, NO_PARAMS, type OpDefinition } from "./op.ts";
import { layerSignature, num } from "./signature.ts";

export const schema = nodeSchema(
  "gaussian_noise",
  { stddev: Type.Number({ minimum: 0, description: "standard deviation of the noise added in training" }) },
  "additive zero-mean Gaussian noise, training only",
);
export type GaussianNoiseNode = Static<typeof schema>;

export const gaussianNoise: OpDefinition<GaussianNoiseNode> = {
  op: "gaussian_noise",
  schema,
  signatures: [
    layerSignature(
      "gaussian_noise",
      "additive zero-mean Gaussian noise, training only (Keras GaussianNoise): x + N(0, STDDEV^2) per value",
      [
        {
          name: "STDDEV",
          type: num({ min: 0 }),
          doc: "standard deviation of the noise, >= 0",
          required: true,
          field: "stddev",
        },
      ],
    ),
  ],
  build: (_sig, arg) => ({ stddev: arg<number>("STDDEV") }),
  keras: { base: "gaussian_noise", className: "GaussianNoise" },
  arity: "one",
  infer: (_node, [x]) => ({ shape: x!.shape, params: NO_PARAMS }),
  kerasConfig: (node) => ({ ...kerasCommon(node), stddev: node.stddev, seed: null }),
  kerasWeights: () => [],
  fromKeras: {
    classNames: ["GaussianNoise"],
    read(r) {
      const stddev = r.number("stddev", Number.NaN, (x) => (x >= 0 ? undefined : "the stddev is >= 0"));
      if (Number.isNaN(stddev))
        r.problem("stddev", "expected a number (GaussianNoise's stddev has no default)");
      return statement("gaussian_noise", [roundFloat(stddev)]);
    },
  },
  passesValues: () => true,
  trainingNoise: (node) => `adds noise of standard deviation ${node.stddev}`,
  // In training: the noise, the output and its gradient.
  trainingCopies: () => 3,
  // The identity at inference: no ONNX node, consumers take the input.
  onnx: (_node, ctx) => ctx.input(0, "any"),
};
