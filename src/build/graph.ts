// Building the IR: a model's items -> its graph. Layer statements chain (each takes the current tensor);
// `add`/`concat NAME...` also take the named earlier layers; `residual { BODY [shortcut { S }] }` adds BODY(x)
// to x (or to S(x)); `repeat N { BODY }` repeats BODY in sequence; a use of a `block NAME(PARAMS) { BODY }` is
// its body with the arguments in place of the parameters. Everything is expanded here: the IR holds plain
// nodes, each with the span of its source line and the spans of the uses it was expanded from.
import { diagnostic, didYouMean, type Diagnostic } from "../diagnostics/index.ts";
import type { Layer, Span } from "../ir/schema.ts";
import type { Arg, Block, Item, Param, Statement, Value } from "../parse/syntax-tree.ts";
import type { Bound } from "./bind.ts";
import { opOf } from "../ops/index.ts";
import { makeLayer } from "./layers.ts";
import { assignLayerNames } from "./names.ts";
import type { Signature } from "./signatures.ts";

/** Keywords of blocks that may stand among a model's layers. */
export const LAYER_BLOCKS = ["residual", "repeat"] as const;

/** At most this many nodes per model after expansion: a guard against `repeat 1000000 { ... }`. */
export const MAX_NODES = 20_000;

/**
 * At most this many items (statements, blocks, uses) visited while expanding one model: expansions that emit
 * nothing (empty nested repeats, chains of blocks each using the next twice) are bounded too, not only nodes.
 */
export const MAX_EXPANSION_STEPS = 200_000;

/** A block definition: `block basic(filters, stride=1) { ... }`. */
export interface BlockDefinition {
  name: string;
  params: Param[];
  items: Item[];
  span: Span;
}

/** What the file-level builder lends the expansion: statement resolution and binding, and its diagnostics. */
export interface ExpansionHost {
  diags: Diagnostic[];
  /** The layer signature a statement names, or undefined after reporting why not. */
  resolve(stmt: Statement, blockDesc: string): Signature | undefined;
  bind(stmt: Statement, sig: Signature): { sig: Signature; bound: Bound } | undefined;
  blocks: ReadonlyMap<string, BlockDefinition>;
  /** Blocks whose definitions were refused (already reported): their uses are skipped silently. */
  invalidBlocks: ReadonlySet<string>;
}

/** Where names are looked up: the model, or one block instance or repeat iteration. */
interface Scope {
  /** The user's name (`name=skip`) -> the node's id. */
  names: Map<string, number>;
  /** Names given in this scope's items (also later ones), to tell "later" from "unknown" (E219 / E218). */
  declared: Set<string>;
  /** Where its statements stand, for E210: "model 'resnet'", "block 'basic'". */
  desc: string;
  /** Whose names it holds, for E218: "model 'resnet'", "block 'basic'". */
  where: string;
  /** Block parameters -> the arguments given at the use (their spans point at the use). */
  params: Map<string, Value>;
  /** Names given inside repeat or block bodies within this scope's items: not visible here (E218's help). */
  inner: Set<string>;
  /** Spans of the uses this scope is expanded from, innermost first. */
  uses: Span[];
  /** Block names being expanded, outermost first (recursion is E221). */
  stack: string[];
}

export interface ExpandedModel {
  layers: Layer[];
  /**
   * Indices of nodes whose input follows a statement left out (the checker treats that input as unknown);
   * `layers.length` when the last statements were left out, so the output itself is not what was written.
   */
  gaps: Set<number>;
}

/** Names given with `name=` among items, looking into residual and shortcut bodies (same scope). */
function declaredNames(items: Item[], out = new Set<string>()): Set<string> {
  for (const item of items) {
    if (item.kind === "statement") {
      for (const arg of item.args)
        if (arg.kind === "option" && arg.key.text === "name") out.add(arg.value.text);
    } else if (
      item.kind === "block" &&
      (item.keyword.text === "residual" || item.keyword.text === "shortcut")
    ) {
      declaredNames(item.items, out);
    }
  }
  return out;
}

/** Names given with `name=` inside the repeat bodies among items (at any depth): local to their passes. */
function innerNames(items: Item[], out = new Set<string>(), inside = false): Set<string> {
  for (const item of items) {
    if (item.kind === "statement" && inside) {
      for (const arg of item.args)
        if (arg.kind === "option" && arg.key.text === "name") out.add(arg.value.text);
    } else if (item.kind === "block") {
      innerNames(item.items, out, inside || item.keyword.text === "repeat");
    }
  }
  return out;
}

/**
 * Names given inside block uses and repeat passes, made unique as Keras makes layer names: the first keeps
 * the name, later ones take _1, _2, ... (skipping names taken anywhere in the model). Names given in the model
 * itself are kept as written: two of them alike are the user's E213.
 */
function uniqueLocalNames(layers: Layer[], local: ReadonlySet<number>): void {
  const taken = new Set(layers.filter((l, i) => l.name && !local.has(i)).map((l) => l.name));
  layers.forEach((layer, i) => {
    if (!local.has(i)) return;
    let name = layer.name;
    for (let n = 1; taken.has(name); n++) name = `${layer.name}_${n}`;
    layer.name = name;
    taken.add(name);
  });
}

/** A value with block parameters replaced by the arguments of the use. */
function substitute(value: Value, params: Map<string, Value>): Value {
  return value.kind === "word" ? (params.get(value.text) ?? value) : value;
}

function substituteStatement(stmt: Statement, params: Map<string, Value>): Statement {
  if (params.size === 0) return stmt;
  const args: Arg[] = stmt.args.map((a) =>
    a.kind === "option" ? { ...a, value: substitute(a.value, params) } : substitute(a, params),
  );
  return { ...stmt, args };
}

/**
 * Expands one model's items into its graph; reports problems to the host. `desc` says where statements stand
 * (E210), `scopeDesc` whose names `add`/`concat` look up (E218).
 */
export function expandModel(
  host: ExpansionHost,
  desc: string,
  scopeDesc: string,
  items: Item[],
): ExpandedModel {
  const layers: Layer[] = [];
  const gaps = new Set<number>();
  /** Node ids are positions in `layers`; inputs hold ids as strings until names are final. */
  let gapPending = false;
  let tooLarge = false;
  let steps = 0;
  /** Nodes named inside a block use or repeat pass: their names are made unique at the end, Keras style. */
  const localNames = new Set<number>();
  const report = (d: Diagnostic) => host.diags.push(d);

  function emit(node: Layer, inputs: number[], scope: Scope): number {
    node.inputs = inputs.map(String);
    if (scope.uses.length > 0) node.expandedFrom = [...scope.uses];
    if (node.name && scope.uses.length > 0) localNames.add(layers.length);
    if (gapPending) gaps.add(layers.length);
    gapPending = false;
    layers.push(node);
    return layers.length - 1;
  }

  /** Counts one expansion step; false (after one E224, at the outermost use or repeat) past the bounds. */
  function withinBounds(span: Span, scope: Scope): boolean {
    steps++;
    if (!tooLarge && layers.length <= MAX_NODES && steps <= MAX_EXPANSION_STEPS) return true;
    if (!tooLarge) {
      const outer = scope.uses.at(-1) ?? span;
      const what = scope.uses.length > 0 ? "this use" : "this model";
      report(diagnostic("E224", { block: what, limit: MAX_NODES }, { span: outer }));
    }
    tooLarge = true;
    return false;
  }

  /** Resolves `add`/`concat` names in the scope: node ids, or undefined after reporting. */
  function resolveNames(stmt: Statement, names: string[], spans: Span | undefined, scope: Scope) {
    const ids: number[] = [];
    let ok = true;
    const values = stmt.args.filter((a): a is Value => a.kind !== "option");
    names.forEach((name, i) => {
      const id = scope.names.get(name);
      if (id !== undefined) return void ids.push(id);
      ok = false;
      const at = { span: values[i]?.span ?? spans ?? stmt.span };
      if (scope.declared.has(name)) {
        report(diagnostic("E219", { name, op: stmt.head.text }, at));
        return;
      }
      const help = scope.inner.has(name)
        ? `'${name}' is named inside a repeat or block body: a name there belongs to one pass or use, and ` +
          "is not seen outside it"
        : (didYouMean(name, scope.names.keys()) ??
          (scope.names.size === 0
            ? `name the layer to refer to: e.g. 'conv2d 16 3x3 name=${name}'`
            : `names here: ${[...scope.names.keys()].join(", ")}`));
      report(diagnostic("E218", { name, op: stmt.head.text, scope: scope.where }, { ...at, help }));
    });
    return ok ? ids : undefined;
  }

  /** Expands items from `current` (a node id, or undefined before the input); returns the new current. */
  function expandItems(items: Item[], current: number | undefined, scope: Scope): number | undefined {
    for (const item of items) {
      if (item.kind === "comment") continue;
      if (!withinBounds(item.span, scope)) return current;
      if (item.kind === "block") current = expandBlock(item, current, scope);
      else current = expandStatement(item, current, scope);
    }
    return current;
  }

  function expandStatement(raw: Statement, current: number | undefined, scope: Scope): number | undefined {
    const stmt = substituteStatement(raw, scope.params);
    const block = host.blocks.get(stmt.head.text);
    if (block) return expandUse(stmt, block, current, scope);
    if (host.invalidBlocks.has(stmt.head.text)) {
      // Its definition is reported already; its uses would only repeat that.
      gapPending = true;
      return current;
    }
    // Resolved on the statement as written (its head is never a parameter): reported once, however often a
    // block body or repeat expands it.
    const sig = host.resolve(raw, scope.desc);
    const bound = sig && host.bind(stmt, sig);
    if (!bound) {
      gapPending = true;
      return current;
    }
    const node = makeLayer(bound.sig, bound.bound, stmt.span);
    let inputs = current === undefined || opOf(node).arity === "none" ? [] : [current];
    // Variadic (add a b) or one name (subtract a).
    const layer = bound.bound.values.get("LAYER") as string[] | string | undefined;
    const merged = typeof layer === "string" ? [layer] : layer;
    if (merged) {
      const ids = resolveNames(stmt, merged, bound.bound.spans.get("LAYER"), scope);
      if (!ids || current === undefined) {
        gapPending = true;
        return current;
      }
      inputs = [current, ...ids];
    }
    const id = emit(node, inputs, scope);
    const given = bound.bound.values.get("name") as string | undefined;
    if (given !== undefined) scope.names.set(given, id);
    return id;
  }

  function expandBlock(block: Block, current: number | undefined, scope: Scope): number | undefined {
    const keyword = block.keyword.text;
    const at = { span: block.keyword.span };
    if (keyword === "residual") {
      if (block.args.length > 0) {
        report(diagnostic("E223", { keyword, detail: "takes no arguments: residual { BODY }" }, at));
      }
      const shortcuts = block.items.filter(
        (i): i is Block => i.kind === "block" && i.keyword.text === "shortcut",
      );
      for (const extra of shortcuts.slice(1)) {
        report(
          diagnostic(
            "E223",
            { keyword: "shortcut", detail: "is given twice in this residual" },
            { span: extra.keyword.span },
          ),
        );
      }
      const body = block.items.filter((i) => !shortcuts.includes(i as Block));
      if (!body.some((i) => i.kind !== "comment")) {
        report(
          diagnostic(
            "E223",
            { keyword, detail: "has an empty body: residual { conv2d 16 3x3 padding=same; batchnorm }" },
            at,
          ),
        );
        gapPending = true;
        return current;
      }
      if (current === undefined) {
        report(diagnostic("E223", { keyword, detail: "needs a layer before it (the input it adds to)" }, at));
        return current;
      }
      const x = current;
      const before = layers.length;
      const out = expandItems(body, x, scope);
      // A body whose every statement was left out leaves nothing to add (nor a skip path to expand).
      if (out === undefined || out === x || layers.length === before) {
        gapPending = true;
        return out;
      }
      const shortcut = shortcuts[0];
      if (shortcut && shortcut.args.length > 0) {
        report(
          diagnostic(
            "E223",
            { keyword: "shortcut", detail: "takes no arguments: shortcut { LAYERS }" },
            { span: shortcut.keyword.span },
          ),
        );
      }
      const skip = shortcut ? (expandItems(shortcut.items, x, scope) ?? x) : x;
      const add: Layer = { op: "add", name: "", inputs: [], span: block.keyword.span };
      return emit(add, [out, skip], scope);
    }
    if (keyword === "repeat") {
      const count = repeatCount(block, scope);
      if (count === undefined) {
        gapPending = true;
        return current;
      }
      for (let k = 0; k < count && !tooLarge; k++) {
        // Each pass is a scope of its own: a name given in the body names that pass's layer.
        const pass: Scope = {
          ...scope,
          names: new Map(scope.names),
          declared: declaredNames(block.items, new Set(scope.declared)),
          uses: [block.keyword.span, ...scope.uses],
        };
        const before = layers.length;
        current = expandItems(block.items, current, pass);
        // Every pass expands the same body: one that emits nothing, all do.
        if (layers.length === before) break;
      }
      return current;
    }
    if (keyword === "shortcut") {
      report(diagnostic("E223", { keyword, detail: "may only appear inside a residual { } block" }, at));
    } else if (["model", "train", "experiment", "block"].includes(keyword)) {
      report(diagnostic("E105", { keyword }, at));
    } else {
      const help = didYouMean(keyword, LAYER_BLOCKS);
      report(diagnostic("E207", { name: keyword }, help ? { ...at, help } : at));
    }
    gapPending = true;
    return current;
  }

  /** N of `repeat N {`, or undefined after reporting why it is no count. */
  function repeatCount(block: Block, scope: Scope): number | undefined {
    const [written, ...rest] = block.args;
    const first = written && written.kind !== "option" ? substitute(written, scope.params) : written;
    const at = { span: block.keyword.span };
    if (!first || first.kind === "option" || rest.length > 0) {
      report(
        diagnostic(
          "E223",
          { keyword: "repeat", detail: "takes one count: repeat N { BODY }" },
          first ? { span: first.span } : at,
        ),
      );
      return undefined;
    }
    if (first.kind !== "number" || !Number.isInteger(first.value)) {
      report(
        diagnostic(
          "E202",
          { op: "repeat", what: "N", expected: "an integer", got: first.text },
          { span: first.span },
        ),
      );
      return undefined;
    }
    if (first.value < 1 || first.value > MAX_NODES) {
      report(
        diagnostic(
          "E206",
          { what: "'repeat' N", constraint: `an integer in [1, ${MAX_NODES}]`, got: first.text },
          { span: first.span },
        ),
      );
      return undefined;
    }
    return first.value;
  }

  /** A block use: its arguments bound to the parameters, then its body expanded in a scope of its own. */
  function expandUse(stmt: Statement, block: BlockDefinition, current: number | undefined, scope: Scope) {
    if (scope.stack.includes(block.name)) {
      const chain = [...scope.stack.slice(scope.stack.indexOf(block.name)), block.name].join(" -> ");
      report(diagnostic("E221", { chain }, { span: stmt.head.span }));
      gapPending = true;
      return current;
    }
    const params = bindUse(stmt, block);
    if (!params) {
      gapPending = true;
      return current;
    }
    const inner: Scope = {
      names: new Map(),
      declared: declaredNames(block.items),
      desc: `block '${block.name}'`,
      where: `block '${block.name}'`,
      inner: innerNames(block.items),
      params,
      uses: [stmt.span, ...scope.uses],
      stack: [...scope.stack, block.name],
    };
    return expandItems(block.items, current, inner);
  }

  /** The arguments of a block use by parameter, or undefined after reporting (E201, E203, E204, E205). */
  function bindUse(stmt: Statement, block: BlockDefinition): Map<string, Value> | undefined {
    const before = host.diags.length;
    const out = new Map<string, Value>();
    const usage = `${block.name} ${block.params.map((p) => (p.default ? `[${p.name.text}=${p.default.text}]` : p.name.text.toUpperCase())).join(" ")}`;
    const names = block.params.map((p) => p.name.text);
    let slot = 0;
    for (const arg of stmt.args) {
      if (arg.kind === "option") {
        const key = arg.key.text;
        if (!names.includes(key)) {
          const help = didYouMean(key, names);
          report(
            diagnostic("E201", { key, op: block.name }, { span: arg.span, help: help ?? `usage: ${usage}` }),
          );
        } else if (out.has(key)) report(diagnostic("E205", { key }, { span: arg.span }));
        else out.set(key, arg.value);
        continue;
      }
      const param = names[slot++];
      if (param === undefined) {
        report(diagnostic("E204", { op: block.name, got: arg.text, usage }, { span: arg.span }));
        continue;
      }
      if (out.has(param)) report(diagnostic("E205", { key: param }, { span: arg.span }));
      else out.set(param, arg);
    }
    for (const p of block.params) {
      if (out.has(p.name.text)) continue;
      if (p.default) out.set(p.name.text, p.default);
      else
        report(
          diagnostic(
            "E203",
            { op: block.name, what: `${p.name.text} (a block parameter)`, usage },
            { span: stmt.span },
          ),
        );
    }
    return host.diags.length === before ? out : undefined;
  }

  const root: Scope = {
    names: new Map(),
    declared: declaredNames(items),
    inner: innerNames(items),
    desc,
    where: scopeDesc,
    params: new Map(),
    uses: [],
    stack: [],
  };
  expandItems(items, undefined, root);
  // Statements left out at the end: the model's output is not what was written (index past the last node).
  if (gapPending) gaps.add(layers.length);
  uniqueLocalNames(layers, localNames);
  // Final names (Keras style, explicit ones kept), then inputs from ids to names.
  assignLayerNames(layers);
  for (const node of layers) node.inputs = node.inputs.map((id) => layers[Number(id)]!.name);
  return { layers, gaps };
}
