// Building the IR: syntax tree (parse/syntax-tree.ts) -> IR program (ir/schema.ts), unchecked (no shapes or
// parameter counts yet). Walks the file's blocks, binds each statement to its signature and reports every
// problem it finds, skipping the bad statement and going on, so one run shows them all.
import { basename } from "node:path";
import { diagnostic, didYouMean, type Diagnostic } from "../diagnostics/index.ts";
import type { Experiment, Model, Program, Span, Train } from "../ir/schema.ts";
import { IR_VERSION, OPTIMIZERS } from "../ir/schema.ts";
import type { Block, Item, SourceFile, Statement } from "../parse/syntax-tree.ts";
import { bindStatement, type Bound } from "./bind.ts";
import { BoundedDiagnostics, MAX_BUILD_ERRORS, TooManyErrors } from "./error-bound.ts";
import { foreignStatementHelp } from "./foreign-names.ts";
import { expandModel, LAYER_BLOCKS, type BlockDefinition, type ExpansionHost } from "./graph.ts";
import {
  applyExperimentSetting,
  applyTrainSetting,
  defaultTrain,
  type ExperimentDraft,
  type TrainParts,
} from "./settings.ts";
import {
  ALL_SIGNATURES,
  LAYER_SIGNATURES,
  namesFor,
  signatureOf,
  type Context,
  type Signature,
} from "./signatures.ts";

/**
 * What a block or block parameter may not be called, so that uses and bodies read unambiguously: an op or
 * statement, a block keyword, or a word that is a value of a layer option (`same`, `relu`, `true`).
 */
function shadows(name: string): string | undefined {
  if (signatureOf(name)) return `the statement '${name}'`;
  if ([...BLOCKS, ...LAYER_BLOCKS, "shortcut"].includes(name)) return `the block keyword '${name}'`;
  if (name === "true" || name === "false") return `the value '${name}'`;
  const value = LAYER_SIGNATURES.flatMap((s) => [...s.positional, ...s.options]).find(
    (p) => p.type.kind === "enum" && p.type.values.includes(name),
  );
  return value ? `the value '${name}' (of ${value.name})` : undefined;
}

export interface BuildOptions {
  /** Names the anonymous model of a file of bare layers (its base name without extension). */
  filename?: string;
}

export interface BuildResult {
  /** The program with bad statements left out; absent when nothing usable was built (no model). */
  program?: Program;
  diagnostics: Diagnostic[];
  /**
   * Where statements were left out, per model: the indices of the layers that follow a dropped statement.
   * The checker treats the shape there as unknown, so one mistake is not reported again by every later layer.
   */
  gaps: Map<string, Set<number>>;
}

const BLOCKS = ["model", "train", "experiment", "block"];
const WHERE: Record<Context, string> = {
  layer: "layer op",
  train: "train setting",
  experiment: "experiment setting",
};
const BELONGS: Record<Context, string> = {
  layer: "a model (or the file's top level)",
  train: "a train { } or experiment block",
  experiment: "an experiment block",
};

/** The model name of a file of bare layers: "specs/mnist-mlp.nn" -> "mnist-mlp". */
export function defaultModelName(filename: string | undefined): string {
  if (!filename) return "model";
  const name = basename(filename).replace(/\.[^.]*$/, "");
  return name || "model";
}

class Builder {
  /** Bounded: the error past MAX_BUILD_ERRORS ends the build (buildProgram). */
  readonly diags: Diagnostic[] = new BoundedDiagnostics();
  readonly gaps = new Map<string, Set<number>>();
  /** Statements already reported as not belonging where they stand; skipped without a second report. */
  readonly rejected = new Set<Statement>();
  /** The file's block definitions, by name. */
  readonly blocks = new Map<string, BlockDefinition>();
  /** Names of blocks whose definitions were refused: uses are not reported again as unknown ops. */
  readonly invalidBlocks = new Set<string>();

  /** The signature a statement's head names in a block of `context`, or undefined after reporting why not. */
  resolve(stmt: Statement, context: Context, blockDesc: string): Signature | undefined {
    const head = stmt.head.text;
    const sig = signatureOf(head);
    const allowed = context === "experiment" ? ["experiment", "train"] : [context];
    if (sig && allowed.includes(sig.context)) return sig;
    if (context === "layer" && head === "repeat") {
      const detail =
        "in a model repeats a body: repeat N { LAYERS } (in an experiment, repeat N runs each cell N times)";
      this.diags.push(diagnostic("E223", { keyword: head, detail }, { span: stmt.head.span }));
      return undefined;
    }
    if (sig) {
      this.diags.push(
        diagnostic(
          "E210",
          { statement: head, block: blockDesc, belongs: BELONGS[sig.context] },
          { span: stmt.head.span },
        ),
      );
      return undefined;
    }
    const help =
      foreignStatementHelp(head, context) ??
      didYouMean(head, namesFor(context)) ??
      didYouMean(
        head,
        ALL_SIGNATURES.map((s) => s.name),
      ) ??
      (BLOCKS.includes(head)
        ? `blocks are written '${head}${head === "train" ? "" : " NAME"} { ... }'`
        : undefined);
    this.diags.push(
      diagnostic(
        "E200",
        { name: head, where: WHERE[context] },
        help ? { span: stmt.head.span, help } : { span: stmt.head.span },
      ),
    );
    return undefined;
  }

  /** Binds a statement; `optimizer NAME ...` is bound against the named optimizer's own row of the table. */
  bind(stmt: Statement, sig: Signature): { sig: Signature; bound: Bound } | undefined {
    if (sig.name === "optimizer") {
      const first = stmt.args[0];
      if (first?.kind === "word" && (OPTIMIZERS as readonly string[]).includes(first.text)) {
        const target = signatureOf(first.text)!;
        const bound = bindStatement(stmt, target, this.diags, target.name, stmt.args.slice(1));
        return bound && { sig: target, bound };
      }
      // An unknown optimizer: its options cannot be judged, so report only the name.
      if (first?.kind === "word") return void bindStatement(stmt, sig, this.diags, sig.name, [first]);
    }
    const bound = bindStatement(stmt, sig, this.diags);
    return bound && { sig, bound };
  }

  /**
   * Statements of a train or experiment block; blocks nested there are reported (only models nest blocks:
   * residual, shortcut, repeat).
   */
  statementsOf(items: Item[], blockDesc: string): Statement[] {
    const out: Statement[] = [];
    for (const item of items) {
      if (item.kind === "statement") out.push(item);
      else if (item.kind === "block") {
        const keyword = item.keyword.text;
        const at = { span: item.keyword.span };
        if ([...LAYER_BLOCKS, "shortcut"].includes(keyword)) {
          const statement = `${keyword} { }`;
          this.diags.push(diagnostic("E210", { statement, block: blockDesc, belongs: BELONGS.layer }, at));
        } else this.diags.push(diagnostic("E105", { keyword }, at));
      }
    }
    return out;
  }

  /** Tracks settings within one block, reporting a setting given twice (E214). */
  firstTime(seen: Set<string>, sig: Signature, stmt: Statement): boolean {
    const key = sig.setting ?? sig.name;
    // A key varied twice is the checker's E308, a layer watched twice its E239 (for IR input too).
    if (key === "vary" || key === "watch") return true;
    if (seen.has(key)) {
      this.diags.push(diagnostic("E214", { key }, { span: stmt.span }));
      return false;
    }
    seen.add(key);
    return true;
  }

  /** The model's graph from its items (layer statements, residual and repeat blocks, block uses). */
  buildModel(name: string, span: Span, items: Item[], blockDesc: string): Model {
    const host: ExpansionHost = {
      diags: this.diags,
      blocks: this.blocks,
      invalidBlocks: this.invalidBlocks,
      // A statement refused once is not reported again when a block body or repeat expands it again.
      resolve: (stmt, desc) => {
        if (this.rejected.has(stmt)) return undefined;
        const sig = this.resolve(stmt, "layer", desc);
        if (!sig) this.rejected.add(stmt);
        return sig;
      },
      bind: (stmt, sig) => this.bind(stmt, sig),
    };
    const { layers, gaps } = expandModel(host, blockDesc, `model '${name}'`, items);
    if (gaps.size > 0) this.gaps.set(name, gaps);
    return { name, span, layers };
  }

  /**
   * Collects the file's block definitions, reporting a missing or taken name (E211, E220, E222) and parameters
   * that shadow an op, a keyword or a value word (E222). A body's statements are resolved once here, so an
   * unknown op in a block is reported even where the block is never used.
   */
  defineBlocks(blocks: Block[]): void {
    for (const block of blocks) {
      if (!block.name) {
        this.diags.push(diagnostic("E211", { keyword: "block" }, { span: block.keyword.span }));
        continue;
      }
      const name = block.name.text;
      if (this.blocks.has(name)) {
        this.diags.push(diagnostic("E220", { name }, { span: block.name.span }));
        continue;
      }
      const shadowed = shadows(name);
      if (shadowed) {
        this.diags.push(
          diagnostic("E222", { kind: "block", name, what: shadowed }, { span: block.name.span }),
        );
        continue;
      }
      const params = block.params ?? [];
      let ok = true;
      const seen = new Set<string>();
      for (const p of params) {
        const what = shadows(p.name.text);
        if (what) {
          this.diags.push(
            diagnostic("E222", { kind: "block parameter", name: p.name.text, what }, { span: p.name.span }),
          );
          ok = false;
        } else if (seen.has(p.name.text)) {
          const detail = `has two parameters named '${p.name.text}'`;
          this.diags.push(diagnostic("E223", { keyword: "block", detail }, { span: p.span }));
          ok = false;
        }
        seen.add(p.name.text);
      }
      const extra = block.args.find((a) => a !== block.name);
      if (extra) {
        this.diags.push(
          diagnostic(
            "E223",
            { keyword: "block", detail: "is written block NAME(PARAM, PARAM=DEFAULT, ...) { LAYERS }" },
            { span: extra.span },
          ),
        );
      }
      if (!block.items.some((i) => i.kind !== "comment")) {
        const detail = "has an empty body: block NAME(PARAMS) { LAYERS }";
        this.diags.push(diagnostic("E223", { keyword: "block", detail }, { span: block.keyword.span }));
        ok = false;
      }
      if (ok) this.blocks.set(name, { name, params, items: block.items, span: block.span });
      else this.invalidBlocks.add(name);
    }
    // Unknown ops in bodies, once per definition (a use reports the rest, at its arguments).
    for (const def of this.blocks.values()) this.resolveBody(def.items, `block '${def.name}'`);
  }

  private resolveBody(items: Item[], desc: string): void {
    for (const item of items) {
      if (item.kind === "block") this.resolveBody(item.items, desc);
      else if (
        item.kind === "statement" &&
        !this.blocks.has(item.head.text) &&
        !this.invalidBlocks.has(item.head.text)
      ) {
        if (!this.resolve(item, "layer", desc)) this.rejected.add(item);
      }
    }
  }

  buildTrain(statements: Statement[], context: "train" | "experiment", blockDesc: string, parts: TrainParts) {
    const seen = new Set<string>();
    const experimentStatements: { stmt: Statement; sig: Signature; bound: Bound }[] = [];
    for (const stmt of statements) {
      const sig = this.resolve(stmt, context, blockDesc);
      if (!sig || !this.firstTime(seen, sig, stmt)) continue;
      const bound = this.bind(stmt, sig);
      if (!bound) continue;
      if (bound.sig.context === "train")
        applyTrainSetting(bound.sig, bound.bound, stmt.span, parts, this.diags);
      else experimentStatements.push({ stmt, ...bound });
    }
    return experimentStatements;
  }

  buildExperiment(block: Block, name: string): ExperimentDraft {
    const draft: ExperimentDraft = { name, span: block.span, vary: [], train: {} };
    const statements = this.statementsOf(block.items, `experiment '${name}'`);
    const rest = this.buildTrain(statements, "experiment", `experiment '${name}'`, draft.train);
    for (const { stmt, sig, bound } of rest) applyExperimentSetting(sig, bound, stmt.span, draft);
    // Varying batch at a fixed lr mostly measures the number of steps; say so unless the spec chose a rule.
    const batchVary = draft.vary.find((v) => v.key === "batch");
    if (batchVary && !draft.lrScale && !draft.vary.some((v) => v.key === "lr")) {
      this.diags.push(diagnostic("W406", {}, { span: batchVary.span }));
    }
    return draft;
  }
}

function finishExperiment(draft: ExperimentDraft, models: Model[], train: Train): Experiment {
  const experiment: Experiment = {
    name: draft.name,
    compare: draft.compare ?? models.map((m) => m.name),
    vary: draft.vary as Experiment["vary"],
    repeat: draft.repeat ?? 1,
    lrScale: {
      rule: draft.lrScale?.rule ?? "none",
      referenceBatch: draft.lrScale?.ref ?? draft.train.batch ?? train.batch,
    },
  };
  if (draft.target !== undefined) experiment.target = draft.target;
  if (draft.evalTrain) experiment.evalTrain = true;
  if (Object.keys(draft.train).length > 0) experiment.train = draft.train;
  experiment.span = draft.span;
  return experiment;
}

/**
 * Builds the IR of a parsed file. Never throws for a user's mistake: problems come back as diagnostics, the
 * first MAX_BUILD_ERRORS errors of them (then E226, and no program).
 */
export function buildProgram(tree: SourceFile, options: BuildOptions = {}): BuildResult {
  const b = new Builder();
  try {
    const result = build(b, tree, options);
    // A plain array out: the bound is the builder's business.
    return { ...result, diagnostics: [...result.diagnostics] };
  } catch (e) {
    if (!(e instanceof TooManyErrors)) throw e;
    const at: Span = e.next.span ?? [0, 0];
    const stop = diagnostic("E226", { count: MAX_BUILD_ERRORS }, { span: [at[0], at[0]] });
    return { diagnostics: [...b.diags, stop], gaps: b.gaps };
  }
}

function build(b: Builder, tree: SourceFile, options: BuildOptions): BuildResult {
  const items = tree.items.filter((i) => i.kind !== "comment");
  if (items.length === 0) {
    return { diagnostics: [diagnostic("E003", {}, { span: [0, 0] })], gaps: b.gaps };
  }

  const bare: Item[] = [];
  const modelBlocks: Block[] = [];
  const trainBlocks: Block[] = [];
  const experimentBlocks: Block[] = [];
  b.defineBlocks(items.filter((i): i is Block => i.kind === "block" && i.keyword.text === "block"));
  for (const item of items) {
    if (item.kind === "statement" && (b.blocks.has(item.head.text) || b.invalidBlocks.has(item.head.text))) {
      bare.push(item);
      continue;
    }
    if (item.kind === "statement") {
      // At the top level only layers may stand bare; train and experiment settings need their block.
      // A rejected one still marks its place, so the checker knows the layers around it were not adjacent.
      if (!b.resolve(item, "layer", "the top level of the file")) b.rejected.add(item);
      bare.push(item);
      continue;
    }
    if (item.kind !== "block") continue;
    const keyword = item.keyword.text;
    if (keyword === "block") continue;
    if ((LAYER_BLOCKS as readonly string[]).includes(keyword) || keyword === "shortcut") bare.push(item);
    else if (keyword === "model") modelBlocks.push(item);
    else if (keyword === "train") trainBlocks.push(item);
    else if (keyword === "experiment") experimentBlocks.push(item);
    else {
      const help = didYouMean(keyword, [...BLOCKS, ...LAYER_BLOCKS]);
      b.diags.push(
        diagnostic(
          "E207",
          { name: keyword },
          help ? { span: item.keyword.span, help } : { span: item.keyword.span },
        ),
      );
    }
  }

  const models: Model[] = [];
  if (modelBlocks.length > 0) {
    const layers = bare.filter((s) => !(s.kind === "statement" && b.rejected.has(s)));
    if (layers.length > 0) {
      b.diags.push(diagnostic("E212", {}, { span: layers[0]!.span }));
    }
    const names = new Set<string>();
    for (const block of modelBlocks) {
      if (!block.name) {
        b.diags.push(diagnostic("E211", { keyword: "model" }, { span: block.keyword.span }));
        continue;
      }
      const name = block.name.text;
      if (names.has(name)) {
        b.diags.push(diagnostic("E208", { name }, { span: block.name.span }));
        continue;
      }
      names.add(name);
      models.push(b.buildModel(name, block.span, block.items, `model '${name}'`));
    }
  } else if (bare.some((s) => !(s.kind === "statement" && b.rejected.has(s)))) {
    const name = defaultModelName(options.filename);
    const span: Span = [bare[0]!.span[0], bare[bare.length - 1]!.span[1]];
    models.push(b.buildModel(name, span, bare, "the top level of the file"));
  } else if (b.diags.length === 0) {
    b.diags.push(diagnostic("E216", {}, { span: [0, 0] }));
  }

  const trainParts: TrainParts = {};
  trainBlocks.forEach((block, i) => {
    if (i > 0) {
      b.diags.push(diagnostic("E209", { what: "train" }, { span: block.keyword.span }));
      return;
    }
    if (block.name) b.diags.push(diagnostic("E215", { keyword: "train" }, { span: block.name.span }));
    const rest = b.buildTrain(
      b.statementsOf(block.items, "a train block"),
      "train",
      "a train block",
      trainParts,
    );
    if (rest.length > 0) throw new Error("internal: experiment statements accepted in a train block");
  });
  const train: Train = { ...defaultTrain(), ...trainParts };
  if (trainBlocks[0]) train.span = trainBlocks[0].span;

  const drafts: ExperimentDraft[] = [];
  for (const block of experimentBlocks) {
    if (!block.name) {
      b.diags.push(diagnostic("E211", { keyword: "experiment" }, { span: block.keyword.span }));
      continue;
    }
    const name = block.name.text;
    if (drafts.some((d) => d.name === name)) {
      b.diags.push(diagnostic("E217", { name }, { span: block.name.span }));
      continue;
    }
    drafts.push(b.buildExperiment(block, name));
  }

  if (models.length === 0) return { diagnostics: b.diags, gaps: b.gaps };
  const program: Program = {
    irVersion: IR_VERSION,
    models,
    train,
    experiments: drafts.map((d) => finishExperiment(d, models, train)),
  };
  if (options.filename !== undefined) program.source = { file: options.filename };
  return { program, diagnostics: b.diags, gaps: b.gaps };
}
