// Importing, step 2: a Keras graph -> the items of an nnc model. nnc writes a graph as a chain of statements,
// each taking the output of the one before (the current tensor), plus `add NAME...` / `concat NAME...` (the
// current tensor merged with named earlier layers) and `residual { BODY [shortcut { S }] }` (two branches from
// one tensor, added). So a Keras graph is walked back from its output: a layer's (first) input is written just
// before it; an Add whose two inputs both still need computing is a residual over the branches from their
// fork (the Add's immediate dominator); inputs computed earlier are referred to by name. A graph these forms
// cannot write (a Concatenate whose first input is computed before its others, three branches into one Add,
// a layer taking an output other layers were computed after) is an error naming the layer, never a different
// graph.

export interface GraphNode {
  name: string;
  /**
   * How the node takes its inputs (its op's KerasImportRule.graphMerge): none (the input), one input, a sum nnc
   * may write as a residual (Add), or an ordered merge: the current tensor first, then named earlier layers.
   */
  kind: "input" | "one" | "sum" | "ordered";
  /** The nnc op it reads as (for messages). */
  op: string;
  inputs: string[];
}

export type Item =
  /** A statement for layer `layer`; `refs` are the names of its other inputs (add, concat). */
  | { kind: "layer"; layer: string; refs: string[] }
  /** `residual { body [shortcut { ... }] }` from `fork` (its input), whose add is layer `layer`. */
  | { kind: "residual"; layer: string; fork: string; body: Item[]; shortcut?: Item[] };

export interface LinearizeError {
  layer: string;
  detail: string;
}

/** The graph as items, or the first layer nnc's language cannot write. `nodes` are in an order inputs first. */
export function linearize(nodes: GraphNode[], output: string): { items: Item[] } | { error: LinearizeError } {
  const byName = new Map(nodes.map((n, i) => [n.name, { ...n, index: i }]));
  const idom = dominators(nodes);
  const done = new Set<string>();

  /** Writes what `target` needs into `out`, from `entry` (the current tensor; undefined before the input). */
  function express(
    target: string,
    entry: string | undefined,
    out: Item[],
    by: string,
  ): LinearizeError | undefined {
    if (target === entry) return undefined;
    const node = byName.get(target)!;
    if (done.has(target)) {
      return {
        layer: by,
        detail:
          `it takes the output of '${target}', which other layers were computed after: nnc's layers take the ` +
          "output of the statement before them, or name earlier ones only in add and concat",
      };
    }
    switch (node.kind) {
      case "input":
        if (entry !== undefined) return { layer: by, detail: `it takes the input '${target}' in a branch` };
        out.push({ kind: "layer", layer: target, refs: [] });
        done.add(target);
        return undefined;
      case "one": {
        const e = express(node.inputs[0]!, entry, out, target);
        if (e) return e;
        out.push({ kind: "layer", layer: target, refs: [] });
        done.add(target);
        return undefined;
      }
      case "ordered": {
        const [first, ...rest] = node.inputs;
        const e = express(first!, entry, out, target);
        if (e) return e;
        const missing = rest.find((r) => !done.has(r));
        if (missing) {
          return {
            layer: target,
            detail:
              `it joins '${first}' with '${missing}', which is computed after it: nnc's ${node.op} joins the ` +
              "current tensor (its first input) with layers computed before it",
          };
        }
        out.push({ kind: "layer", layer: target, refs: rest });
        done.add(target);
        return undefined;
      }
      case "sum":
        return expressAdd(node, entry, out);
    }
  }

  function expressAdd(node: GraphNode, entry: string | undefined, out: Item[]): LinearizeError | undefined {
    const target = node.name;
    const pending = [...new Set(node.inputs.filter((i) => !done.has(i)))];
    const without = (one: string) => {
      const rest = [...node.inputs];
      rest.splice(rest.indexOf(one), 1);
      return rest;
    };
    if (pending.length === 0) {
      if (entry === undefined || !node.inputs.includes(entry)) {
        return { layer: target, detail: "it adds outputs that other layers were computed after" };
      }
      out.push({ kind: "layer", layer: target, refs: without(entry) });
      done.add(target);
      return undefined;
    }
    if (pending.length === 1) {
      const e = express(pending[0]!, entry, out, target);
      if (e) return e;
      out.push({ kind: "layer", layer: target, refs: without(pending[0]!) });
      done.add(target);
      return undefined;
    }
    // More than two inputs on one chain: the latest is computed last, the others named (`add NAME...`). Two
    // are a residual (below), as nnc writes `residual { }`.
    const latest = [...pending].sort((x, y) => byName.get(y)!.index - byName.get(x)!.index);
    for (const last of node.inputs.length > 2 ? latest : []) {
      const before = new Set(done);
      const chain: Item[] = [];
      if (!express(last, entry, chain, target) && node.inputs.every((i) => i === last || done.has(i))) {
        out.push(...chain, { kind: "layer", layer: target, refs: without(last) });
        done.add(target);
        return undefined;
      }
      done.clear();
      for (const n of before) done.add(n);
    }
    if (pending.length > 2 || node.inputs.length > 2) {
      return {
        layer: target,
        detail:
          `it adds ${node.inputs.length} inputs, more than one of them on a branch of its own; nnc adds two ` +
          "branches (residual { }) or the current tensor and layers computed before it (add NAME...)",
      };
    }
    // Two branches: a residual from their fork.
    const fork = idom.get(target)!;
    const e = express(fork, entry, out, target);
    if (e) return e;
    let first: LinearizeError | undefined;
    let best: { item: Item; done: Set<string>; size: number } | undefined;
    const [a, b] = pending as [string, string];
    const before = new Set(done);
    // Both ways round where both can be written: the longer branch is the body, the shorter the shortcut.
    for (const [body, skip] of [
      [a, b],
      [b, a],
    ] as const) {
      if (body === fork) continue;
      done.clear();
      for (const n of before) done.add(n);
      const bodyItems: Item[] = [];
      const shortcut: Item[] = [];
      const error =
        express(body, fork, bodyItems, target) ??
        (skip === fork ? undefined : express(skip, fork, shortcut, target));
      if (error) {
        first ??= error;
        continue;
      }
      const size = nodeOrder(bodyItems).length - nodeOrder(shortcut).length;
      if (!best || size > best.size) {
        const item: Item = {
          kind: "residual",
          layer: target,
          fork,
          body: bodyItems,
          ...(skip === fork ? {} : { shortcut }),
        };
        best = { item, done: new Set(done), size };
      }
    }
    done.clear();
    for (const n of best?.done ?? before) done.add(n);
    if (best) {
      out.push(best.item);
      done.add(target);
      return undefined;
    }
    return first;
  }

  const items: Item[] = [];
  const error = express(output, undefined, items, output);
  if (error) return { error };
  const unused = nodes.find((n) => !done.has(n.name));
  if (unused) {
    return { error: { layer: unused.name, detail: "its output does not reach the model's output" } };
  }
  return { items };
}

/**
 * Immediate dominators in a DAG listed inputs first (Cooper, Harvey and Kennedy's intersection, one pass in
 * that order): the node every path from the input to a node passes through last. The fork of two branches.
 */
function dominators(nodes: GraphNode[]): Map<string, string> {
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const idom = new Map<string, string>();
  const intersect = (a: string, b: string) => {
    while (a !== b) {
      while (index.get(a)! > index.get(b)!) a = idom.get(a)!;
      while (index.get(b)! > index.get(a)!) b = idom.get(b)!;
    }
    return a;
  };
  for (const node of nodes) {
    if (node.inputs.length === 0) {
      idom.set(node.name, node.name);
      continue;
    }
    idom.set(node.name, node.inputs.reduce(intersect));
  }
  return idom;
}

/** Every item's layer in the order nnc's builder makes nodes of them (a residual's body, shortcut, then add). */
export function nodeOrder(items: Item[]): string[] {
  return items.flatMap((item) =>
    item.kind === "layer"
      ? [item.layer]
      : [...nodeOrder(item.body), ...nodeOrder(item.shortcut ?? []), item.layer],
  );
}

/** The layers other statements name (`add NAME`): they need `name=`. */
export function referenced(items: Item[], out = new Set<string>()): Set<string> {
  for (const item of items) {
    if (item.kind === "layer") item.refs.forEach((r) => out.add(r));
    else {
      referenced(item.body, out);
      referenced(item.shortcut ?? [], out);
    }
  }
  return out;
}

/**
 * A residual block has no name, so one whose add a later statement names is written as its body and
 * `add FORK` instead (the same node), where the skip path is the identity; with a shortcut it cannot be.
 */
export function nameResiduals(items: Item[]): { items: Item[] } | { error: LinearizeError } {
  for (;;) {
    const names = referenced(items);
    let changed = false;
    let error: LinearizeError | undefined;
    const rewrite = (list: Item[]): Item[] =>
      list.flatMap((item): Item[] => {
        if (item.kind === "layer") return [item];
        const body = rewrite(item.body);
        const shortcut = item.shortcut && rewrite(item.shortcut);
        if (!names.has(item.layer)) return [{ ...item, body, ...(shortcut ? { shortcut } : {}) }];
        if (shortcut) {
          error ??= {
            layer: item.layer,
            detail:
              "later layers take its output by name, and it adds two computed branches: nnc writes that as a " +
              "residual block, which has no name",
          };
          return [item];
        }
        changed = true;
        return [...body, { kind: "layer", layer: item.layer, refs: [item.fork] }];
      });
    items = rewrite(items);
    if (error) return { error };
    if (!changed) return { items };
  }
}
