// Data-parallel training: the entry of every training thread but the main one. Rebuilds the network from the
// IR with the main thread's weights and optimizer state, says "ready", then runs the commands the main thread
// posts in shared memory (a step on its share of the batch, the weights check, stop) until told to stop or a
// thread fails. It never evaluates or saves: the main thread's copy is the model.
import * as tf from "@tensorflow/tfjs-core";
import { parentPort, workerData } from "node:worker_threads";
import { lowerLoss, modelLoss } from "../../lower/loss.ts";
import { Network } from "../../lower/network.ts";
import { selectBackend } from "../../runtime/backend.ts";
import { sizeOf } from "../../util/shape.ts";
import { setWeightData } from "../weights.ts";
import { manualGradients } from "../manual-backward.ts";
import { createOptimizer } from "../optimizers.ts";
import { dropoutStreams } from "../step.ts";
import { Exchange, PeerFailed } from "./exchange.ts";
import type { FromThread, ThreadSetup } from "./setup.ts";
import { gatherWeights, parallelStepper, shares } from "./step.ts";

const setup = workerData as ThreadSetup;
const port = parentPort!;
const exchange = new Exchange(setup.exchange, setup.rank);
const post = (m: FromThread) => port.postMessage(m);
const messageOf = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));

let started = false;
try {
  await selectBackend(setup.backend);
  const net = new Network(setup.model, setup.train.seed);
  setWeightData(net, setup.weights);
  const classWeights = setup.classWeights ? Float32Array.from(setup.classWeights) : undefined;
  const loss = lowerLoss(net, modelLoss(net.model, setup.train.loss), classWeights);
  const gradients = manualGradients(net, loss);
  if (!gradients)
    throw new Error("internal: data-parallel training of a network the compiled step does not cover");
  const optimizer = createOptimizer(setup.train.optimizer, net.trainable);
  optimizer.restore(setup.optimizer.step, setup.optimizer.slots);
  const sampleSize = sizeOf(net.inputShape);
  const xs = new Float32Array(setup.x);
  const ys = new Int32Array(setup.y);
  const runStep = parallelStepper(gradients, optimizer, net.trainable, exchange, false);
  post({ type: "ready" });
  started = true;

  for (let seen = 0; ; seen++) {
    const command = exchange.nextCommand(seen);
    if (command.kind === "stop") break;
    if (command.kind === "verify") {
      gatherWeights(exchange, net.trainable);
      continue;
    }
    const all = shares(command.total, exchange.ranks);
    const share = all[setup.rank]!;
    const rows = share.rows > 0;
    const x = rows
      ? tf.tensor(
          xs.subarray(share.offset * sampleSize, (share.offset + share.rows) * sampleSize),
          [share.rows, ...net.inputShape],
          "float32",
        )
      : undefined;
    const y = rows ? tf.tensor1d(ys.subarray(share.offset, share.offset + share.rows), "int32") : undefined;
    try {
      runStep({
        ...(x && y ? { x, y } : {}),
        dropoutRng: net.hasDropout
          ? dropoutStreams(setup.train.seed, command.epoch, command.step)
          : undefined,
        shares: all,
        total: command.total,
        ...(command.lr !== undefined ? { lr: command.lr } : {}),
      });
    } finally {
      x?.dispose();
      y?.dispose();
    }
  }
} catch (e) {
  // A peer's failure is reported by that peer; this thread only stops. Its own failure stops everyone.
  if (!(e instanceof PeerFailed)) {
    exchange.abort(`training thread ${setup.rank}: ${messageOf(e)}`);
    if (!started) post({ type: "failed", message: messageOf(e) });
  }
}
