// A static server for the browser example, nothing else: the page (examples/browser/), the TensorFlow.js
// bundles it loads (node_modules/@tensorflow/*/dist/), and one trained model folder mounted at /model/. Only
// those three, read-only; any other path is 404. Local use: it listens on 127.0.0.1 unless told otherwise.
//   npx tsx examples/browser/serve.ts --model runs/mnist-bn [--port 8080] [--host 127.0.0.1]
// then open http://127.0.0.1:8080/ . It prints that URL (with the port it got, for --port 0) on stdout.
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const repo = fileURLToPath(new URL("../../", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".bin": "application/octet-stream",
  ".wasm": "application/wasm",
  ".map": "application/json",
};

/** URL prefix -> folder it serves (the model folder is whatever the user names). */
function mounts(modelDir: string): Array<[string, string]> {
  return [
    ["/model/", resolve(modelDir)],
    ["/node_modules/@tensorflow/tfjs-core/dist/", join(repo, "node_modules/@tensorflow/tfjs-core/dist")],
    ["/node_modules/@tensorflow/tfjs-layers/dist/", join(repo, "node_modules/@tensorflow/tfjs-layers/dist")],
    [
      "/node_modules/@tensorflow/tfjs-backend-cpu/dist/",
      join(repo, "node_modules/@tensorflow/tfjs-backend-cpu/dist"),
    ],
    ["/", join(repo, "examples/browser")],
  ];
}

/** The file a URL path names inside one of the mounts, or undefined (outside them, `..`, not a file). */
function fileFor(path: string, table: Array<[string, string]>): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const mount = table.find(([prefix]) => decoded.startsWith(prefix));
  if (!mount) return undefined;
  const [prefix, dir] = mount;
  const rest = decoded.slice(prefix.length) || "index.html";
  const file = normalize(join(dir, rest));
  if (file !== dir && !file.startsWith(dir + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

export function startServer(options: { modelDir: string; port?: number; host?: string }): Promise<Server> {
  const table = mounts(options.modelDir);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const file = req.method === "GET" || req.method === "HEAD" ? fileFor(path, table) : undefined;
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((done, failed) => {
    server.once("error", failed);
    server.listen(options.port ?? 8080, options.host ?? "127.0.0.1", () => done(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      port: { type: "string", default: "8080" },
      host: { type: "string" },
    },
  });
  if (!values.model || !statSync(join(values.model, "model.json"), { throwIfNoEntry: false })?.isFile()) {
    console.error(
      `usage: npx tsx examples/browser/serve.ts --model DIR [--port 8080] [--host 127.0.0.1]\n` +
        `  DIR: a folder holding model.json + weights.bin (nnc train's --out folder, or its inference/)` +
        (values.model ? `\n${values.model} has no model.json` : ""),
    );
    process.exit(2);
  }
  const server = await startServer({
    modelDir: values.model,
    port: Number(values.port),
    ...(values.host ? { host: values.host } : {}),
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : values.port;
  console.log(`http://${values.host ?? "127.0.0.1"}:${port}/`);
}
