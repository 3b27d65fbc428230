// nnc train's first move, before the training code and TensorFlow.js load: find the run's data source in the
// spec and start reading its files, so their gunzip (libuv's pool, another core) overlaps the ~0.2 s of module
// loading and set-up instead of following it. Fashion-MNIST: ~0.3 s of inflating 55 MB.
import { dirname } from "node:path";
import { compileFile } from "../../compile.ts";
import { prefetchDataset, resolveDataPaths } from "../../data/index.ts";
import { withTrainOverrides } from "../../ir/train-overrides.ts";

/**
 * Starts reading the data `nnc train FILE [--data SOURCE]` will load; gives the seconds it took (--timings counts
 * them to the spec). Quiet and best effort: the spec is compiled again, and reported, by trainCommand; a spec or
 * source that does not resolve starts nothing.
 */
export async function prefetchTrainingData(file: string, opts: { data?: string }): Promise<number> {
  const began = performance.now();
  try {
    const result = await compileFile(file);
    const train = (result.program ?? result.checked)?.train;
    if (train) {
      // As trainCommand resolves them: a spec's paths against its folder, a --data path against the working one.
      const { data } = withTrainOverrides(train, { data: { source: opts.data } });
      prefetchDataset(resolveDataPaths(data, opts.data === undefined ? dirname(file) : process.cwd()));
    }
  } catch {
    // Whatever failed here fails again, reported, in trainCommand.
  }
  return (performance.now() - began) / 1000;
}
