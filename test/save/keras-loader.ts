// Test helper: tf.loadLayersModel on a saved folder, in Node without tfjs-node (whose file:// handler this
// replaces): an IOHandler that reads model.json and the weight files its weightsManifest names.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

export function fileHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJson = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as tf.io.ModelJSON;
      const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
      const bytes = Buffer.concat(
        modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))),
      );
      const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      return {
        modelTopology: modelJson.modelTopology,
        weightSpecs: specs,
        weightData,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
      } as tf.io.ModelArtifacts;
    },
  };
}

export const loadKerasModel = (dir: string): Promise<tfl.LayersModel> =>
  tfl.loadLayersModel(fileHandler(dir));
