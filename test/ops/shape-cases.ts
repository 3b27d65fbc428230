// The checks every op that only moves values goes through (upsampling2d, zeropadding2d, cropping2d, reshape, the
// poolings),
// as one uvu suite per op: tfjs-layers' own layer (parameters, output shape) and parity of nnc's export, the
// compiled step against autograd (wasm and cpu), two threads against one, Keras import and ONNX round trips,
// the formatter, the language server, and the op's error cases.
import type * as tfl from "@tensorflow/tfjs-layers";
import * as tflayers from "@tensorflow/tfjs-layers";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kerasParity } from "./parity.ts";
import { codesOf, completions, formatted, hoverText, importRoundTrip, onnxDifference } from "./phases.ts";
import { assertAutogradAgrees, assertCompiledStepAgrees, assertThreadsAgree, TRAIN } from "./step.ts";

export interface ShapeCase {
  op: string;
  /** Statements using the op, each with its tfjs-layers twin on the per-sample input shape. */
  uses: Array<{
    statement: string;
    input: number[];
    layer: () => tfl.layers.Layer;
    /** The spec around the statement, where the default one (`around`) does not fit its output. */
    spec?: string;
    /** tfjs-layers' output shape, where it differs from Keras' (and nnc's): reshape's -1 it leaves unknown. */
    tfjsShape?: (number | null)[];
  }>;
  /** false: the compiled step leaves the op out (autograd trains it). Default: it covers it. */
  compiled?: boolean;
  /** Specs the op rejects, with the code expected. */
  errors: Array<[spec: string, code: string]>;
}

/**
 * A small network around the statement: weights before it (so its gradient matters) and after it. Images: a
 * convnet; sequences [steps, channels]: a batchnorm before it; vectors: a dense layer.
 */
const around = (statement: string, input: number[]) =>
  input.length === 3
    ? `input ${input.join("x")}\nconv2d 3 3x3 padding=same tanh\n${statement}\nconv2d 2 3x3 padding=same\nflatten\ndense 3 softmax`
    : input.length === 2
      ? `input ${input.join("x")}\nbatchnorm\n${statement}\nflatten\ndense 3 softmax`
      : `input ${input.join("x")}\ndense ${input[0]} tanh\n${statement}\nflatten\ndense 3 softmax`;

type Use = ShapeCase["uses"][number];
const specOf = (use: Use) => use.spec ?? around(use.statement, use.input);

export function shapeSuite(c: ShapeCase) {
  const S = suite(`op ${c.op}`);

  S("parameters and output shape of tfjs-layers' own layer; predictions of the export equal", async () => {
    for (const use of c.uses) {
      const parity = await kerasParity(specOf(use));
      const at = parity.layers.findIndex((l) => l.op === c.op);
      const node = parity.layers[at]!;
      const layer = use.layer();
      const input = parity.layers[at - 1]!.nncShape.slice(1) as number[];
      const out = layer.apply(tflayers.input({ shape: input })) as tfl.SymbolicTensor;
      assert.is(layer.countParams(), 0);
      assert.is(node.nncParams, 0);
      const tfjs = use.tfjsShape ?? node.nncShape;
      assert.equal(out.shape, tfjs, `${use.statement}: tfjs-layers' own layer`);
      assert.equal(node.tfjsShape, tfjs, `${use.statement}: the export's layer`);
      assert.ok(parity.maxAbs > 1e-3, `predictions are not all ~0 (${parity.maxAbs})`);
      assert.ok(parity.maxDiff < 1e-5, `${use.statement}: predictions differ by ${parity.maxDiff}`);
    }
  });

  if (c.compiled === false) {
    S("trained by autograd (not the compiled step), with the same gradients on wasm as on cpu", async () => {
      for (const use of c.uses)
        assert.ok((await assertAutogradAgrees(specOf(use) + TRAIN)) > 1e-6, "gradients flow");
    });
  } else {
    for (const backend of ["wasm", "cpu"] as const) {
      S(`the compiled step equals autograd (${backend})`, async () => {
        for (const use of c.uses) {
          const largest = await assertCompiledStepAgrees(specOf(use) + TRAIN, backend);
          assert.ok(largest > 1e-6, "gradients flow");
        }
      });
    }

    S("two threads train what one thread trains", async () => {
      const use = c.uses[0]!;
      await assertThreadsAgree(specOf(use) + TRAIN);
    });
  }

  S("Keras import reads the export back as the same statement", async () => {
    for (const use of c.uses) {
      const text = await importRoundTrip(specOf(use));
      assert.ok(text.split("\n").includes(use.statement), `${use.statement} in\n${text}`);
    }
  });

  S("ONNX export predicts what nnc predicts", async () => {
    for (const use of c.uses) {
      const { maxDiff, maxAbs } = await onnxDifference(specOf(use));
      assert.ok(maxAbs > 1e-3);
      assert.ok(maxDiff < 1e-5, `${use.statement}: ONNX differs by ${maxDiff}`);
    }
  });

  S("nnc fmt keeps the statement; hover and completion know the op", async () => {
    const use = c.uses[0]!;
    const spec = specOf(use);
    assert.is(await formatted(spec.replace(use.statement, `${use.statement}  `)), `${spec}\n`);
    assert.match(hoverText(spec, use.statement), c.op);
    assert.ok(completions(`input 4\n${c.op.slice(0, 3)}`).includes(c.op), "completed");
  });

  S("errors: the expected diagnostic codes", () => {
    for (const [spec, code] of c.errors)
      assert.ok(codesOf(spec).includes(code), `${code} for\n${spec}: ${codesOf(spec)}`);
  });

  return S;
}
