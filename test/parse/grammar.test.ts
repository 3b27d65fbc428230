// The committed grammar bundle (grammar/nn.ohm-bundle.*) is what grammar/nn.ohm compiles to; when this fails,
// run `npm run gen:grammar`.
import { readFileSync } from "node:fs";
import * as ohm from "ohm-js";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import bundled from "../../grammar/nn.ohm-bundle.js";

const bundle = suite("grammar bundle");

bundle("is up to date with grammar/nn.ohm", () => {
  const source = readFileSync(new URL("../../grammar/nn.ohm", import.meta.url), "utf8");
  const fresh = ohm.grammar(source);
  // toRecipe() is public ohm API (the bundles are built from it) but missing from its .d.ts.
  const recipe = (g: object) => (g as { toRecipe(): string }).toRecipe();
  assert.is(recipe(bundled), recipe(fresh), "stale bundle: run npm run gen:grammar");
  const types = readFileSync(new URL("../../grammar/nn.ohm-bundle.d.ts", import.meta.url), "utf8");
  for (const rule of Object.keys(fresh.rules).filter((r) => !(r in ohm.ohmGrammar.rules) && r !== "space"))
    assert.ok(
      types.includes(`  ${rule}?:`),
      `rule '${rule}' missing from the .d.ts: run npm run gen:grammar`,
    );
});

bundle.run();
