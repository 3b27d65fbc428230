// Op `add`: the elementwise sum of two or more inputs of equal shape (Keras Add), the merge of a residual
// connection. Written `add NAME...`: the current tensor plus the outputs of the named earlier layers.
import type { Static } from "@sinclair/typebox";
import { diagnostic } from "../diagnostics/index.ts";
import { nodeSchema } from "../ir/common.ts";
import { formatShape } from "../util/shape.ts";
import { at, kerasCommon, NO_PARAMS, type InferInput, type OpDefinition } from "./op.ts";
import { statement } from "./keras-import.ts";
import { layerSignature } from "./signature.ts";

export const schema = nodeSchema(
  "add",
  {},
  "elementwise sum of two or more inputs of equal shape (inputs lists them)",
);
export type AddNode = Static<typeof schema>;

const sameShape = (a: InferInput, b: InferInput) =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/**
 * The projection that would make `skip` match `body`: for images a strided 1x1 convolution and a batchnorm
 * (the ResNet stage change; the stride found as 'same' padding computes sizes), for vectors a dense layer.
 */
function projection(skip: InferInput, body: InferInput): string | undefined {
  const [s, b] = [skip.shape, body.shape];
  let layers: string | undefined;
  if (s.length === 2 && b.length === 2) layers = `dense ${b[1]} bias=false; batchnorm`;
  if (s.length === 4 && b.length === 4) {
    const stride = [1, 2].map((i) => Math.ceil(s[i]! / b[i]!));
    if (stride.every((x, k) => x >= 1 && Math.ceil(s[k + 1]! / x) === b[k + 1]!)) {
      const text = stride[0] === stride[1] ? `${stride[0]}` : stride.join("x");
      // 'same' is what makes an odd size halve as the body's strided convolution does (7 -> 4).
      const strideOption = text === "1" ? "" : ` stride=${text} padding=same`;
      layers = `conv2d ${b[3]} 1x1${strideOption} bias=false; batchnorm`;
    }
  }
  if (!layers) return undefined;
  return `project the skip path to ${formatShape(b)}: in a residual, shortcut { ${layers} }`;
}

export const add: OpDefinition<AddNode> = {
  op: "add",
  schema,
  signatures: [
    layerSignature("add", "the current tensor plus the outputs of the named earlier layers (equal shapes)", [
      {
        name: "LAYER",
        type: { kind: "name" },
        doc: "names of earlier layers whose outputs are added",
        required: true,
        variadic: true,
      },
    ]),
  ],
  build: () => ({}),
  keras: { base: "add", className: "Add" },
  arity: "many",
  infer(node, inputs) {
    const [first] = inputs;
    const other = inputs.find((x) => !sameShape(x, first!));
    if (!other) return { shape: first!.shape, params: NO_PARAMS };
    // The first input is the body's output (the current tensor); the others the skips.
    const help = projection(other, first!);
    const name = (x: InferInput) => (x.from ? `'${x.from.name}'` : "an input");
    return {
      error: diagnostic(
        "E310",
        {
          op: "add",
          first: `${formatShape(first!.shape)} from ${name(first!)}`,
          second: `${formatShape(other.shape)} from ${name(other)}`,
          rule: "equal shapes",
        },
        help ? { ...at(node), help } : at(node),
      ),
    };
  },
  kerasConfig: (node) => kerasCommon(node),
  kerasWeights: () => [],
  // The importer adds the names of the other inputs (the first is the current tensor).
  fromKeras: { classNames: ["Add"], read: () => statement("add", []) },
  // Add takes two inputs; Sum any number (both broadcast, here the shapes are equal).
  onnx(_node, ctx) {
    const xs = ctx.inputsAlike();
    const name = ctx.emit(
      xs.length === 2 ? "Add" : "Sum",
      xs.map((x) => x.name),
    );
    return { name, layout: xs[0]!.layout };
  },
};
