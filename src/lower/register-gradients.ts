// Lowering: makes tfjs able to differentiate. tfjs-core's Node build registers no gradients, and its ESM
// `register_all_gradients` cannot be imported by Node (extensionless imports); tfjs-layers' Node build bundles
// and registers them all on load. Every module that takes gradients imports this one.
import "@tensorflow/tfjs-layers";
import { registerMissingWasmKernels } from "../runtime/wasm-kernels.ts";

// The kernels wasm lacks or gets wrong (runtime/wasm-kernels.ts) are registered by name, so they are there
// whichever way wasm gets selected (nnc's selectBackend or tf.setBackend). tfjs-backend-wasm registers its own
// kernels when first imported, which would overwrite a replacement made before: it is imported first. Tolerant
// of a failed import: selectBackend then falls back to cpu and says why.
await import("@tensorflow/tfjs-backend-wasm").catch(() => undefined);
registerMissingWasmKernels();
