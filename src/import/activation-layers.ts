// Importing: nnc's export of a dense or convolution whose ACTIVATION word tfjs-layers has no string for
// (`dense 128 leaky_relu alpha=0.1`) is the layer with activation linear and the activation's own layer after it,
// named `<layer>_<base>` (src/save/keras.ts). Read back, the pair is that one statement again; any other
// LeakyReLU stays a statement of its own (its Keras name is kept).
import { ACTIVATION_MODULES } from "../ops/activations/index.ts";
import type { ImportedStatement } from "../ops/keras-import.ts";
import { opOf } from "../ops/index.ts";
import type { KerasLayer } from "./keras-json.ts";

interface Translated {
  layer: KerasLayer;
  statement: ImportedStatement;
  op: string;
}

/** An op whose statement takes the ACTIVATION word. */
const takesActivation = (op: string) =>
  opOf(op).signatures.some((s) => s.positional.some((p) => p.name === "ACTIVATION"));

/**
 * Folds each such activation layer into the statement of the layer before it (editing that statement); returns
 * the folded layers, each mapped to the layer whose output it now is.
 */
export function foldActivationLayers(
  translated: Map<string, Translated>,
  consumers: Map<string, string[]>,
): Map<string, string> {
  const folded = new Map<string, string>();
  for (const [name, t] of translated) {
    const module = ACTIVATION_MODULES.find((a) => a.keras.layer?.className === t.layer.className);
    const source = t.layer.inputs.length === 1 ? t.layer.inputs[0]! : undefined;
    const before = source === undefined ? undefined : translated.get(source);
    if (!module?.keras.layer || !before || name !== `${source}_${module.keras.layer.base}`) continue;
    if (consumers.get(source!)?.length !== 1 || !takesActivation(before.op)) continue;
    const activation = before.layer.config["activation"];
    if (activation !== undefined && activation !== null && activation !== "linear") continue;
    if (t.statement.statement !== module.name) continue;
    before.statement.positional.push(module.name);
    before.statement.options.push(...t.statement.options);
    folded.set(name, source!);
  }
  return folded;
}
