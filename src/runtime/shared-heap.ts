// Runtime: tfjs-backend-wasm's heap as a shared WebAssembly memory, so that a second thread can run nnc's SIMD
// kernels on the same tensors (src/runtime/kernel-helper.ts) with no copy in or out.
//
// tfjs-backend-wasm's single-thread build defines its memory inside its module (its threaded build, which imports
// a shared one, starts its pthreads from Blob URLs, which Node's worker_threads refuse). While tfjs instantiates
// that module, nnc hands WebAssembly.instantiate the same binary with the memory definition turned into an
// import of a shared memory of the same initial size (maximum 4 GiB, what the module may grow to): the code is
// unchanged, only where its memory comes from. Measured on this machine: XNNPACK's matmul, conv2d, add,
// transpose and sum run at the same speed on either memory (alternating runs). Anything unexpected (another
// binary layout, a runtime without shared memory) leaves tfjs' own instantiation untouched.
import { availableParallelism } from "node:os";

/** The memory type of a wasm32 memory that may grow to 4 GiB (65,536 pages of 64 KiB). */
const MAX_PAGES = 65536;
const MEMORY_SECTION = 5;
const IMPORT_SECTION = 2;
const KIND_FUNCTION = 0;
const KIND_TABLE = 1;
const KIND_MEMORY = 2;
const KIND_GLOBAL = 3;
const LIMITS_SHARED_WITH_MAX = 3;

function readU32(b: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = b[at++];
    if (byte === undefined) throw new Error("truncated LEB128");
    value |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [value >>> 0, at];
    shift += 7;
  }
}

function u32(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Uint8Array.from(out);
}

const name = (s: string) => [u32(s.length), new TextEncoder().encode(s)];
const sharedLimits = (initial: number) => [
  Uint8Array.of(LIMITS_SHARED_WITH_MAX),
  u32(initial),
  u32(MAX_PAGES),
];

interface Section {
  id: number;
  body: Uint8Array;
}

function sections(bytes: Uint8Array): Section[] {
  const out: Section[] = [];
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at++]!;
    let length: number;
    [length, at] = readU32(bytes, at);
    out.push({ id, body: bytes.subarray(at, at + length) });
    at += length;
  }
  if (at !== bytes.length) throw new Error("a section runs past the end");
  return out;
}

function assemble(bytes: Uint8Array, parts: Section[]): Uint8Array {
  const chunks: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of parts) chunks.push(Uint8Array.of(s.id), u32(s.body.length), s.body);
  return Buffer.concat(chunks);
}

/** Skips one import entry's description after its kind byte; returns where the next entry starts. */
function skipImportDescription(body: Uint8Array, kind: number, at: number): number {
  if (kind === KIND_FUNCTION) return readU32(body, at)[1];
  if (kind === KIND_TABLE) at += 1; // element type, then limits
  if (kind === KIND_GLOBAL) return at + 2; // value type, mutability
  if (kind !== KIND_TABLE && kind !== KIND_MEMORY) throw new Error(`import kind ${kind}`);
  const flags = body[at++]!;
  at = readU32(body, at)[1];
  return flags & 1 ? readU32(body, at)[1] : at;
}

/**
 * `bytes` (a module defining one memory, importing none) with that memory imported instead as env.memory,
 * shared, with the same initial pages: give it `new WebAssembly.Memory({ initial, maximum: 65536, shared: true })`.
 */
export function importSharedMemory(bytes: Uint8Array): { bytes: Uint8Array; initial: number } {
  const parts = sections(bytes);
  const memory = parts.find((s) => s.id === MEMORY_SECTION);
  if (!memory) throw new Error("the module defines no memory");
  let at: number;
  let count: number;
  [count, at] = readU32(memory.body, 0);
  if (count !== 1) throw new Error(`the module defines ${count} memories`);
  const initial = readU32(memory.body, at + 1)[0];
  const entry = Buffer.concat([
    ...name("env"),
    ...name("memory"),
    Uint8Array.of(KIND_MEMORY),
    ...sharedLimits(initial),
  ]);
  const imports = parts.find((s) => s.id === IMPORT_SECTION);
  let body: Uint8Array;
  if (imports) {
    let entries: number;
    [entries, at] = readU32(imports.body, 0);
    for (let i = 0, p = at; i < entries; i++) {
      for (let field = 0; field < 2; field++) {
        const [length, next] = readU32(imports.body, p);
        p = next + length;
      }
      const kind = imports.body[p]!;
      if (kind === KIND_MEMORY) throw new Error("the module imports a memory too");
      p = skipImportDescription(imports.body, kind, p + 1);
    }
    body = Buffer.concat([u32(entries + 1), imports.body.subarray(at), entry]);
  } else {
    body = Buffer.concat([u32(1), entry]);
  }
  const out: Section[] = [];
  for (const s of parts) {
    if (s.id === MEMORY_SECTION) continue;
    // The import section comes before the memory section's place (section order 2 < 5).
    if (!imports && s.id > IMPORT_SECTION && !out.some((o) => o.id === IMPORT_SECTION))
      out.push({ id: IMPORT_SECTION, body });
    out.push(s.id === IMPORT_SECTION ? { id: s.id, body } : s);
  }
  return { bytes: assemble(bytes, out), initial };
}

/** `bytes` (a module importing one memory) importing it as a shared memory instead. */
export function shareImportedMemory(bytes: Uint8Array): Uint8Array {
  const parts = sections(bytes);
  const imports = parts.find((s) => s.id === IMPORT_SECTION);
  if (!imports) throw new Error("the module imports nothing");
  const chunks: Uint8Array[] = [];
  let [entries, at] = readU32(imports.body, 0);
  let memories = 0;
  chunks.push(imports.body.subarray(0, at));
  for (let i = 0; i < entries; i++) {
    const start = at;
    for (let field = 0; field < 2; field++) {
      const [length, next] = readU32(imports.body, at);
      at = next + length;
    }
    const kind = imports.body[at++]!;
    if (kind !== KIND_MEMORY) {
      at = skipImportDescription(imports.body, kind, at);
      chunks.push(imports.body.subarray(start, at));
      continue;
    }
    memories++;
    const initial = readU32(imports.body, at + 1)[0];
    chunks.push(imports.body.subarray(start, at), ...sharedLimits(initial));
    at = skipImportDescription(imports.body, kind, at);
  }
  if (memories !== 1) throw new Error(`the module imports ${memories} memories`);
  const body = Buffer.concat(chunks);
  return assemble(
    bytes,
    parts.map((s) => (s === imports ? { id: s.id, body } : s)),
  );
}

interface WebAssemblyApi {
  instantiate(bytes: unknown, imports?: Record<string, Record<string, unknown>>): Promise<unknown>;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
}
const WA = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** Whether a heap is shared: a WebAssembly.Memory over a SharedArrayBuffer. */
export function isShared(memory: object | undefined): boolean {
  const buffer = (memory as { buffer?: unknown } | undefined)?.buffer;
  return typeof SharedArrayBuffer !== "undefined" && buffer instanceof SharedArrayBuffer;
}

/**
 * Runs `init` (tfjs-backend-wasm's initialisation) with its module instantiated on a shared memory where a
 * second core could use it; otherwise, or if the binary is not as expected, as tfjs would itself.
 */
export async function onSharedHeap<T>(init: () => Promise<T>): Promise<T> {
  if (!WA || typeof SharedArrayBuffer === "undefined" || availableParallelism() < 2) return init();
  const original = WA.instantiate;
  WA.instantiate = function (source, imports) {
    // Only a binary given as bytes, with an `env` to add the memory to: what tfjs' Node path passes.
    const bytes = ArrayBuffer.isView(source)
      ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
      : source instanceof ArrayBuffer
        ? new Uint8Array(source)
        : undefined;
    if (bytes && imports?.env) {
      let patched: ReturnType<typeof importSharedMemory> | undefined;
      let memory: object | undefined;
      try {
        patched = importSharedMemory(bytes);
        // Reserves 4 GiB of address space: where that fails (a limit on virtual memory), tfjs' own memory.
        memory = new WA!.Memory({ initial: patched.initial, maximum: MAX_PAGES, shared: true });
      } catch {
        patched = undefined; // not the layout expected, or no shared memory here: tfjs' own instantiation
      }
      if (patched && memory) {
        const env = { ...imports.env, memory };
        // A runtime that cannot link it (no shared memories) gets tfjs' own module instead of a failed backend.
        return original
          .call(WA, patched.bytes, { ...imports, env })
          .catch(() => original.call(WA, source, imports));
      }
    }
    return original.call(WA, source, imports);
  } as WebAssemblyApi["instantiate"];
  try {
    return await init();
  } finally {
    WA.instantiate = original;
  }
}
