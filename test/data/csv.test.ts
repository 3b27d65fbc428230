import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { loadDataset } from "../../src/data/load.ts";
import { failsWith, tempDir } from "../helpers.ts";

/** Writes `text` as `name` in a fresh temp dir and returns its path. */
function csvFile(text: string, name = "data.csv", dir = tempDir("csv")): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** `rows` rows of `label,f1..fk` with label i % classes and feature j = (i + j) % 256. */
function rows(count: number, features: number, classes = 3): string[] {
  return Array.from({ length: count }, (_, i) =>
    [i % classes, ...Array.from({ length: features }, (_, j) => (i + j) % 256)].join(","),
  );
}

const Layout = suite("csv: layout");

Layout("a header row is detected; label is the column named label; features are flat", async () => {
  const path = csvFile(
    ["a,b,Label,c", "1,2,0,3", "4,5,1,6", "7,8,2,9", "10,11,1,12", "13,14,0,15"].join("\n"),
  );
  const ds = await loadDataset({ source: `csv:${path}`, validation: 0.4 });
  assert.equal(ds.sampleShape, [3]);
  assert.is(ds.numClasses, 3);
  assert.is(ds.train.count + ds.validation.count, 5);
  assert.is(ds.validation.count, 2);
  // values above 1 -> divided by 255 by default; rows keep their features without the label
  const all = [...ds.train.y, ...ds.validation.y].sort();
  assert.equal(all, [0, 0, 1, 1, 2]);
  const first = ds.train.count > 0 ? Array.from(ds.train.x.subarray(0, 3), (v) => Math.round(v * 255)) : [];
  assert.ok(
    [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
      [10, 11, 12],
      [13, 14, 15],
    ].some((r) => r.join() === first.join()),
  );
  assert.match(ds.description, "labels in 'Label'");
});

Layout("without a header the first column is the label; values in [0,1] are not rescaled", async () => {
  const path = csvFile(["1,0.5,0.25", "0,1,0", "1,0.125,0.75", "0,0,1", "1,0.5,0.5"].join("\r\n") + "\r\n");
  const ds = await loadDataset({ source: `csv:${path}`, validation: 0.4 });
  assert.equal(ds.sampleShape, [2]);
  const values = new Set([...ds.train.x, ...ds.validation.x]);
  assert.ok(values.has(0.125) && values.has(0.75));
  assert.equal([...ds.train.y, ...ds.validation.y].sort(), [0, 0, 1, 1, 1]);
});

Layout(
  "Kaggle's layout: label,pixel0..783 fits a 28x28x1 model; its unlabeled test.csv is ignored",
  async () => {
    const dir = tempDir("kaggle");
    const header = ["label", ...Array.from({ length: 784 }, (_, j) => `pixel${j}`)].join(",");
    csvFile([header, ...rows(30, 784, 10)].join("\n") + "\n", "train.csv", dir);
    const testHeader = Array.from({ length: 784 }, (_, j) => `pixel${j}`).join(",");
    csvFile([testHeader, ...rows(5, 783, 10)].join("\n"), "test.csv", dir);
    const ds = await loadDataset(
      { source: `csv:${join(dir, "train.csv")}` },
      { expect: { inputShape: [28, 28, 1], numClasses: 10 } },
    );
    assert.equal(ds.sampleShape, [784]);
    assert.is(ds.validationName, "validation");
    assert.is(ds.validation.count, 6); // 20% of 30
    assert.is(ds.train.count, 24);
    assert.match(ds.description, "has no label column");
    // scaled by 255: the largest pixel (255) becomes 1
    assert.is(Math.max(...ds.train.x, ...ds.validation.x), 1);
  },
);

Layout("a labelled test.csv beside train.csv is the test set; csv:DIR finds train.csv", async () => {
  const dir = tempDir("pair");
  csvFile(["label,a,b", ...rows(12, 2)].join("\n"), "train.csv", dir);
  csvFile(["label,a,b", ...rows(4, 2)].join("\n"), "test.csv", dir);
  const ds = await loadDataset({ source: `csv:${dir}` });
  assert.is(ds.validationName, "test");
  assert.is(ds.train.count, 12);
  assert.is(ds.validation.count, 4);
  assert.equal(Array.from(ds.validation.y), [0, 1, 2, 0]);
  // validation= takes the hold-out from train instead
  const held = await loadDataset({ source: `csv:${dir}`, validation: 0.25 });
  assert.is(held.validationName, "validation");
  assert.is(held.validation.count, 3);
});

Layout("blank lines, a byte-order mark, signs, decimals and exponents are read", async () => {
  const path = csvFile("\ufefflabel,x,y\n\n2,-1.5,2e-1\n0,+3,.5\n\n1,4.,1E1\n");
  const ds = await loadDataset({ source: `csv:${path}`, validation: 0.5, scale: 1 });
  const got = new Set([...ds.train.x, ...ds.validation.x].map((v) => +v.toFixed(4)));
  for (const v of [-1.5, 0.2, 3, 0.5, 4, 10]) assert.ok(got.has(v), `missing ${v}`);
});

Layout.run();

const Broken = suite("csv: broken files");

Broken("a folder named train.csv or test.csv is E502 naming it", async () => {
  const dir = tempDir("csv-dirs");
  mkdirSync(join(dir, "train.csv"));
  const train = await failsWith("E502", loadDataset({ source: `csv:${dir}` }));
  assert.is(train.message, `${join(dir, "train.csv")}: is a folder, not a file`);
  const other = tempDir("csv-test-dir");
  writeFileSync(join(other, "train.csv"), rows(6, 2).join("\n"));
  mkdirSync(join(other, "test.csv"));
  const test = await failsWith("E502", loadDataset({ source: `csv:${other}` }));
  assert.is(test.message, `${join(other, "test.csv")}: is a folder, not a file`);
});

Broken("an empty file or a header alone is E508", async () => {
  await failsWith("E508", loadDataset({ source: `csv:${csvFile("")}` }));
  await failsWith("E508", loadDataset({ source: `csv:${csvFile("\n \n")}` }));
  const d = await failsWith("E508", loadDataset({ source: `csv:${csvFile("label,a,b\n")}` }));
  assert.match(d.message, "data.csv");
});

Broken("a non-numeric cell is E509 with its line and column", async () => {
  const path = csvFile(["label,a,b", "0,1,2", "1,3,x7", "2,5,6"].join("\n"));
  const d = await failsWith("E509", loadDataset({ source: `csv:${path}` }));
  assert.match(d.message, `${path}:3: column 3`);
  assert.match(d.message, "'x7'");
  const empty = await failsWith("E509", loadDataset({ source: `csv:${csvFile("0,1,2\n1,,3\n")}` }));
  assert.match(empty.message, ":2: column 2");
});

Broken(
  "a header-less file whose first row has a bad feature cell is E509 on line 1, not read as a header",
  async () => {
    const d = await failsWith(
      "E509",
      loadDataset({ source: `csv:${csvFile("0,1,x,3\n1,2,3,4\n2,3,4,5\n")}` }),
    );
    assert.match(d.message, ":1: column 3");
    // Headers still are: all words, a first word with numeric column names, or a column named label.
    for (const header of ["label,0,1,2", "a,b,c,label", "y,px1,px2,px3"]) {
      const ds = await loadDataset({
        source: `csv:${csvFile([header, ...rows(6, 3)].join("\n"))}`,
        validation: 0.5,
      });
      assert.is(ds.train.count + ds.validation.count, 6, header);
    }
  },
);

Broken("a ragged row is E510 with both counts", async () => {
  const path = csvFile(["label,a,b", "0,1,2", "1,3,4,5", "2,5,6"].join("\n"));
  const d = await failsWith("E510", loadDataset({ source: `csv:${path}` }));
  assert.match(d.message, ":3: row has 4 columns, expected 3");
  const short = await failsWith("E510", loadDataset({ source: `csv:${csvFile("0,1,2\n\n1,3\n")}` }));
  assert.match(short.message, ":3: row has 2 columns");
});

Broken("a label that is no class index is E512; a missing file is E502", async () => {
  const d = await failsWith("E512", loadDataset({ source: `csv:${csvFile("label,a\n0,1\n1.5,2\n")}` }));
  assert.match(d.message, ":3: label in column 1 is '1.5'");
  await failsWith("E512", loadDataset({ source: `csv:${csvFile("label,a\n0,1\n-1,2\n")}` }));
  await failsWith("E502", loadDataset({ source: "csv:/nonexistent/train.csv" }));
});

Broken("labels beyond the model's classes are E506 naming the file", async () => {
  const path = csvFile(["label,a,b", ...rows(10, 2, 5)].join("\n"));
  const d = await failsWith(
    "E506",
    loadDataset({ source: `csv:${path}` }, { expect: { inputShape: [2], numClasses: 3 } }),
  );
  assert.match(d.message, `${path}: label 3 at sample 3`);
});

Broken.run();
