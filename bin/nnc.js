#!/usr/bin/env node
// The `nnc` command. In a checkout (src/ present) it runs the TypeScript sources through tsx, so what runs is
// always what is checked out; an installed package without src/ runs the compiled dist/.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = `${root}src/cli/main.ts`;
let cli;
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(pathToFileURL(source).href);
} else {
  cli = await import(pathToFileURL(`${root}dist/src/cli/main.js`).href);
}
process.exitCode = await cli.run(process.argv.slice(2));
