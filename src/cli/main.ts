// The `nnc` command line: commander parses argv, each command lives in src/cli/commands/, and every command
// returns an exit code (0 ok, 1 the user's input has errors, 2 usage errors, 70 an internal bug in nnc).
// `run(argv, io)` is the whole CLI in-process, so tests see exactly what a user sees.
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { NncError, renderDiagnostic } from "../diagnostics/index.ts";
import { EXIT } from "./exit.ts";
import { processIO, type CliIO } from "./io.ts";
import { MAX_SEED } from "../ir/schema.ts";
import { VERSION } from "../version.ts";

// Commands are imported when run, so `nnc check` never loads TensorFlow.js (hundreds of ms at start-up).
const commands = {
  check: () => import("./commands/check.ts"),
  summary: () => import("./commands/summary.ts"),
  compile: () => import("./commands/compile.ts"),
  fmt: () => import("./commands/fmt.ts"),
  data: () => import("./commands/data.ts"),
  train: () => import("./commands/train.ts"),
  trainPrefetch: () => import("./commands/train-prefetch.ts"),
  eval: () => import("./commands/eval.ts"),
  export: () => import("./commands/export.ts"),
  experiment: () => import("./commands/experiment.ts"),
  lsp: () => import("./commands/lsp.ts"),
  worker: () => import("./commands/worker.ts"),
  import: () => import("./commands/import.ts"),
};

const backendOption = () =>
  new Option("--backend <name>", "tfjs backend: auto picks tensorflow (tfjs-node), else wasm, else cpu")
    .choices(["auto", "tensorflow", "wasm", "cpu"])
    .default("auto");

const threadsOption = () =>
  new Option(
    "--threads <n>",
    "training threads: auto (a second core where it pays: see --parallel), 1, or N (data-parallel unless --parallel kernels)",
  )
    .argParser((value: string) => {
      if (value === "auto") return value;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 64)
        throw new InvalidArgumentError("expected auto or an integer from 1 to 64");
      return n;
    })
    .default("auto");

/** An option value parser: commander reports a rejected value as "option '--epochs <n>' argument ... is invalid". */
const numberArg = (accept: (n: number) => boolean, what: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !accept(n)) throw new InvalidArgumentError(`expected ${what}`);
  return n;
};
const int = () => numberArg((n) => Number.isInteger(n) && n >= 1, "a positive integer");
const positive = () => numberArg((n) => Number.isFinite(n) && n > 0, "a positive number");
/** Seeds are 32-bit (MAX_SEED): a larger one would silently collide with its value modulo 2^32. */
const seedArg = () =>
  numberArg(
    (n) => Number.isInteger(n) && n >= 0 && n <= MAX_SEED,
    `an integer from 0 to ${MAX_SEED} (a 32-bit seed)`,
  );

export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("nnc")
    .description("nnc compiles declarative neural-network specs (.nn) to TensorFlow.js and trains them")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number> | number) =>
    async (...args: A) =>
      setExit(await fn(...args));

  program
    .command("check")
    .description("check specs: syntax, shapes, parameter counts and lints; exit 1 on errors")
    .argument("<files...>", ".nn specs or IR .json files")
    .option("--strict", "treat warnings as errors")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(action(async (files: string[], opts) => (await commands.check()).checkCommand(io, files, opts)));

  program
    .command("summary")
    .description("print a model's layers, output shapes and parameter counts (as Keras' model.summary())")
    .argument("<file>", ".nn spec or IR .json file")
    .option("--model <name>", "which model of the file (default: all)")
    .option("--json", "print JSON: { layers, totalParams, trainableParams, nonTrainableParams }")
    .action(action(async (file: string, opts) => (await commands.summary()).summaryCommand(io, file, opts)));

  program
    .command("compile")
    .description("compile a spec and print the checked IR (or the IR's JSON Schema)")
    .argument("[file]", ".nn spec or IR .json file")
    .addOption(new Option("--emit <what>", "what to print").choices(["ir", "schema"]).default("ir"))
    .option("--strict", "treat warnings as errors")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(
      action(async (file: string | undefined, opts) =>
        (await commands.compile()).compileCommand(io, file, opts),
      ),
    );

  program
    .command("fmt")
    .description("format .nn specs canonically (prints the result for one file without --write)")
    .argument("<files...>", ".nn specs")
    .option("--check", "exit 1 if any file is not formatted; change nothing")
    .option("--write", "rewrite files in place")
    .action(action(async (files: string[], opts) => (await commands.fmt()).fmtCommand(io, files, opts)));

  program
    .command("data")
    .description("describe a data source: counts per split, shape, classes, value range")
    .argument("<source>", "mnist | fashion-mnist | idx:PATH | csv:PATH")
    .option("--validation <fraction>", "hold out this fraction of train for validation", positive())
    .option("--limit <n>", "use at most N training samples", int())
    .option("--label <column>", "csv: the label column, by header name or 0-based index (-1: the last)")
    .option(
      "--scale <s>",
      "divide raw values by S (default by source; csv: 255 only for pixel bytes)",
      positive(),
    )
    .option("--json", "print JSON")
    .action(action(async (source: string, opts) => (await commands.data()).dataCommand(io, source, opts)));

  program
    .command("train")
    .description("train a model of a spec; writes the model, IR, history and checkpoints to --out")
    .argument("<file>", ".nn spec or IR .json file")
    .option("--model <name>", "which model of the file")
    .option(
      "--data <source>",
      "data source (overrides the spec): mnist | fashion-mnist | idx:PATH | csv:PATH",
    )
    .option("--epochs <n>", "epochs", int())
    .option("--batch <n>", "batch size", int())
    .option("--lr <x>", "learning rate", positive())
    .option("--seed <n>", "seed for initialization, shuffling and dropout (0 to 2^32-1)", seedArg())
    .option("--limit <n>", "train on at most N samples (quick runs)", int())
    .addOption(new Option("--bnstats <mode>", "batch-norm population statistics").choices(["exact", "ema"]))
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(
      new Option(
        "--parallel <how>",
        "how two threads share the work: data (each trains its share of every batch; results equal up to float " +
          "rounding) or kernels (one training thread whose large kernels split over two cores, wasm only; " +
          "results bit for bit one thread's); default: auto picks",
      ).choices(["data", "kernels"]),
    )
    .option("--out <dir>", "output folder (default: runs/<spec>[-<model>], numbered if taken)")
    .option("--resume", "continue the run in --out (or the latest matching run) from its last finished epoch")
    .addOption(
      new Option(
        "--init-from <dir>",
        "start from the weights of a saved model folder (nnc train's, nnc import --weights'), matched by layer name",
      ).conflicts("resume"),
    )
    .option("--force", "replace an existing run in --out")
    .option("--eval-train", "also measure the training set in inference mode at each epoch end")
    .option("--strict", "treat warnings as errors")
    .option(
      "--timings",
      "print where the time went: start-up, data, training, statistics, evaluation, saving",
    )
    .action(
      action(async (file: string, opts) => {
        // The spec compiled and the data's files read (inflated on libuv's pool) while the training code and
        // TensorFlow.js load.
        const ahead = await (await commands.trainPrefetch()).readAhead(file, opts);
        return (await commands.train()).trainCommand(io, file, { ...opts, ahead });
      }),
    );

  program
    .command("eval")
    .description("evaluate a saved model (a train --out folder) on its data's held-out split")
    .argument("<dir>", "folder written by nnc train")
    .option(
      "--data <source>",
      "data source (default: the one it was trained on when that is mnist or fashion-mnist; a path is never taken from the folder)",
    )
    .option("--limit <n>", "evaluate at most N samples", int())
    .addOption(backendOption())
    .option("--json", "print JSON: { accuracy, loss, samples }")
    .action(action(async (dir: string, opts) => (await commands.eval()).evalCommand(io, dir, opts)));

  program
    .command("predict")
    .description("predict classes with a saved model, for held-out samples or samples from a JSON file")
    .argument("<dir>", "folder written by nnc train")
    .option(
      "--data <source>",
      "data source (default: the one it was trained on when that is mnist or fashion-mnist; a path is never taken from the folder)",
    )
    .option(
      "--input <file>",
      "JSON file: an array of raw samples, as the data holds them (pixel bytes 0..255 for image data; nested arrays or flat, each of the input's size)",
    )
    .option(
      "--limit <n>",
      "predict at most N samples (default: 10 held-out samples, every sample of --input)",
      int(),
    )
    .addOption(backendOption())
    .option("--json", "print JSON")
    .action(action(async (dir: string, opts) => (await commands.eval()).predictCommand(io, dir, opts)));

  program
    .command("export")
    .description("export a saved model (a train --out folder) as an ONNX model (opset 17) for other runtimes")
    .argument("<dir>", "folder written by nnc train")
    .addOption(new Option("--format <format>", "what to write").choices(["onnx"]).default("onnx"))
    .option(
      "-o, --output <file>",
      "the .onnx file to write (default: DIR/model.onnx; a folder: model.onnx in it)",
    )
    .option(
      "--no-fold-batchnorm",
      "keep batchnorm as BatchNormalization nodes (default: folded into the dense/conv2d before it)",
    )
    .addOption(backendOption())
    .option("--json", "print JSON: { file, bytes, opset, input, output, ... }")
    .action(action(async (dir: string, opts) => (await commands.export()).exportCommand(io, dir, opts)));

  program
    .command("experiment")
    .description(
      "run an experiment of a spec (models x varied settings x repeats); writes results.json, plots and report.html",
    )
    .argument("<file>", ".nn spec or IR .json file")
    .option("--name <name>", "which experiment of the file (default: the only one)")
    .option("--out <dir>", "output folder (default: runs/<spec>-<experiment>)")
    .option("--epochs <n>", "epochs per cell (quick runs; a 'vary epochs' list still wins)", int())
    .option("--limit <n>", "train on at most N samples (quick runs)", int())
    .addOption(
      new Option("--jobs <n>", "cells trained at once, each in its own worker (default: the number of cores)")
        .argParser(int())
        .conflicts("queue"),
    )
    .option(
      "--queue <url>",
      "train the cells on the workers of this Redis queue (nnc worker): redis://[:PASSWORD@]HOST[:PORT][/DB]",
    )
    .addOption(backendOption())
    .option("--resume", "run only the cells that --out does not hold yet (refused if the spec changed)")
    .option("--force", "replace the results in --out")
    .option("--strict", "treat warnings as errors")
    .action(
      action(async (file: string, opts) => (await commands.experiment()).experimentCommand(io, file, opts)),
    );

  program
    .command("import")
    .description(
      "import a Keras / TensorFlow.js Layers model (model.json, model.to_json(), .keras config.json) as a .nn spec",
    )
    .argument("<file>", "the model's JSON")
    .option("-o, --output <path>", "write the spec to a file instead of stdout (--weights: a folder)")
    .option(
      "--data <source>",
      "the train block's data source (default: mnist where it fits, else a placeholder)",
    )
    .option(
      "--weights",
      "also import the weights (a tfjs model.json's weightsManifest + .bin files): -o DIR gets DIR/spec.nn and a model folder",
    )
    .option("--force", "with --weights: write into a folder that holds files already")
    .addOption(backendOption())
    .action(action(async (file: string, opts) => (await commands.import()).importCommand(io, file, opts)));

  program
    .command("lsp")
    .description("run the language server for editors (Language Server Protocol over stdin and stdout)")
    .option("--stdio", "talk over stdin and stdout (the only transport; editors pass it)")
    .addOption(new Option("--clientProcessId <pid>", "the editor's process id").hideHelp())
    .action(action(async (opts) => (await commands.lsp()).lspCommand(io, opts)));

  program
    .command("worker")
    .description(
      "train the cells that 'nnc experiment FILE --queue URL' puts on a Redis queue, until stopped (Ctrl-C)",
    )
    .requiredOption("--queue <url>", "the Redis queue: redis://[:PASSWORD@]HOST[:PORT][/DB]")
    .option(
      "--jobs <n>",
      "cells trained at once, each in its own thread (default: the number of cores)",
      int(),
    )
    .action(action(async (opts) => (await commands.worker()).workerCommand(io, opts)));

  return program;
}

/** Runs the CLI on argv (without node and script); resolves to the exit code. */
export async function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    if (argv.length === 0) {
      io.err(program.helpInformation());
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; real usage errors were already printed by commander.
      if (e.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof NncError) {
      io.err(renderDiagnostic(e.diagnostic, undefined, { color: io.color }) + "\n");
      return EXIT.errors;
    }
    const err = e as Error;
    io.err(
      `internal error: ${err?.message ?? String(e)}\n` +
        "This is a bug in nnc, not in your spec. Please report it with the spec and command that caused it.\n" +
        (process.env.NNC_DEBUG ? `${err?.stack ?? ""}\n` : "(set NNC_DEBUG=1 for a stack trace)\n"),
    );
    return EXIT.internal;
  }
}
