// nnc's version, read once from package.json (reported by --version and written into run manifests).
// The file sits one folder up from src/ in a checkout and two up from dist/src/ in a build.
import { existsSync, readFileSync } from "node:fs";

const candidates = ["../package.json", "../../package.json"].map((p) => new URL(p, import.meta.url));
const manifest = candidates.find((url) => existsSync(url));

export const VERSION: string = manifest
  ? (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version
  : "unknown";
