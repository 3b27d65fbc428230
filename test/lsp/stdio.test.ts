// `nnc lsp --stdio` as an editor starts it: a real subprocess (bin/nnc.js) spoken to with vscode-jsonrpc over
// its stdin and stdout. Open a spec with an error, see it, fix it by an edit, see it go; hover; shut down.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { positionOf, spawned, uriOf } from "./client.ts";

const stdio = suite("nnc lsp --stdio, spawned");

stdio("diagnostics, an edit, hover, shutdown and exit", async () => {
  const { client, child, exited, stderr } = spawned();
  try {
    const init = await client.initialize();
    assert.ok(init.capabilities.hoverProvider);
    const uri = uriOf("/tmp/nnc-lsp-stdio/typo.nn");
    const text = "input 28x28\nflatten\ndense 128 rleu\ndense 10 softmax\n";
    const diags = await client.open(uri, text);
    assert.equal(
      diags.map((d) => [d.code, d.message]),
      [
        [
          "E202",
          "'dense' expects a name (relu, sigmoid, tanh, softmax, elu, gelu, leaky_relu, selu, swish, silu, softplus, hard_sigmoid, exponential, linear) for ACTIVATION, got 'rleu'\nhelp: did you mean 'relu'?",
        ],
      ],
    );
    const fixed = text.replace("rleu", "relu");
    assert.equal(await client.change(uri, fixed), []);
    const hover = await client.hover(uri, positionOf(fixed, "dense 128"));
    assert.match((hover!.contents as { value: string }).value, "100,480 parameters");
    await client.stop();
    assert.is(await exited, 0, stderr());
  } finally {
    client.connection.dispose();
    if (child.exitCode === null) child.kill();
  }
});

stdio.run();
