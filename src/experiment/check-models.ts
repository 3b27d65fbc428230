// Experiments: each compared model against the data it trains on (input shape E507, labels E506), shared by a
// run (every compared model, before any cell trains) and a queue worker (the cell's model, against the data it
// loaded itself: a worker's copy of a data set may differ from the coordinator's).
import { checkInputShape, checkLabels, outputClasses, type Dataset } from "../data/index.ts";
import type { Experiment, Program } from "../ir/schema.ts";

export function checkModelAgainstData(
  program: Program,
  experiment: Experiment,
  name: string,
  dataset: Dataset,
): void {
  const model = program.models.find((m) => m.name === name)!;
  const classes = outputClasses(model)!;
  const which = `model '${name}' of experiment '${experiment.name}'`;
  const input = model.layers[0]!;
  if (input.op === "input") {
    checkInputShape(dataset.sampleShape, input.shape, dataset.source, { notes: [`in ${which}`] });
  }
  const units = model.layers.at(-1)!.outputShape!.at(-1)!;
  const notes = [`${which} has ${units} output unit${units === 1 ? "" : "s"}`];
  for (const split of [dataset.train, dataset.validation]) {
    checkLabels(split, classes, dataset.source, { notes });
  }
}

/**
 * Each compared model against the data, so a model the data does not fit fails the experiment before any cell
 * trains rather than as a failed cell halfway through.
 */
export function checkComparedModels(program: Program, experiment: Experiment, dataset: Dataset): void {
  for (const name of experiment.compare) checkModelAgainstData(program, experiment, name, dataset);
}
