// The vocabulary of statement signatures: what an op (or a train or experiment setting) accepts, with types,
// defaults, ranges and docs. Op modules declare their layer statements with it; the builder binds statements
// against it, and usage strings, "did you mean" candidates and docs/language.md are derived from it.
import { ACTIVATIONS, INITIALIZERS, PADDINGS } from "../ir/common.ts";
import { ACTIVATION_MODULES } from "./activations/index.ts";

/** Numeric bounds; `describeRange` turns them into the text of an out-of-range message. */
export interface Range {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

export type ValueType =
  | { kind: "int"; range?: Range }
  | { kind: "number"; range?: Range }
  | { kind: "bool" }
  /** A word from a fixed list; `aliases` map other accepted spellings to a value. */
  | { kind: "enum"; values: readonly string[]; aliases?: Readonly<Record<string, string>>; metavar?: string }
  /**
   * `784`, `28x28`, `28x28x1`: a shape of any rank. `inferred`: its sizes are not range-checked when bound, for
   * an op whose shape rule checks them against its input (reshape's -1, its one inferred size).
   */
  | { kind: "dims"; inferred?: boolean }
  /** `3` (meaning 3x3) or `3x2`: a 2-D window. */
  | { kind: "pair" }
  /** A word or a quoted string, e.g. a data source (`mnist`, "idx:./data"). */
  | { kind: "text" }
  /** A name (model, layer): a word or a quoted string. */
  | { kind: "name" }
  /** A number, word or string, typed later (the values of `vary`, typed per key by the checker). */
  | { kind: "any" };

export interface ParamSpec {
  /** Positional: the metavariable in usage (UNITS); option: the key (momentum). */
  name: string;
  type: ValueType;
  doc: string;
  /** The value when the argument is absent (shown in the reference). */
  default?: string | number | boolean;
  /** Positional only: must be given. */
  required?: boolean;
  /** Positional only, last: takes every remaining positional value (at least one if required). */
  variadic?: boolean;
  /** The IR field it fills: the key under which its span is kept in `argSpans`. */
  field?: string;
}

export type Context = "layer" | "train" | "experiment";

export interface Signature {
  name: string;
  context: Context;
  doc: string;
  positional: ParamSpec[];
  options: ParamSpec[];
  /**
   * Options keyed by a class index instead of a name (`class_weight 0=1.0 1=2.5`): any key that is an integer
   * >= 0 takes a value of this type; `metavar` and `doc` describe them in usage and the reference.
   */
  keyedOptions?: { type: ValueType; metavar: string; doc: string };
  /** Settings that fill the same part of the IR, for duplicate detection (`adam` and `optimizer` both set "optimizer"). */
  setting?: string;
}

export const positive: Range = { min: 0, minExclusive: true };
export const unit: Range = { min: 0, max: 1, maxExclusive: true };
export const int = (min = 1, max?: number): ValueType => ({
  kind: "int",
  range: max === undefined ? { min } : { min, max },
});
export const num = (range?: Range): ValueType => (range ? { kind: "number", range } : { kind: "number" });
export const bool: ValueType = { kind: "bool" };
export const oneOf = (
  values: readonly string[],
  metavar?: string,
  aliases?: Record<string, string>,
): ValueType => ({
  kind: "enum",
  values,
  ...(aliases ? { aliases } : {}),
  ...(metavar ? { metavar } : {}),
});

// Arguments and options shared by several layer ops.
export const nameOption: ParamSpec = {
  name: "name",
  type: { kind: "name" },
  doc: "layer name (default: Keras style per type, dense, dense_1, ...)",
  field: "name",
};
export const activationArg: ParamSpec = {
  name: "ACTIVATION",
  type: oneOf(ACTIVATIONS, "ACTIVATION"),
  doc: `applied to the output: ${ACTIVATIONS.join(", ")}`,
  default: "linear",
  field: "activation",
};
/**
 * The options of the activations that have any (leaky_relu's alpha=), beside the ACTIVATION word of dense and
 * the convolutions: `dense 128 leaky_relu alpha=0.1`. No default here (a dense with relu has no alpha): the
 * activation's default applies when absent.
 */
export const activationOptions: ParamSpec[] = ACTIVATION_MODULES.flatMap((a) =>
  (a.options ?? []).map(({ default: fallback, ...o }) => ({
    ...o,
    doc: `with ACTIVATION ${a.name}: ${o.doc}${fallback === undefined ? "" : ` (default ${String(fallback)})`}`,
  })),
);

/** The fields of a bound statement's activation options that were given (`{ alpha: 0.1 }`), for build. */
export const activationOptionsArg = (arg: <T>(name: string) => T): { alpha?: number } =>
  Object.fromEntries(
    activationOptions
      .map((o) => [o.field ?? o.name, arg<number | undefined>(o.name)] as const)
      .filter(([, v]) => v !== undefined),
  );

export const kernelOptions: ParamSpec[] = [
  { name: "bias", type: bool, doc: "add a learned bias", default: true, field: "useBias" },
  {
    name: "init",
    type: oneOf(INITIALIZERS, "NAME"),
    doc: `kernel initializer: ${INITIALIZERS.join(", ")}`,
    default: "glorot_uniform",
    field: "kernelInitializer",
  },
  {
    name: "init_scale",
    type: num(positive),
    doc: "multiplier on the initializer's spread",
    default: 1,
    field: "kernelInitializer.scale",
  },
  {
    name: "l2",
    type: num({ min: 0 }),
    doc:
      "L2 kernel regularizer, as Keras' kernel_regularizer=L2(l2): l2 * sum(kernel^2) is added to the loss " +
      "(the reported loss and validation loss too, as Keras reports them); the bias is not regularized",
    field: "l2",
  },
];
/** stride= and padding= of a window: `stride` is a pair for images (S or SxS), an integer for sequences. */
export const windowOptions = (strideDoc: string, stride: ValueType = { kind: "pair" }): ParamSpec[] => [
  { name: "stride", type: stride, doc: strideDoc, field: "strides" },
  {
    name: "padding",
    type: oneOf(PADDINGS),
    doc: "'valid' (no padding) or 'same' (output = ceil(input / stride))",
    default: "valid",
    field: "padding",
  },
];

/** A layer statement's signature; every layer takes `name=`. */
export const layerSignature = (
  name: string,
  doc: string,
  positional: ParamSpec[] = [],
  options: ParamSpec[] = [],
): Signature => ({
  name,
  context: "layer",
  doc,
  positional,
  options: [...options, nameOption],
});
