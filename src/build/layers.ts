// Building the IR: one bound layer statement -> one IR layer (without its final name, which depends on the
// whole model: see names.ts). Defaults come from the signature table, so the reference and the IR agree.
import type { Activation, Initializer, Layer, Span } from "../ir/schema.ts";
import type { Bound, BoundValue } from "./bind.ts";
import { ACTIVATIONS } from "../ir/schema.ts";
import type { Signature } from "./signatures.ts";

/** The value given for a parameter, else its default from the table. */
export function valueOf<T extends BoundValue>(sig: Signature, bound: Bound, name: string): T {
  const given = bound.values.get(name);
  if (given !== undefined) return given as T;
  const spec = [...sig.positional, ...sig.options].find((p) => p.name === name);
  if (spec?.default === undefined)
    throw new Error(`internal: no value and no default for ${sig.name} ${name}`);
  return spec.default as T;
}

/** Spans of the arguments given, keyed by the IR field each fills. */
function argSpansOf(sig: Signature, bound: Bound): Record<string, Span> {
  const out: Record<string, Span> = {};
  for (const p of [...sig.positional, ...sig.options]) {
    const span = bound.spans.get(p.name);
    if (span && p.field) out[p.field] = span;
  }
  return out;
}

export type UnnamedLayer = Layer & { name: string };

const initializer = (sig: Signature, bound: Bound): Initializer => ({
  name: valueOf<Initializer["name"]>(sig, bound, "init"),
  scale: valueOf<number>(sig, bound, "init_scale"),
});

/** Builds the layer; its name is the `name=` given or "" (names.ts assigns Keras-style names after). */
export function makeLayer(sig: Signature, bound: Bound, span: Span): UnnamedLayer {
  const common = {
    name: (bound.values.get("name") as string | undefined) ?? "",
    span,
    argSpans: argSpansOf(sig, bound),
  };
  const v = <T extends BoundValue>(name: string) => valueOf<T>(sig, bound, name);
  if ((ACTIVATIONS as readonly string[]).includes(sig.name)) {
    return { op: "activation", ...common, activation: sig.name as Activation };
  }
  switch (sig.name) {
    case "input":
      return { op: "input", ...common, shape: v<number[]>("DIMS") };
    case "flatten":
      return { op: "flatten", ...common };
    case "dense":
      return {
        op: "dense",
        ...common,
        units: v<number>("UNITS"),
        activation: v<Activation>("ACTIVATION"),
        useBias: v<boolean>("bias"),
        kernelInitializer: initializer(sig, bound),
      };
    case "batchnorm":
      return {
        op: "batchnorm",
        ...common,
        momentum: v<number>("momentum"),
        epsilon: v<number>("epsilon"),
        center: v<boolean>("center"),
        scale: v<boolean>("scale"),
        variance: v<"biased" | "unbiased">("variance"),
      };
    case "activation":
      return { op: "activation", ...common, activation: v<Activation>("ACTIVATION") };
    case "dropout":
      return { op: "dropout", ...common, rate: v<number>("RATE") };
    case "conv2d":
      return {
        op: "conv2d",
        ...common,
        filters: v<number>("FILTERS"),
        kernelSize: v<[number, number]>("KERNEL"),
        strides: (bound.values.get("stride") as [number, number] | undefined) ?? [1, 1],
        padding: v<"valid" | "same">("padding"),
        activation: v<Activation>("ACTIVATION"),
        useBias: v<boolean>("bias"),
        kernelInitializer: initializer(sig, bound),
      };
    case "maxpool":
    case "avgpool": {
      const poolSize = v<[number, number]>("POOL");
      return {
        op: sig.name,
        ...common,
        poolSize,
        strides: (bound.values.get("stride") as [number, number] | undefined) ?? [...poolSize],
        padding: v<"valid" | "same">("padding"),
      };
    }
    case "globalavgpool":
      return { op: "globalavgpool", ...common };
    case "layernorm":
      return {
        op: "layernorm",
        ...common,
        epsilon: v<number>("epsilon"),
        center: v<boolean>("center"),
        scale: v<boolean>("scale"),
      };
    default:
      throw new Error(`internal: no IR builder for layer op '${sig.name}'`);
  }
}
