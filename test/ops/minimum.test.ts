// Op `minimum` through every phase (test/ops/merge-cases.ts): tfjs-layers parity, compiled step, threads, import,
// ONNX, formatter, language server, shape errors.
import * as tfl from "@tensorflow/tfjs-layers";
import { mergeSuite } from "./merge-cases.ts";

mergeSuite({ op: "minimum", tfjsLayer: () => tfl.layers.minimum({}), many: true }).run();
