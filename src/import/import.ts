// Importing: a Keras / TensorFlow.js Layers model's JSON -> an nnc spec (.nn text), checked before it is given.
//   JSON text -> readKerasModel (one graph, any dialect) -> each layer's op rule (src/ops/<op>.ts fromKeras,
//   found by Keras class name) -> linearize (the graph as nnc's chain, add/concat and residual) -> .nn text
//   -> compile (the checker) -> the spec, or diagnostics pointing at the JSON lines of the layers at fault.
// A leading Rescaling(scale=1/k, offset=0) is the input's scale k (the data's divisor), not a layer: it goes on
// the train block's data line (`scale=k`), as `nnc train` saves such a model with that Rescaling in front.
import { basename, extname } from "node:path";
import { compile } from "../compile.ts";
import { diagnostic, hasErrors, SourceText, type Diagnostic } from "../diagnostics/index.ts";
import type { Program } from "../ir/schema.ts";
import { formatSource } from "../format/index.ts";
import { KerasConfigReader, roundFloat, type ImportedStatement } from "../ops/keras-import.ts";
import { KERAS_IMPORT_CLASSES, opForKerasClass, opForStatement, opOf } from "../ops/index.ts";
import { readSubtractions } from "../ops/subtract.ts";
import { foldActivationLayers } from "./activation-layers.ts";
import { readKerasModel, type KerasGraph, type KerasLayer } from "./keras-json.ts";
import { linearize, nameResiduals, nodeOrder, referenced, type GraphNode, type Item } from "./linearize.ts";

export interface ImportOptions {
  /** The JSON file, as diagnostics show it. */
  filename: string;
  /** The spec's file name: a file of bare layers names its model after it (default: the JSON's base name). */
  specName?: string;
  /** The train block's data source (`--data`); by default one that fits the model, or a placeholder. */
  data?: string;
}

/** One imported layer: its Keras name and class, and its name in the spec's IR. */
export interface ImportedLayer {
  keras: string;
  className: string;
  nnc: string;
}

export interface ImportResult {
  ok: boolean;
  /** The spec, formatted as `nnc fmt` prints it. */
  text?: string;
  /** The spec's checked program. */
  program?: Program;
  /** Located in the JSON text; warnings (W740) say what was approximated. */
  diagnostics: Diagnostic[];
  /** The model's layers in IR order (the Rescaling read as the input scale is not one). */
  layers?: ImportedLayer[];
  /** The data's divisor the model was trained with (its leading Rescaling's 1/scale); 1 without one. */
  inputScale: number;
  graph?: KerasGraph;
}

/** Characters of an nnc word (src/parse/lex.ts): names kept as written when they are one. */
const NAME = /^[\p{L}_][\p{L}0-9_\-.:/]*$/u;

interface Translated {
  layer: KerasLayer;
  statement: ImportedStatement;
  /** The op the statement writes, for checking the compiled IR against the graph. */
  op: string;
  notes: string[];
}

/** Keras' Rescaling as the input's divisor k (scale = 1/k), or the problem with it. */
function inputScaleOf(
  layer: KerasLayer,
  graph: KerasGraph,
  consumers: Map<string, string[]>,
): number | Diagnostic {
  const at = layer.span ? { span: layer.span } : {};
  const problem = (key: string, value: unknown, reason: string) =>
    diagnostic(
      "E743",
      { layer: layer.name, className: "Rescaling", key, value: JSON.stringify(value), reason },
      at,
    );
  const { scale, offset } = layer.config;
  if (layer.inputs[0] !== graph.input || (consumers.get(graph.input) ?? []).length !== 1) {
    return diagnostic(
      "E744",
      {
        layer: layer.name,
        className: "Rescaling",
        detail:
          "nnc scales only the model's input (the data's scale=, applied before the first layer); a Rescaling " +
          "elsewhere, or beside another use of the input, is not one",
      },
      at,
    );
  }
  if (offset !== undefined && offset !== 0) {
    return problem("offset", offset, "nnc's input scale divides raw values (offset 0)");
  }
  if (typeof scale !== "number" || !(scale > 0)) {
    return problem("scale", scale, "nnc's input scale is one positive divisor (scale = 1/k)");
  }
  const k = 1 / scale;
  const rounded = Math.round(k);
  return Math.abs(k - rounded) <= 1e-6 * k ? rounded : roundFloat(k);
}

/** The layers in an order where every input comes first (Keras writes them so; a hand-made file may not). */
function topological(layers: KerasLayer[]): KerasLayer[] | undefined {
  const placed = new Set<string>();
  const out: KerasLayer[] = [];
  const left = [...layers];
  while (left.length > 0) {
    const i = left.findIndex((l) => l.inputs.every((n) => placed.has(n)));
    if (i < 0) return undefined;
    const [next] = left.splice(i, 1);
    placed.add(next!.name);
    out.push(next!);
  }
  return out;
}

const valueText = (v: string | number | boolean) => String(v);

export async function importKeras(text: string, options: ImportOptions): Promise<ImportResult> {
  const file = options.filename;
  const source = new SourceText(file, text);
  const finish = (diagnostics: Diagnostic[], extra: Partial<ImportResult> = {}): ImportResult => ({
    ok: !hasErrors(diagnostics) && extra.text !== undefined,
    diagnostics: source.locate(diagnostics.map((d) => ({ ...d, file }))),
    inputScale: 1,
    ...extra,
  });
  const read = readKerasModel(text, file);
  if (!read.graph) return finish(read.diagnostics);
  // subtract's Keras export (an Add of a Rescaling(-1)) is read as the Subtract it stands for.
  const graph = { ...read.graph, layers: readSubtractions(read.graph.layers) };
  const ordered = topological(graph.layers);
  if (!ordered) {
    return finish([
      diagnostic("E741", { model: graph.name, detail: "its layers' inbound nodes form a cycle" }),
    ]);
  }
  const consumers = new Map<string, string[]>();
  for (const layer of ordered)
    for (const i of layer.inputs) consumers.set(i, [...(consumers.get(i) ?? []), layer.name]);

  // Each layer through its op's rule; every problem of every layer is reported in one run.
  const diagnostics: Diagnostic[] = [];
  const translated = new Map<string, Translated>();
  let inputScale = 1;
  const rescaled = new Map<string, string>();
  for (const layer of ordered) {
    const at = layer.span ? { span: layer.span } : {};
    if (layer.className === "Rescaling") {
      const k = inputScaleOf(layer, graph, consumers);
      if (typeof k === "number") {
        inputScale = k;
        rescaled.set(layer.name, layer.inputs[0]!);
      } else diagnostics.push(k);
      continue;
    }
    const op = opForKerasClass(layer.className);
    if (!op?.fromKeras) {
      diagnostics.push(
        diagnostic(
          "E742",
          { layer: layer.name, className: layer.className },
          {
            ...at,
            help: `nnc imports ${[...KERAS_IMPORT_CLASSES, "Rescaling (the input's scale)"].join(", ")}`,
          },
        ),
      );
      continue;
    }
    const reader = new KerasConfigReader(layer.config);
    const statement = op.fromKeras.read(reader, layer.className);
    for (const p of reader.problems) {
      diagnostics.push(diagnostic("E743", { layer: layer.name, className: layer.className, ...p }, at));
    }
    for (const note of reader.notes) {
      diagnostics.push(
        diagnostic("W740", { layer: layer.name, className: layer.className, detail: note }, at),
      );
    }
    if (layer.className === "InputLayer" && layer.name !== graph.input) {
      diagnostics.push(
        diagnostic("E741", { model: graph.name, detail: `'${layer.name}' is a second InputLayer` }, at),
      );
    }
    // The op of the statement read: a class may read as another op's (Dropout with a per-channel noise_shape
    // is spatial_dropout).
    const written = opForStatement(statement.statement)?.op ?? op.op;
    translated.set(layer.name, { layer, statement, op: written, notes: reader.notes });
  }
  if (hasErrors(diagnostics)) return finish(diagnostics, { graph });

  // nnc's own `dense N leaky_relu` (a linear Dense, then its LeakyReLU) is one statement again.
  const folded = foldActivationLayers(translated, consumers);
  // The graph without the Rescaling and the folded activation layers: their consumers take their input.
  const through = (name: string) => rescaled.get(name) ?? folded.get(name) ?? name;
  const nodes: GraphNode[] = ordered
    .filter((l) => !rescaled.has(l.name) && !folded.has(l.name))
    .map((l) => {
      const op = translated.get(l.name)!.op;
      const def = opOf(op);
      const kind =
        def.arity === "none"
          ? "input"
          : def.arity === "one"
            ? "one"
            : (def.fromKeras?.graphMerge ?? "ordered");
      if (kind === "one" && l.inputs.length !== 1) {
        diagnostics.push(
          diagnostic(
            "E744",
            {
              layer: l.name,
              className: l.className,
              detail: `it takes ${l.inputs.length} inputs; nnc's ${op} takes one`,
            },
            l.span ? { span: l.span } : {},
          ),
        );
      }
      return { name: l.name, kind, op, inputs: l.inputs.map(through) };
    });
  if (hasErrors(diagnostics)) return finish(diagnostics, { graph });
  const linear = linearize(nodes, through(graph.output));
  const named = "items" in linear ? nameResiduals(linear.items) : linear;
  if ("error" in named) {
    const layer = graph.layers.find((l) => l.name === named.error.layer)!;
    diagnostics.push(
      diagnostic(
        "E744",
        { layer: layer.name, className: layer.className, detail: named.error.detail },
        layer.span ? { span: layer.span } : {},
      ),
    );
    return finish(diagnostics, { graph });
  }
  const items = named.items;

  // Names: Keras' where a statement refers to the layer and it is an nnc word, else a word made from it.
  const refs = referenced(items);
  const taken = new Set(graph.layers.map((l) => l.name));
  const names = new Map<string, string>();
  for (const name of refs) {
    if (NAME.test(name)) {
      names.set(name, name);
      continue;
    }
    let made = name.replace(/[^\p{L}0-9_\-.:/]/gu, "_").replace(/^[^\p{L}_]/u, (c) => `_${c}`);
    while (taken.has(made)) made = `${made}_`;
    taken.add(made);
    names.set(name, made);
  }

  // The text, each line remembering the layer it writes (to point the checker's errors at the JSON).
  const lines: { text: string; layer?: string }[] = [];
  const header = `# Imported by nnc import from ${basename(file)}: Keras ${graph.kind} model '${graph.name}'${graph.kerasVersion ? ` (${graph.kerasVersion})` : ""}.`;
  lines.push({ text: header });
  const emit = (list: Item[], indent: string) => {
    for (const item of list) {
      const t = translated.get(item.layer)!;
      for (const note of t.notes) lines.push({ text: `${indent}# ${item.layer}: ${note}` });
      if (item.kind === "residual") {
        lines.push({ text: `${indent}residual {`, layer: item.layer });
        emit(item.body, `${indent}  `);
        if (item.shortcut) {
          lines.push({ text: `${indent}  shortcut {`, layer: item.layer });
          emit(item.shortcut, `${indent}    `);
          lines.push({ text: `${indent}  }`, layer: item.layer });
        }
        lines.push({ text: `${indent}}`, layer: item.layer });
        continue;
      }
      const s = t.statement;
      const own = names.get(item.layer);
      if (own !== undefined && own !== item.layer) {
        lines.push({
          text: `${indent}# '${item.layer}' is named ${own} here: Keras' name is not an nnc name`,
        });
      }
      const words = [
        s.statement,
        ...item.refs.map((r) => names.get(r)!),
        ...s.positional.map(String),
        ...s.options.map(([k, v]) => `${k}=${valueText(v)}`),
        ...(own !== undefined ? [`name=${own}`] : []),
      ];
      lines.push({ text: `${indent}${words.join(" ")}`, layer: item.layer });
    }
  };
  emit(items, "");
  const layerLines = lines.length;

  const specName = options.specName ?? `${basename(file, extname(file))}.nn`;
  const trainBlock = (data: string, comment: string) => [
    "",
    comment,
    "train {",
    `  data ${data}${inputScale !== 1 ? ` scale=${inputScale}` : ""}`,
    "}",
  ];
  const textOf = (data: string, comment: string) =>
    [...lines.map((l) => l.text), ...trainBlock(data, comment)].join("\n") + "\n";

  // Compiled once with the data given (or mnist) to learn the model's shapes, then with the data that fits.
  const given = options.data;
  let draft = compile(textOf(given ?? "mnist", "#"), { filename: specName });
  const errors = draft.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    for (const d of errors) {
      const owner = d.line === undefined ? undefined : lines[d.line - 1]?.layer;
      const layer = owner === undefined ? undefined : graph.layers.find((l) => l.name === owner);
      if (!layer || (d.line ?? 0) > layerLines) {
        throw new Error(`internal: nnc import wrote a spec that does not check: ${d.code} ${d.message}`);
      }
      diagnostics.push(
        diagnostic(
          "E745",
          { layer: layer.name, className: layer.className, message: `${d.message} [${d.code}]` },
          layer.span ? { span: layer.span, ...(d.help ? { help: d.help } : {}) } : {},
        ),
      );
    }
    return finish(diagnostics, { graph });
  }
  let program = draft.program!;
  const order = nodeOrder(items);
  const irLayers = program.models[0]!.layers;
  if (irLayers.length !== order.length || irLayers.some((l, i) => l.op !== translated.get(order[i]!)!.op)) {
    throw new Error("internal: nnc import's spec builds other nodes than the Keras graph has");
  }
  // A normalization's positive axis must be its input's last.
  irLayers.forEach((node, i) => {
    const t = translated.get(order[i]!)!;
    const axis = t.statement.lastAxis;
    const input = irLayers.find((l) => l.name === node.inputs[0]);
    const rank = input?.outputShape?.length;
    if (axis !== undefined && rank !== undefined && axis !== rank - 1) {
      const l = t.layer;
      diagnostics.push(
        diagnostic(
          "E743",
          {
            layer: l.name,
            className: l.className,
            key: "axis",
            value: String(axis),
            reason: `nnc computes it over the last axis only (${rank - 1} for this rank-${rank} input)`,
          },
          l.span ? { span: l.span } : {},
        ),
      );
    }
  });
  if (hasErrors(diagnostics)) return finish(diagnostics, { graph });

  let data = given;
  let comment = `# ${basename(file)} does not say what the model was trained on: data given to nnc import.`;
  if (data === undefined) {
    const input = irLayers[0]!.outputShape!.slice(1) as number[];
    const output = irLayers.at(-1)!.outputShape!;
    const pixels =
      input.reduce((a, b) => a * b, 1) === 784 && input.every((d) => d === 784 || d === 28 || d === 1);
    const tenClasses = output.length === 2 && output[1] === 10;
    if (pixels && tenClasses) {
      data = inputScale === 1 ? "mnist" : "fashion-mnist";
      comment =
        `# ${basename(file)} does not say what the model was trained on: ${data} fits its input and output; ` +
        "set yours here or with --data.";
    } else {
      data = "csv:data.csv";
      comment =
        `# ${basename(file)} does not say what the model was trained on: set the data here or with --data ` +
        "(data.csv is a placeholder).";
    }
  }
  const raw = textOf(data.includes(" ") ? JSON.stringify(data) : data, comment);
  const formatted = await formatSource(raw, { filepath: specName });
  if (formatted !== raw) throw new Error("internal: nnc import wrote a spec nnc fmt would change");
  const final = compile(formatted, { filename: specName });
  if (!final.ok) {
    const first = final.diagnostics.find((d) => d.severity === "error");
    // The data line is the user's (--data): its errors are theirs; anything else is ours.
    if (!first || first.line === undefined || first.line <= layerLines) {
      throw new Error(`internal: nnc import wrote a spec that does not check: ${first?.message}`);
    }
    return finish(
      [...diagnostics, ...final.diagnostics.map(({ file: _f, span: _s, line: _l, column: _c, ...d }) => d)],
      {
        graph,
      },
    );
  }
  program = final.program!;
  const layers = program.models[0]!.layers.map((node, i) => {
    const t = translated.get(order[i]!)!;
    return { keras: t.layer.name, className: t.layer.className, nnc: node.name };
  });
  return finish(diagnostics, { text: formatted, program, layers, inputScale, graph });
}
