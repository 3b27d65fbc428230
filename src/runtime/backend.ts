// Runtime: picks the tfjs backend that runs training and inference (tfjs-node's native `tensorflow`, else `wasm`,
// else pure-JS `cpu`), checks that it really became active (tf.setBackend reports failure only by returning
// false), and describes what runs so the CLI can print it.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { fail } from "../diagnostics/index.ts";
import type { BackendChoice, BackendName } from "./types.ts";
import { registerMissingWasmKernels } from "./wasm-kernels.ts";
import { onSharedHeap } from "./shared-heap.ts";

export interface SelectedBackend {
  name: BackendName;
  /** What runs, for the CLI: "wasm (SIMD, 1 thread)", "cpu (pure JS; slow)", ... */
  detail: string;
}

/** The backend made active, or why it could not be. */
type Attempt = SelectedBackend | { failed: string };

// A string, not a literal, in the import: tfjs-node is optional and usually absent, so TypeScript must not try
// to resolve it.
const TFJS_NODE = "@tensorflow/tfjs-node";

let current: SelectedBackend | undefined;
/** What `auto` settled on: the search is not repeated while that backend stays active. */
let autoChoice: SelectedBackend | undefined;
/** Backends that already failed in this process: a second attempt would fail the same way, only slower. */
const failures = new Map<BackendName, string>();

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!;

async function activate(name: BackendName): Promise<boolean> {
  // setBackend resolves false (and logs) when the backend's initialisation fails; tfjs then stays on the
  // backend it had, so the return value is the only signal.
  const ok = await tf.setBackend(name);
  return ok && tf.getBackend() === name;
}

async function tryTensorflow(): Promise<Attempt> {
  let tfnode: { version?: Record<string, string> };
  try {
    tfnode = (await import(TFJS_NODE)) as typeof tfnode;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return {
      failed:
        code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND"
          ? `${TFJS_NODE} is not installed (it downloads libtensorflow at install time; ` +
            `npm install ${TFJS_NODE} where that is possible)`
          : `${TFJS_NODE} failed to load: ${messageOf(e)}`,
    };
  }
  // tfjs-node registers its backend with the tfjs-core it imports. If that is another copy than ours, our
  // tensors and its kernels live in different engines: the registration is invisible here.
  if (tf.findBackendFactory("tensorflow") === null) {
    const theirs = tfnode.version?.["tfjs-core"] ?? "unknown";
    return {
      failed:
        `${TFJS_NODE} registered its backend with another copy of @tensorflow/tfjs-core ` +
        `(${theirs}; nnc uses ${tf.version_core}): install matching versions so npm shares one copy`,
    };
  }
  if (!(await activate("tensorflow"))) return { failed: "tfjs-node's backend failed to initialise" };
  const lib = tfnode.version?.["tfjs-node"];
  return {
    name: "tensorflow",
    detail: `tensorflow (tfjs-node${lib ? " " + lib : ""}, native libtensorflow)`,
  };
}

async function tryWasm(): Promise<Attempt> {
  let wasm: { getThreadsCount(): number };
  try {
    // Importing registers the backend. In Node it finds its .wasm files beside its own module (no setWasmPaths).
    wasm = (await import("@tensorflow/tfjs-backend-wasm")) as typeof wasm;
  } catch (e) {
    return { failed: `@tensorflow/tfjs-backend-wasm failed to load: ${messageOf(e)}` };
  }
  registerMissingWasmKernels();
  // On a shared heap where there is a second core: kernel-helper.ts splits kernels over it.
  if (!(await onSharedHeap(() => activate("wasm")))) {
    return { failed: "the WebAssembly module failed to initialise (tf.setBackend('wasm') returned false)" };
  }
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  let threads = 1;
  try {
    threads = wasm.getThreadsCount();
  } catch {
    // Not initialised with threads: tfjs turns them off under Node, so one thread is what runs.
  }
  return {
    name: "wasm",
    detail: `wasm (${simd ? "SIMD" : "no SIMD"}, ${threads} thread${threads === 1 ? "" : "s"})`,
  };
}

async function tryCpu(): Promise<Attempt> {
  // The cpu backend greets its first tensor in Node with a banner recommending tfjs-node; nnc says which
  // backend runs itself. PROD silences tfjs' warnings (and nothing it computes).
  tf.env().set("PROD", true);
  if (!(await activate("cpu"))) return { failed: "the pure-JS backend failed to initialise" };
  return { name: "cpu", detail: "cpu (pure JS; slow)" };
}

const attempts: Record<BackendName, () => Promise<Attempt>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

async function attempt(name: BackendName): Promise<Attempt> {
  const known = failures.get(name);
  if (known !== undefined) return { failed: known };
  const result = await attempts[name]();
  if ("failed" in result) failures.set(name, result.failed);
  return result;
}

/**
 * Makes a backend active for the whole process and says which. `auto` takes the fastest that works:
 * tensorflow (tfjs-node), then wasm, then cpu. A backend asked for by name that cannot run is E600 with the
 * reason. Calling again with the same choice is cheap: it only checks that nothing switched backends since.
 */
export async function selectBackend(choice: BackendChoice = "auto"): Promise<SelectedBackend> {
  const cached = choice === "auto" ? autoChoice : current?.name === choice ? current : undefined;
  if (cached && tf.getBackend() === cached.name) return (current = cached);
  const order: BackendName[] = choice === "auto" ? ["tensorflow", "wasm", "cpu"] : [choice];
  const reasons: string[] = [];
  for (const name of order) {
    const result = await attempt(name);
    if (!("failed" in result)) {
      current = result;
      if (choice === "auto") autoChoice = result;
      return result;
    }
    reasons.push(order.length > 1 ? `${name}: ${result.failed}` : result.failed);
  }
  return fail("E600", { backend: choice, reason: reasons.join("; ") });
}

/** The backend selected last in this process, if any (for run manifests). */
export const selectedBackend = (): SelectedBackend | undefined => current;
