// The choices nnc makes reading a CSV, and that it says which it made: the scale (255 only for pixel bytes),
// the label column (label=NAME|INDEX, the common names, else the first column), and labels as small class
// indices (a huge label is a named error, not a wrapped int32 or an exhausted heap).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { csvMetadata, csvScale, MAX_CLASS_INDEX, parseCsv } from "../../src/data/csv.ts";
import { loadDataset } from "../../src/data/load.ts";
import { checkDataSource } from "../../src/data/index.ts";
import { failsWith, tempDir } from "../helpers.ts";

function csvFile(text: string, name = "data.csv", dir = tempDir("csv-choices")): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Two Gaussian blobs 0.02 apart, as a user's feature CSV: `x1,x2,<label>`. */
function gaussian(count: number, labelName = "label"): string {
  let seed = 7;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const lines = [`x1,x2,${labelName}`];
  for (let i = 0; i < count; i++) {
    const c = i % 2;
    lines.push(
      `${(c * 0.02 + 0.003 * normal()).toFixed(5)},${(-c * 0.02 + 0.003 * normal()).toFixed(5)},${c}`,
    );
  }
  return lines.join("\n") + "\n";
}

const choice = (choices: string[] | undefined, what: string): string =>
  choices?.find((c) => c.startsWith(`${what}: `)) ?? "";

const Scale = suite("csv: the default scale");

Scale("real-valued features are used as they are, and the choice says why, naming a value", async () => {
  const ds = await loadDataset({ source: `csv:${csvFile(gaussian(40))}`, validation: 0.5 });
  const xs = [...ds.train.x, ...ds.validation.x];
  assert.ok(Math.max(...xs.map(Math.abs)) > 0.02, "features kept at their size, not divided by 255");
  const scale = choice(ds.choices, "scale");
  assert.match(scale, "values used as they are: not every feature value is an integer in 0..255");
  assert.match(scale, "at line 2, column 1");
  assert.not.match(ds.description, "divided by");
});

Scale("integer features in 0..255 (pixel bytes) are divided by 255; 0/1 features are not", async () => {
  const bytes = await loadDataset({
    source: `csv:${csvFile("label,a,b\n0,0,255\n1,128,3\n0,7,9\n1,1,2\n")}`,
    validation: 0.5,
  });
  assert.is(Math.max(...bytes.train.x, ...bytes.validation.x), 1);
  assert.match(
    choice(bytes.choices, "scale"),
    "values divided by 255: every feature value is an integer in 0..255",
  );
  assert.match(bytes.description, "values divided by 255");
  // One value past 255 (or negative, or fractional) and the rule does not hold: nothing is divided.
  for (const odd of ["256", "-1", "2.5"]) {
    const ds = await loadDataset({
      source: `csv:${csvFile(`label,a,b\n0,0,255\n1,${odd},3\n0,7,9\n1,1,2\n`)}`,
      validation: 0.5,
    });
    assert.is(Math.max(...ds.train.x, ...ds.validation.x), Math.max(255, Number(odd)), odd);
    assert.match(choice(ds.choices, "scale"), `(${odd} at line 3, column 2)`);
  }
  const binary = await loadDataset({
    source: `csv:${csvFile("label,a,b\n0,0,1\n1,1,0\n0,1,1\n1,0,0\n")}`,
    validation: 0.5,
  });
  assert.match(choice(binary.choices, "scale"), "every feature value is 0 or 1");
});

Scale("scale= overrides the rule, and says so", async () => {
  const path = csvFile(gaussian(10));
  const ds = await loadDataset({ source: `csv:${path}`, validation: 0.5, scale: 0.01 });
  assert.match(choice(ds.choices, "scale"), "values divided by 0.01 (scale=0.01)");
  assert.equal(csvScale({ max: 200, bytes: true }, 1), {
    divisor: 1,
    why: "values used as they are (scale=1)",
  });
});

Scale.run();

const Label = suite("csv: the label column");

Label("the common names are recognised, in any case, wherever the column is", async () => {
  for (const name of ["label", "labels", "target", "class", "y", "Y", "Target"]) {
    const ds = await loadDataset({ source: `csv:${csvFile(gaussian(10, name))}`, validation: 0.5 });
    assert.equal(ds.sampleShape, [2], name);
    assert.equal([...ds.train.y, ...ds.validation.y].sort(), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], name);
    const labels = choice(ds.choices, "labels");
    assert.match(labels, `column '${name}' (index 2 of 3 columns): its name is one nnc takes for labels`);
    assert.match(labels, "label=NAME|INDEX");
  }
});

Label("label=NAME and label=INDEX (negative from the end) choose the column, and say so", async () => {
  const path = csvFile(["a,b,kind,c", "1.5,2,0,3", "4,5,1,6", "7,8,2,9", "10,11,1,12"].join("\n") + "\n");
  for (const label of ["kind", "KIND", 2, -2]) {
    const ds = await loadDataset({ source: `csv:${path}`, validation: 0.5, label });
    assert.equal([...ds.train.y, ...ds.validation.y].sort(), [0, 1, 1, 2], String(label));
    assert.equal(ds.sampleShape, [3]);
    assert.match(choice(ds.choices, "labels"), `column 'kind' (index 2 of 4 columns): label=${label}`);
  }
  // Without label=, no column has a label name: the first is taken, and the choice says so.
  const first = parseCsv(Buffer.from("a,b\n0,1.5\n1,2.5\n"), "f.csv");
  assert.is(first.labelColumn, 0);
  assert.match(
    first.labelWhy,
    "the first column, since no column is named label, labels, target, class or y",
  );
  // A header-less file: by index only.
  const bare = parseCsv(Buffer.from("0.5,1.5,0\n0.25,2.5,1\n"), "bare.csv", { label: -1 });
  assert.equal([...bare.y], [0, 1]);
  assert.equal([...bare.x], [0.5, 1.5, 0.25, 2.5]);
});

Label("a label= that names no column is E518, with the columns and a did-you-mean", async () => {
  const path = csvFile(gaussian(6));
  const unknown = await failsWith("E518", loadDataset({ source: `csv:${path}`, label: "lable" }));
  assert.is(
    unknown.message,
    `${path}: label=lable names no column: its header holds x1, x2, label (did you mean 'label'?)`,
  );
  const far = await failsWith("E518", loadDataset({ source: `csv:${path}`, label: 3 }));
  assert.match(far.message, "the file has 3 columns: give an index 0..2, or -1..-3 to count from the end");
  await failsWith("E518", loadDataset({ source: `csv:${path}`, label: -4 }));
  const bare = csvFile("0.5,1.5,0\n0.25,2.5,1\n");
  const named = await failsWith("E518", loadDataset({ source: `csv:${bare}`, label: "y" }));
  assert.match(named.message, "no header row");
  assert.match(named.message, "label=-1");
});

Label("label= is for csv: sources, and must be a name or an integer (E511)", async () => {
  const mnist = await failsWith("E511", () => checkDataSource({ source: "mnist", label: "y" }));
  assert.match(mnist.message, "data option 'label'");
  await failsWith("E511", loadDataset({ source: `csv:${csvFile(gaussian(4))}`, label: 1.5 }));
});

Label("a test.csv beside train.csv is read with the train file's label column", async () => {
  const dir = tempDir("csv-pair-label");
  csvFile(["a,kind,b", "1,0,2", "3,1,4", "5,0,6", "7,1,8"].join("\n"), "train.csv", dir);
  csvFile(["b,a,kind", "2,1,1", "4,3,0"].join("\n"), "test.csv", dir);
  const ds = await loadDataset({ source: `csv:${dir}`, label: "kind" });
  assert.is(ds.validationName, "test");
  assert.equal([...ds.validation.y], [1, 0]);
});

Label.run();

const Big = suite("csv: labels are small class indices");

Big("a huge label is E517 at its line and column, before anything is sized by it", async () => {
  for (const big of ["99999999999", "65536", "1e20", "99999999999999999999999"]) {
    const path = csvFile(`x,label\n0.5,0\n0.25,${big}\n0.75,1\n`);
    const d = await failsWith("E517", loadDataset({ source: `csv:${path}` }));
    assert.is(
      d.message,
      `${path}:3: label in column 2 is '${big}', past the largest class index nnc accepts (${MAX_CLASS_INDEX}): ` +
        "labels are class indices 0, 1, 2, ...",
    );
    // nnc check reads labels only: the same error.
    await failsWith("E517", csvMetadata(path, undefined));
  }
  // The largest accepted index is read as it is, not wrapped.
  const ok = await loadDataset({
    source: `csv:${csvFile(`x,label\n0.5,0\n0.25,${MAX_CLASS_INDEX}\n0.75,1\n0.5,2\n`)}`,
    validation: 0.5,
  });
  assert.is(ok.numClasses, MAX_CLASS_INDEX + 1);
});

Big("where nnc picked the label column, E512 says which it took and how to name another", async () => {
  const path = csvFile("0.94,0.5,1\n0.12,0.25,0\n");
  const d = await failsWith("E512", loadDataset({ source: `csv:${path}` }));
  assert.match(d.message, ":1: label in column 1 is '0.94'");
  assert.match(
    d.help ?? "",
    "labels are read from column 1 (the first column, since the file has no header row)",
  );
  assert.match(d.help ?? "", "label=-1 is the last column");
  // With label= written, the file is read as told.
  const ds = await loadDataset({ source: `csv:${path}`, label: -1, validation: 0.5 });
  assert.equal([...ds.train.y, ...ds.validation.y].sort(), [0, 1]);
});

Big.run();
