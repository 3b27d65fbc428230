// `augment` through the front end: the statement's IR, its errors (E240/E241, ranges E206), the checker's
// (E340 non-image input, E341 crop too large, E342 a vary value that is no augmentation, W416 a negative
// factor), `vary augment` cells, the text form, and `nnc fmt`.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseAugmentText } from "../../src/build/augment.ts";
import { expandGrid } from "../../src/experiment/grid.ts";
import { formatSource } from "../../src/format/index.ts";
import { augmentText, describeAugment, readAugmentText } from "../../src/ir/augment.ts";
import { checkProgram } from "../../src/check/check.ts";
import { build, checked, codes, diagnosticsOf, spanText } from "./helpers.ts";

const CONV = "model conv {\n  input 28x28x1\n  conv2d 4 3x3\n  relu\n  flatten\n  dense 10 softmax\n}\n";
const MLP = "model mlp {\n  input 784\n  dense 10 softmax\n}\n";
const spec = (train: string, rest = "", models = CONV) =>
  `${models}\ntrain {\n  data mnist\n  ${train}\n}\n${rest}`;

const Build = suite("augment: building the IR");

Build("each option lands in train.augment with its span; absent when not written", () => {
  const text = spec("augment flip=horizontal rotate=15 zoom=0.1 translate=0.125 crop=2");
  const { program } = checked(text);
  const { span, ...augment } = program.train.augment!;
  assert.equal(augment, { flip: "horizontal", rotate: 15, zoom: 0.1, translate: 0.125, crop: 2 });
  assert.is(
    text.slice(span![0], span![1]),
    "augment flip=horizontal rotate=15 zoom=0.1 translate=0.125 crop=2",
  );
  assert.is(checked(spec("batch 8")).program.train.augment, undefined);
});

Build("augment with nothing is E240; none with options E241; bad values are the binder's errors", () => {
  assert.equal(codes(build(spec("augment")).diagnostics), ["E240"]);
  assert.equal(codes(build(spec("augment none flip=vertical")).diagnostics), ["E241"]);
  const bad = (option: string) => build(spec(`augment ${option}`)).diagnostics.map((d) => d.code);
  assert.equal(bad("translate=1.5"), ["E206"]);
  assert.equal(bad("zoom=-1"), ["E206"]);
  assert.equal(bad("rotate=400"), ["E206"]);
  assert.equal(bad("crop=-1"), ["E206"]);
  assert.equal(bad("crop=1.5"), ["E202"]);
  assert.equal(bad("flip=sideways"), ["E202"]);
  assert.equal(bad("fip=horizontal"), ["E201"]);
  const d = build(spec("augment flip=horizantal")).diagnostics[0]!;
  assert.match(d.help ?? "", /horizontal/);
});

Build("augment none is an empty augmentation (it turns an inherited one off in an experiment)", () => {
  const text = spec("augment flip=horizontal", "experiment e {\n  augment none\n}\n");
  const { program } = checked(text);
  const { span: _s, ...own } = program.experiments[0]!.train!.augment!;
  assert.equal(own, {});
  const [cell] = expandGrid(program, program.experiments[0]!);
  assert.is(cell!.train.augment, undefined);
});

const Check = suite("augment: checking");

Check("augmentation of a model whose input is no image is E340 at the augment statement", () => {
  const text = spec("augment flip=horizontal", "", CONV + MLP);
  const diags = diagnosticsOf(text);
  assert.equal(codes(diags), ["E340"]);
  assert.match(diags[0]!.message, /model 'mlp' takes input 784/);
  assert.is(spanText(text, diags[0]!), "augment flip=horizontal");
  // A 2-D input is a one-channel image.
  assert.equal(
    codes(diagnosticsOf(spec("augment crop=2", "", "input 28x28\nflatten\ndense 10 softmax\n"))),
    [],
  );
  // Models only defined, never trained (no train block, no experiment): nothing to judge.
  const untrained = checked(`${MLP}`);
  assert.equal(codes(untrained.diagnostics), []);
});

Check("a crop not smaller than the image's side is E341; a negative factor warns W416", () => {
  const text = spec("augment crop=28");
  assert.equal(codes(diagnosticsOf(text)), ["E341"]);
  assert.equal(codes(diagnosticsOf(spec("augment crop=27"))), []);
  const w = diagnosticsOf(spec("augment rotate=-10"));
  assert.equal(codes(w), ["W416"]);
  assert.match(w[0]!.message, /rotate=-10 draws from \[-10, 10\], as rotate=10 does/);
});

Check("vary augment values: none or quoted options, each checked (E342) and against the models", () => {
  const ok = spec(
    "batch 8",
    'experiment e {\n  vary augment none "flip=horizontal crop=2" "rotate=10 zoom=0.1"\n}\n',
  );
  assert.equal(codes(checked(ok).diagnostics), []);
  const text = spec("batch 8", 'experiment e {\n  vary augment none "flp=horizontal" "crop=40" 3\n}\n');
  const diags = diagnosticsOf(text);
  assert.equal(codes(diags), ["E342", "E341", "E342"]);
  assert.match(diags[0]!.message, /unknown option 'flp'.*did you mean 'flip'/);
  assert.is(spanText(text, diags[0]!), 'vary augment none "flp=horizontal" "crop=40" 3');
  // Read by the grammar and by the experiment runner's plain reader: both must agree (IR JSON can hold any text).
  const ir = checked(spec("batch 8", 'experiment e {\n  vary augment "flip=vertical"\n}\n')).program;
  ir.experiments[0]!.vary[0]!.values = ['flip="vertical"'];
  const quoted = checkProgram(ir).diagnostics;
  assert.equal(codes(quoted), ["E342"]);
  assert.is(quoted[0]!.help, 'e.g. "flip=vertical"');
  const mlp = spec("batch 8", 'experiment e {\n  vary augment none "flip=vertical"\n}\n', MLP);
  assert.equal(codes(diagnosticsOf(mlp)), ["E340"]);
});

Check("an experiment's own augment is checked against the models it compares", () => {
  const text = spec("batch 8", "experiment e {\n  compare mlp\n  augment zoom=0.2\n}\n", CONV + MLP);
  assert.equal(codes(diagnosticsOf(text)), ["E340"]);
  const conv = spec("batch 8", "experiment e {\n  compare conv\n  augment zoom=0.2\n}\n", CONV + MLP);
  assert.equal(codes(diagnosticsOf(conv)), []);
});

const Grid = suite("augment: experiments");

Grid("vary augment: one group per value, none without augmentation, labels as written", () => {
  const text = spec(
    "augment crop=1",
    'experiment e {\n  vary augment none "flip=horizontal crop=2"\n  repeat 2\n}\n',
  );
  const { program } = checked(text);
  const cells = expandGrid(program, program.experiments[0]!);
  assert.is(cells.length, 4);
  assert.is(cells[0]!.train.augment, undefined);
  assert.equal(cells[2]!.train.augment, { flip: "horizontal", crop: 2 });
  assert.equal(
    cells.map((c) => c.group),
    [
      "conv augment=none",
      "conv augment=none",
      'conv augment="flip=horizontal crop=2"',
      'conv augment="flip=horizontal crop=2"',
    ],
  );
  assert.not.equal(cells[0]!.id, cells[2]!.id);
  // A value that says the same as another collides (E634), as any other setting's does.
  const same = spec("batch 8", 'experiment e {\n  vary augment "crop=2" "crop=2 rotate=0"\n}\n');
  const p = checked(same).program;
  assert.throws(() => expandGrid(p, p.experiments[0]!), /E634|same training settings/);
});

Grid("the text form reads back as itself; the header's words", () => {
  const a = { flip: "horizontal" as const, rotate: 15, zoom: 0.1, translate: 0.125, crop: 2 };
  const text = augmentText(a);
  assert.is(text, "flip=horizontal rotate=15 zoom=0.1 translate=0.125 crop=2");
  assert.equal(parseAugmentText(text), { augment: a });
  assert.equal(parseAugmentText("none"), { augment: {} });
  assert.is(augmentText({}), "none");
  assert.is(
    describeAugment(a),
    "random horizontal flip, rotation ±15°, zoom ±10%, translation ±12.5%, 2-pixel pad and random crop",
  );
  assert.ok("error" in parseAugmentText("crop=2; flip=vertical"));
  assert.ok("error" in parseAugmentText('crop="2'));
  assert.equal(readAugmentText(text), a);
  assert.equal(readAugmentText(" none "), {});
  for (const bad of ["flip", "flip=sideways", "crop=2 crop=3", "crop=x", "size=2", "crop==2"])
    assert.is(readAugmentText(bad), undefined, bad);
});

const Format = suite("augment: nnc fmt");

Format("prints an augment statement and a vary augment list as written, in canonical layout", async () => {
  const text = `input 28x28x1\nflatten\ndense 10 softmax\ntrain {\n    augment   flip=horizontal  crop=2\n}\nexperiment e {\n  vary augment none   "rotate=10 zoom=0.1"\n}\n`;
  assert.is(
    await formatSource(text),
    `input 28x28x1\nflatten\ndense 10 softmax\n\ntrain {\n  augment flip=horizontal crop=2\n}\n\nexperiment e {\n  vary augment none "rotate=10 zoom=0.1"\n}\n`,
  );
});

Build.run();
Check.run();
Grid.run();
Format.run();
