// Importing (nnc import): what an op module's `fromKeras` rule reads a Keras layer config with, and what it
// gives back. The rule is the inverse of the op's kerasConfig: a Keras config (TensorFlow.js Layers JSON, Keras
// 2 or Keras 3 form) -> the statement that writes the same layer. Values nnc cannot express are problems the
// reader collects (the importer reports each as E743 at the layer's line of the JSON); what nnc approximates on
// purpose (a constraint it has no counterpart for) is a note, written as a comment above the statement.
import { activationForKerasName } from "./activations/index.ts";
import { ACTIVATIONS, type Activation } from "../ir/common.ts";

/** A statement the importer writes: `dense 128 relu bias=false`, options only where they differ from defaults. */
export interface ImportedStatement {
  statement: string;
  positional: (string | number)[];
  options: [key: string, value: string | number | boolean][];
  /** A non-negative axis the layer normalizes over, which must be its input's last (known once shapes are). */
  lastAxis?: number;
}

/** A config value nnc cannot express: the key, the value as Keras wrote it, and why or what nnc takes. */
export interface KerasConfigProblem {
  key: string;
  value: string;
  reason: string;
}

/** An op's import rule: the Keras classes it reads, and the reading. */
export interface KerasImportRule {
  classNames: readonly string[];
  read(config: KerasConfigReader, className: string): ImportedStatement;
  /**
   * For an op taking many inputs, how a Keras graph's layer of it is written (src/import/linearize.ts): "sum",
   * a sum of any order nnc may also write as `residual { }` over two branches (Add); "ordered", the default:
   * the current tensor is its first input, the named earlier layers the rest, in order (Concatenate, Multiply).
   */
  graphMerge?: "sum" | "ordered";
}

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Keras 3 wraps serialized objects as { module, class_name, config, registered_name }; Keras 2 and tfjs as
 * { class_name, config }. Either way: the class name and its config.
 */
export function serialized(
  value: unknown,
): { className: string; config: Record<string, unknown> } | undefined {
  if (!isObject(value) || typeof value["class_name"] !== "string") return undefined;
  return { className: value["class_name"], config: isObject(value["config"]) ? value["config"] : {} };
}

/** Keras' activation names, and tfjs-layers' spellings of them, that nnc has. */
/**
 * Reads one layer's config. Absent keys and `null` take Keras' default; every value nnc cannot express is
 * collected as a problem (the reading goes on, so one import reports every problem of the layer at once).
 */
export class KerasConfigReader {
  readonly problems: KerasConfigProblem[] = [];
  readonly notes: string[] = [];
  constructor(readonly config: Record<string, unknown>) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  problem(key: string, reason: string): void {
    this.problems.push({ key, value: shown(this.config[key]), reason });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  int(key: string, fallback?: number, min = 1): number {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      this.problem(key, `expected an integer >= ${min}`);
      return fallback ?? min;
    }
    return v;
  }

  number(key: string, fallback: number, check?: (n: number) => string | undefined): number {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.problem(key, "expected a number");
      return fallback;
    }
    const why = check?.(v);
    if (why) this.problem(key, why);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") {
      this.problem(key, "expected true or false");
      return fallback;
    }
    return v;
  }

  /** A 2-D window or stride: `3` or `[3, 3]` (Keras accepts both). */
  pair(key: string, fallback?: [number, number]): [number, number] {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback) return fallback;
    const list = typeof v === "number" ? [v, v] : v;
    if (
      !Array.isArray(list) ||
      list.length !== 2 ||
      !list.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 1)
    ) {
      this.problem(key, "expected two positive integers (2-D)");
      return fallback ?? [1, 1];
    }
    return [list[0] as number, list[1] as number];
  }

  /** A 1-D window or stride: `3` or `[3]` (Keras writes a tuple of one). */
  single(key: string, fallback?: number): number {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      this.problem(key, "expected one positive integer (1-D)");
      return fallback ?? 1;
    }
    return n;
  }

  /** A string value from a fixed list (`padding`: valid or same). */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T, why?: string): T {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    const lower = typeof v === "string" ? v.toLowerCase() : v;
    if (typeof lower !== "string" || !values.includes(lower as T)) {
      this.problem(key, why ?? `nnc takes ${values.map((x) => `'${x}'`).join(" or ")}`);
      return fallback;
    }
    return lower as T;
  }

  /** A key that must hold one of the values nnc computes with (`dilation_rate` [1, 1]); absent is Keras' default. */
  expect(key: string, accepted: readonly unknown[], reason: string): void {
    const v = this.config[key];
    if (v === undefined) return;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!accepted.some((a) => same(a, v))) this.problem(key, reason);
  }

  /** `data_format` must be channels_last (NHWC), as nnc's images are. */
  channelsLast(): void {
    this.oneOf(
      "data_format",
      ["channels_last"],
      "channels_last",
      "nnc's images are channels_last (NHWC); re-export the model with data_format='channels_last'",
    );
  }

  /** The normalized axis: -1, [-1] or the last axis of a rank-`rank` input (BatchNormalization, LayerNormalization). */
  lastAxis(key: string, what = "normalizes"): void {
    const v = this.config[key];
    const axes = Array.isArray(v) ? v : [v];
    if (v === undefined || v === null) return;
    const why = `nnc ${what} over the last axis only (axis=-1)`;
    if (axes.length !== 1 || typeof axes[0] !== "number" || !Number.isInteger(axes[0])) {
      this.problem(key, why);
      return;
    }
    // A positive axis is checked against the input's rank once shapes are known (the importer's check).
    if (axes[0] < -1) this.problem(key, why);
    else if (axes[0] >= 0) this.lastAxisIndex = axes[0];
  }
  /** A non-negative normalization axis, which must be the input's last (checked when shapes are known). */
  lastAxisIndex: number | undefined;

  /** An activation: a Keras name (string), or Keras 3's serialized function. */
  activation(key = "activation"): Activation {
    const v = this.config[key];
    if (v === undefined || v === null) return "linear";
    const name = typeof v === "string" ? v : (serialized(v)?.config["name"] ?? serialized(v)?.className);
    const known = typeof name === "string" ? activationForKerasName(name) : undefined;
    if (known) return known;
    if (typeof name === "string" && ["leaky_relu", "leakyrelu"].includes(name.toLowerCase())) {
      // Keras 3's leaky_relu function and tf.nn.leaky_relu default to slope 0.2; nnc's leaky_relu word is 0.3.
      this.problem(
        key,
        "Keras' leaky_relu activation string has slope 0.2, nnc's leaky_relu word 0.3: write the layer " +
          "without an activation and `leaky_relu alpha=0.2` after it",
      );
      return "linear";
    }
    this.problem(key, `nnc's activations are ${ACTIVATIONS.join(", ")}`);
    return "linear";
  }

  /**
   * The kernel initializer as nnc's `init=` and `init_scale=` (kernel-config.ts' initializerConfig inverted),
   * or a note where nnc has none of it (it only matters for training from scratch).
   */
  initializer(key: string, options: ImportedStatement["options"]): void {
    const init = serialized(this.config[key]);
    if (!init) return;
    const c = init.config;
    const num = (k: string, d: number) => (typeof c[k] === "number" ? (c[k] as number) : d);
    const pick = (name: string, scale = 1) => {
      if (name !== "glorot_uniform") options.push(["init", name]);
      if (Math.abs(scale - 1) > 1e-12) options.push(["init_scale", roundFloat(scale)]);
    };
    const names: Record<string, string> = {
      GlorotUniform: "glorot_uniform",
      GlorotNormal: "glorot_normal",
      HeUniform: "he_uniform",
      HeNormal: "he_normal",
      LecunUniform: "lecun_uniform",
      LeCunUniform: "lecun_uniform",
      LecunNormal: "lecun_normal",
      LeCunNormal: "lecun_normal",
      Zeros: "zeros",
    };
    const direct = names[init.className];
    if (direct) return pick(direct);
    if (init.className === "VarianceScaling") {
      const mode = String(c["mode"] ?? "fan_in").toLowerCase();
      const distribution = String(c["distribution"] ?? "truncated_normal").toLowerCase();
      const factor = { fan_avg: 1, fan_in: 1 } as Record<string, number>;
      const uniform = distribution === "uniform";
      const normal = distribution === "truncated_normal" || distribution === "normal";
      const s = num("scale", 1);
      if (mode in factor && (uniform || normal)) {
        // nnc's scale multiplies the spread, Keras' the variance: init_scale = sqrt(scale / base).
        const candidates =
          mode === "fan_avg"
            ? [{ name: uniform ? "glorot_uniform" : "glorot_normal", base: 1 }]
            : [
                { name: uniform ? "he_uniform" : "he_normal", base: 2 },
                { name: uniform ? "lecun_uniform" : "lecun_normal", base: 1 },
              ];
        const exact = candidates.find((k) => Math.abs(s - k.base) < 1e-9) ?? candidates.at(-1)!;
        return pick(exact.name, Math.sqrt(s / exact.base));
      }
    }
    if (init.className === "RandomNormal" && num("mean", 0) === 0)
      return pick("random_normal", num("stddev", 0.05) / 0.05);
    if (init.className === "RandomUniform" && num("minval", -0.05) === -num("maxval", 0.05)) {
      return pick("random_uniform", num("maxval", 0.05) / 0.05);
    }
    this.note(
      `${key} ${init.className} is not one of nnc's initializers: glorot_uniform, Keras' default, is used`,
    );
  }

  /**
   * kernel_regularizer (or the first of `kernels`' regularizers) as nnc's `l2=`; other regularizers and
   * constraints become notes (training-only).
   */
  regularizers(options: ImportedStatement["options"], kernels: readonly string[] = ["kernel"]): void {
    const first = `${kernels[0]}_regularizer`;
    const reg = serialized(this.config[first]);
    if (reg) {
      const l1 = typeof reg.config["l1"] === "number" ? (reg.config["l1"] as number) : 0;
      const l2 = typeof reg.config["l2"] === "number" ? (reg.config["l2"] as number) : 0;
      if ((reg.className === "L2" || reg.className === "L1L2") && l1 === 0 && l2 > 0) {
        options.push(["l2", roundFloat(l2)]);
      } else if (l2 > 0 || l1 > 0) {
        if (l2 > 0) options.push(["l2", roundFloat(l2)]);
        this.note(
          `${first} ${reg.className}: nnc has no L1 penalty${l2 > 0 ? ", only its l2 part is kept" : ""}`,
        );
      }
    }
    for (const k of kernels.slice(1)) {
      // nnc's one l2= applies to every kernel of the layer.
      if (JSON.stringify(this.config[`${k}_regularizer`]) !== JSON.stringify(this.config[first]))
        this.note(`${k}_regularizer differs from ${first}: nnc's l2= applies to both`);
    }
    const constraints = kernels.map((k) => `${k}_constraint`);
    for (const key of ["bias_regularizer", "activity_regularizer", ...constraints, "bias_constraint"]) {
      const v = serialized(this.config[key]);
      if (v) this.note(`${key} ${v.className} is left out: nnc has none (it changes training only)`);
    }
  }
}

/** A float as Keras wrote it, without float32 noise (0.0010000000474974513 -> 0.001). */
export function roundFloat(x: number): number {
  const short = Number(x.toPrecision(7));
  return Math.abs(short - x) <= Math.abs(x) * 1e-6 ? short : x;
}

/** A statement with options only where they differ from nnc's defaults (which are Keras'). */
export function statement(
  name: string,
  positional: ImportedStatement["positional"],
  options: ImportedStatement["options"] = [],
): ImportedStatement {
  return { statement: name, positional, options };
}

/** Adds option `key=value` unless the value is nnc's default. */
export function optionUnlessDefault(
  options: ImportedStatement["options"],
  key: string,
  value: string | number | boolean,
  fallback: string | number | boolean,
): void {
  if (value !== fallback) options.push([key, value]);
}
