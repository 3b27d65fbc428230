// Lowering: makes tfjs able to differentiate. tfjs-core's Node build registers no gradients, and its ESM
// `register_all_gradients` cannot be imported by Node (extensionless imports); tfjs-layers' Node build bundles
// and registers them all on load. Every module that takes gradients imports this one.
import "@tensorflow/tfjs-layers";
import { registerMissingWasmKernels } from "../runtime/wasm-kernels.ts";

// The conv2d filter gradient wasm lacks: registered by name, so it is there whichever way wasm gets selected.
registerMissingWasmKernels();
