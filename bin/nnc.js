#!/usr/bin/env node
// The `nnc` command. In a checkout (src/ present) it runs an esbuild bundle of the sources that
// scripts/cli-bundle.js keeps equal to them (rebuilt when any file it was built from changed), so what runs is
// always what is checked out; where the bundle cannot be built, the sources through tsx. An installed package
// without src/ runs the compiled dist/.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = `${root}src/cli/main.ts`;
let cli;
if (existsSync(source)) {
  let bundle;
  try {
    const { checkoutBundle } = await import(pathToFileURL(`${root}scripts/cli-bundle.js`).href);
    bundle = await checkoutBundle(root);
  } catch {
    // A source esbuild cannot read, or a cache that cannot be written: tsx reports the first, runs despite the second.
    bundle = undefined;
  }
  if (bundle) {
    // Stack traces (NNC_DEBUG) name the TypeScript sources, through the bundle's source maps.
    if (process.env.NNC_DEBUG) process.setSourceMapsEnabled(true);
    cli = await import(bundle);
  } else {
    const { register } = await import("tsx/esm/api");
    register();
    cli = await import(pathToFileURL(source).href);
  }
} else {
  cli = await import(pathToFileURL(`${root}dist/src/cli/main.js`).href);
}
process.exitCode = await cli.run(process.argv.slice(2));
