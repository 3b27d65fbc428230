// Op `add`: the elementwise sum of two or more inputs of equal shape (Keras Add), the merge of a residual
// connection. Written `add NAME...`: the current tensor plus the outputs of the named earlier layers.
import type { Static } from "@sinclair/typebox";
import { nodeSchema } from "../ir/common.ts";
import { formatShape } from "../util/shape.ts";
import { elementwiseMerge } from "./merge.ts";
import type { InferInput } from "./op.ts";

export const schema = nodeSchema(
  "add",
  {},
  "elementwise sum of two or more inputs of equal shape (inputs lists them)",
);
export type AddNode = Static<typeof schema>;

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

export const add = elementwiseMerge<AddNode>({
  op: "add",
  schema,
  doc: "the current tensor plus the outputs of the named earlier layers (equal shapes)",
  layerDoc: "names of earlier layers whose outputs are added",
  keras: { base: "add", className: "Add" },
  // Any order, and two branches from one tensor are a residual block.
  graphMerge: "sum",
  // The first input is the body's output (the current tensor); the others the skips.
  help: (other, first) => projection(other, first),
  // Add takes two inputs; Sum any number (both broadcast, here the shapes are equal).
  onnx: (xs, ctx) =>
    ctx.emit(
      xs.length === 2 ? "Add" : "Sum",
      xs.map((x) => x.name),
    ),
});
