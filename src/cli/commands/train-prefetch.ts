// nnc train's first move, before the training code and TensorFlow.js load: compile the spec, find the run's data
// source and start reading its files, so their gunzip (libuv's pool, another core) overlaps the ~0.2 s of module
// loading and set-up instead of following it. Fashion-MNIST: ~0.3 s of inflating 55 MB.
import { dirname } from "node:path";
import { compileFile, type CompileResult } from "../../compile.ts";
import { prefetchDataset, resolveDataPaths } from "../../data/index.ts";
import { withTrainOverrides } from "../../ir/train-overrides.ts";

/** What the read ahead leaves for trainCommand: the compiled spec and the seconds it took. */
export interface ReadAhead {
  /** compileFile's result for the spec, at the run's --strict: trainCommand reports it, not compiling again. */
  compiled?: CompileResult;
  seconds: number;
}

/**
 * Compiles the spec of `nnc train FILE [--data SOURCE]` and starts reading the data it will load. Quiet: the
 * result goes to trainCommand, which reports its diagnostics; a spec or source that does not resolve starts
 * nothing (trainCommand fails on it as it always did).
 */
export async function readAhead(file: string, opts: { data?: string; strict?: boolean }): Promise<ReadAhead> {
  const began = performance.now();
  let compiled: CompileResult | undefined;
  try {
    compiled = await compileFile(file, { strict: opts.strict ?? false });
    const train = (compiled.program ?? compiled.checked)?.train;
    if (train) {
      // As trainCommand resolves them: a spec's paths against its folder, a --data path against the working one.
      const { data } = withTrainOverrides(train, { data: { source: opts.data } });
      prefetchDataset(resolveDataPaths(data, opts.data === undefined ? dirname(file) : process.cwd()));
    }
  } catch {
    // A spec that cannot be compiled without throwing: trainCommand compiles it again and reports it.
    compiled = undefined;
  }
  return { ...(compiled ? { compiled } : {}), seconds: (performance.now() - began) / 1000 };
}
