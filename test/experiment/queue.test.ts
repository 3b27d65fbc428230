// Experiments on a Redis queue, for real: a real redis-server (test/experiment/redis.ts), real `nnc worker`
// processes, BullMQ as it is. Two workers give the results of a local --jobs 1 run; enqueuing twice keeps one job
// per cell; a cell longer than the job lock runs once (training is in worker threads, so locks are renewed); a
// worker killed mid-cell has its cell retrained by the other; a killed coordinator's cells are collected by
// --resume; a worker without the data fails the cell with the data error; a bad payload is refused, not retried;
// an unreachable Redis is E661; a password is never printed.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { memoryIO } from "../../src/cli/io.ts";
import { run } from "../../src/cli/main.ts";
import { expandGrid } from "../../src/experiment/grid.ts";
import { cellJob, JOB_NAME, QUEUE_NAME } from "../../src/experiment/queue/job.ts";
import { parseQueueUrl, redactUrlText } from "../../src/experiment/queue/url.ts";
import { validateResults, type CellResult, type Results } from "../../src/experiment/results-schema.ts";
import { resultsPath } from "../../src/experiment/results.ts";
import { runExperiment } from "../../src/experiment/run-experiment.ts";
import { VERSION } from "../../src/version.ts";
import { failsWith, tempDir } from "../helpers.ts";
import { runOptions, tinySpec } from "./helpers.ts";
import { redisClient, stopTestRedis, testRedis, type TestRedis } from "./redis.ts";

const BIN = fileURLToPath(new URL("../../bin/nnc.js", import.meta.url));
/** Locks of 0.5 s (renewed every 0.25 s): a lost worker's cell is back on the queue within about a second. */
const LOCK_MS = "500";
const PASSWORD = "s3cret-Pw_for-tests";

/** 4 cells, 2 of which diverge (a diverged cell is a result, not a retry). */
const GRID = tinySpec(
  "experiment rates {\n  compare plain normed\n  vary lr 0.01 1e30\n}",
  "data mnist limit=96\n  optimizer sgd lr=0.01\n  batch 32\n  epochs 2\n  seed 3",
);
/** One cell of several seconds on a fast machine (0.66 s was measured for 8 epochs): many times the lock. */
const LONG = tinySpec(
  "experiment long {\n  compare plain\n}",
  "data mnist limit=2400\n  batch 16\n  epochs 40\n  seed 5",
);

const readJson = (dir: string) => JSON.parse(readFileSync(resultsPath(dir), "utf8")) as Results;
/** What a cell's training gives, without timings and the worker (which differ between any two runs). */
const deterministic = (c: CellResult) => ({
  id: c.id,
  status: c.status,
  error: c.error,
  train: c.train,
  lr: c.lr,
  history: c.history.map(({ seconds: _s, samplesPerSecond: _r, ...e }) => e),
  final: c.final,
  bestValAccuracy: c.bestValAccuracy,
});

async function waitFor(what: string, test: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Proc {
  child: ChildProcess;
  log: () => string;
  name: string;
}

/** `nnc <args>` as its own process (stdout and stderr collected). */
function nnc(args: string[], env: Record<string, string> = {}): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NNC_QUEUE_LOCK_MS: LOCK_MS, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (b: Buffer) => (text += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (text += b.toString()));
  return { child, log: () => text };
}

async function startWorker(url: string): Promise<Proc> {
  const p = nnc(["worker", "--queue", url, "--jobs", "1"]);
  await waitFor("a worker to start", () => /training cells from/.test(p.log()) || p.child.exitCode !== null);
  const name = /worker (\S+): training/.exec(p.log())?.[1];
  if (!name) throw new Error(`worker did not start:\n${p.log()}`);
  return { ...p, name };
}

/** BullMQ's connection to the test server, as the test user. */
function parseQueueUrlConnection() {
  const u = parseQueueUrl(url);
  return { host: u.host, port: u.port, db: u.db, username: u.username, password: u.password };
}

const q = suite("experiments on a Redis queue");

let redis: TestRedis;
let url = ""; // with the test user's password
let workers: Proc[] = [];
let local: Results;
const made: ChildProcess[] = [];

q.before(async () => {
  redis = await testRedis();
  if ("skip" in redis) {
    console.log(`queue tests skipped: ${redis.skip}`);
    return;
  }
  const admin = redisClient(redis.url);
  await admin.flushdb();
  // A user with a password, as a shared Redis would have.
  await admin.call("ACL", "SETUSER", "nnc-test", "on", `>${PASSWORD}`, "~*", "&*", "+@all");
  admin.disconnect();
  url = `redis://nnc-test:${encodeURIComponent(PASSWORD)}@${redis.host}:${redis.port}/${redis.db}`;
  const t = Date.now();
  workers = await Promise.all([startWorker(url), startWorker(url)]);
  if (process.env.NNC_TEST_TIMES) console.log(`workers started: ${((Date.now() - t) / 1000).toFixed(1)} s`);
  made.push(...workers.map((w) => w.child));
});

q.after(() => {
  for (const child of made) if (child.exitCode === null) child.kill("SIGKILL");
  stopTestRedis();
});

const needsRedis = (name: string, fn: () => Promise<void>) => async (): Promise<void> => {
  if ("skip" in redis) {
    console.log(`  skipped '${name}': ${redis.skip}`);
    return;
  }
  const t = Date.now();
  await fn();
  if (process.env.NNC_TEST_TIMES) console.log(`${name}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
};

const withQueue = (name: string, fn: () => Promise<void>) => q(name, needsRedis(name, fn));

q("a --queue URL: host, port, db and password read; the password never shown", () => {
  const u = parseQueueUrl("redis://:p%40ss@example.org:6380/2", {});
  assert.equal([u.host, u.port, u.db, u.password, u.tls], ["example.org", 6380, 2, "p@ss", false]);
  assert.is(u.display, "redis://:***@example.org:6380/2");
  const user = parseQueueUrl("rediss://ann:pw@[::1]", {});
  assert.equal([user.host, user.port, user.username, user.tls], ["::1", 6379, "ann", true]);
  assert.is(user.display, "rediss://ann:***@[::1]:6379/0");
  assert.is(parseQueueUrl("redis://h", { NNC_REDIS_PASSWORD: "x" }).password, "x");
  assert.is(redactUrlText("redis://:hunter2@h:1/x?y"), "redis://:***@h:1/x?y");
});

q("a bad --queue URL is E660, shown without its password", async () => {
  for (const [text, why] of [
    ["http://:hunter2@h", "scheme"],
    ["redis://:hunter2@h/x", "database"],
    ["redis://:hunter2@h?db=1", "query"],
    ["nonsense", "does not parse"],
  ] as const) {
    const d = await failsWith("E660", () => parseQueueUrl(text, {}));
    assert.match(d.message, why);
    assert.not.match(d.message, "hunter2");
  }
  const io = memoryIO();
  assert.is(await run(["worker", "--queue", "redis://:hunter2@h/x"], io), 1);
  assert.match(io.stderr(), "error[E660]");
  assert.not.match(io.stderr(), "hunter2");
  // --jobs is for local runs: the queue's workers say how many cells they train at once.
  const both = memoryIO();
  assert.is(await run(["experiment", "x.nn", "--jobs", "2", "--queue", "redis://h"], both), 2);
  assert.match(both.stderr(), "cannot be used with");
});

q("Redis unreachable: E661 naming the URL (without its password), no hang", async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const dir = tempDir("queue-down");
  const target = `redis://:hunter2@127.0.0.1:${closed}/0`;
  const d = await failsWith("E661", () =>
    runExperiment(memoryIO(), runOptions(dir, GRID, { queue: parseQueueUrl(target, {}) })),
  );
  assert.match(d.message, `redis://:***@127.0.0.1:${closed}/0`);
  assert.match(d.message, "ECONNREFUSED");
  assert.not.match(d.message, "hunter2");
  const io = memoryIO();
  assert.is(await run(["worker", "--queue", target], io), 1);
  assert.match(io.stderr(), "error[E661]");
  assert.not.match(io.stderr(), "hunter2");
});

withQueue("two workers give the results of a local --jobs 1 run; the password is never printed", async () => {
  const dir = tempDir("queue-two");
  local = (await runExperiment(memoryIO(), runOptions(dir, GRID, { outDir: join(dir, "local") }))).results;
  assert.ok(local.cells.some((c) => c.status === "diverged") && local.cells.some((c) => c.status === "ok"));

  // Two coordinators of the same cells before any worker could take them: one job per cell.
  const paused = new Queue(QUEUE_NAME, { connection: parseQueueUrlConnection() });
  await paused.pause();
  const io = memoryIO();
  const again = memoryIO();
  const first = runExperiment(
    io,
    runOptions(dir, GRID, { outDir: join(dir, "queue"), queue: parseQueueUrl(url) }),
  );
  await waitFor("the cells to be enqueued", () => /enqueued/.test(io.stderr()));
  const second = runExperiment(
    again,
    runOptions(dir, GRID, { outDir: join(dir, "queue-again"), queue: parseQueueUrl(url) }),
  );
  await waitFor("the second enqueue", () => /enqueued/.test(again.stderr()));
  assert.match(io.stderr(), "4 cells enqueued");
  assert.match(again.stderr(), "0 cells enqueued, 4 already on the queue");
  assert.is(await paused.getJobCountByTypes("wait"), 4);
  await paused.resume();
  await paused.close();
  await Promise.all([first, second]);

  for (const out of ["queue", "queue-again"]) {
    const results = readJson(join(dir, out));
    assert.equal(validateResults(results), []);
    assert.equal(results.cells.map(deterministic), local.cells.map(deterministic), `${out}: bit for bit`);
    assert.ok(results.cells.every((c) => workers.some((w) => w.name === c.worker)));
    const server = redis as Exclude<TestRedis, { skip: string }>;
    assert.is(results.queue, `redis://nnc-test:***@${server.host}:${server.port}/${server.db}`);
  }
  const printed = [io.stderr(), again.stderr(), ...workers.map((w) => w.log())].join("\n");
  for (const text of [printed, readFileSync(resultsPath(join(dir, "queue")), "utf8")]) {
    assert.not.match(text, PASSWORD);
    assert.not.match(text, encodeURIComponent(PASSWORD));
  }
  assert.match(io.stderr(), "cell 4/4 done");
  assert.match(io.stderr(), /\[4\/4\] normed lr=1e\+30 seed 3 {2}epoch 1\/2/); // progress from the workers
});

let longResult: CellResult;

withQueue("a cell longer than the job lock trains once: its lock is renewed while it trains", async () => {
  const dir = tempDir("queue-long");
  const io = memoryIO();
  const logs = workers.map((w) => w.log().length);
  const r = await runExperiment(io, runOptions(dir, LONG, { queue: parseQueueUrl(url) }));
  [longResult] = r.results.cells;
  assert.ok(longResult!.seconds > 2 * (Number(LOCK_MS) / 1000), `the cell took ${longResult!.seconds} s`);
  const after = workers.map((w, i) => w.log().slice(logs[i]));
  assert.is(after.join("").match(/started cell 1 of experiment 'long'/g)?.length, 1, after.join("\n"));
  assert.not.match(after.join(""), "lost its worker");
  assert.not.match(io.stderr(), "back on the queue");
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrlConnection() });
  const [job] = await queue
    .getJobs(["completed"])
    .then((jobs) => jobs.filter((j) => j.data.experiment === "long"));
  assert.is(job!.attemptsStarted, 1);
  assert.is(job!.stalledCounter, 0);
  await queue.close();
});

withQueue("a bad payload is refused by the worker (E663) and not retried", async () => {
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrlConnection() });
  const dir = tempDir("queue-bad");
  const opts = runOptions(dir, GRID);
  const experiment = opts.program.experiments[0]!;
  const cell = expandGrid(opts.program, experiment)[0]!;
  const good = cellJob(
    {
      nncVersion: VERSION,
      spec: { file: opts.specFile, text: opts.specText },
      experiment: experiment.name,
      options: {},
      data: cell.train.data,
      backend: "auto",
    },
    cell,
  );
  const tampered = structuredClone(good);
  tampered.cell.train.optimizer.lr = 123;
  const bad = {
    "bad-shape": { ...good, run: "require('child_process').exec('touch /tmp/pwned')" },
    "bad-settings": tampered,
    "bad-spec": { ...good, spec: { file: "x.nn", text: "dense dense dense" } },
  };
  for (const [id, data] of Object.entries(bad)) await queue.add(JOB_NAME, data, { jobId: id, attempts: 3 });
  for (const id of Object.keys(bad)) {
    await waitFor(`job ${id} to fail`, async () => (await queue.getJobState(id)) === "failed");
    const job = (await queue.getJob(id))!;
    assert.match(job.failedReason, "error[E663]");
    assert.is(job.attemptsMade, 1, "not retried");
  }
  assert.match((await queue.getJob("bad-shape"))!.failedReason, "must NOT have additional properties");
  assert.match((await queue.getJob("bad-settings"))!.failedReason, "not those the spec gives");
  assert.match((await queue.getJob("bad-spec"))!.failedReason, "does not compile");
  await queue.close();
});

withQueue(
  "a worker without the data fails the cell with the data error, which the coordinator reports",
  async () => {
    const dir = tempDir("queue-data");
    const rows = Array.from(
      { length: 40 },
      (_, i) => `${i % 7},${(i * 3) % 5},${i % 2},${(i * 5) % 3},${i % 3}`,
    );
    writeFileSync(join(dir, "points.csv"), ["a,b,c,d,label", ...rows].join("\n") + "\n");
    const text =
      "model small { input 4; dense 3 softmax }\n" +
      "train {\n  data csv:points.csv\n  batch 8\n  epochs 1\n}\n" +
      "experiment one { compare small }\n";
    const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrlConnection() });
    await queue.pause();
    const io = memoryIO();
    const running = failsWith("E662", () =>
      runExperiment(io, runOptions(dir, text, { queue: parseQueueUrl(url) })),
    );
    await waitFor("the cell to be enqueued", () => /enqueued/.test(io.stderr()));
    rmSync(join(dir, "points.csv")); // the workers' machine lacks the file
    await queue.resume();
    await queue.close();
    const d = await running;
    assert.match(d.message, "1 of 1 cell of experiment 'one' failed");
    assert.match(d.message, "error[E502]");
    assert.match(d.message, "no such file");
    assert.match(d.message, "points.csv");
    assert.match(io.stderr(), "back on the queue (its attempt failed"); // retried before it failed for good
  },
);

withQueue("a result that is not the cell's is refused (E665), never written to results.json", async () => {
  // Another database of the same server, so the suite's real workers do not take the job: a rogue BullMQ worker
  // (a misbehaving or foreign program on the queue) answers it with something that is no cell result.
  const db = (parseQueueUrl(url).db + 1) % 16;
  const otherUrl = url.replace(/\/\d+$/, `/${db}`);
  const connection = { ...parseQueueUrlConnection(), db };
  const one = tinySpec("experiment one {\n  compare plain\n}", "data mnist limit=96\n  batch 32\n  epochs 1");
  // A well-formed result of another cell (a real one, from a local run, with another seed and id) passes the
  // schema and is refused by resultMatchesCell: a worker cannot file one cell's result under another.
  const local = await runExperiment(memoryIO(), runOptions(tempDir("queue-rogue-local"), one, {}));
  const real = local.results.cells[0]!;
  const other = { ...real, id: `${real.id}x`, seed: real.seed + 1 };
  const answers: Array<[unknown, string]> = [
    [{ worker: "rogue", result: "weights" }, "must be object"],
    [{ worker: "rogue", result: other }, `"seed":${real.seed + 1}`],
    [{ worker: "rogue", result: { ...real, train: { ...real.train, epochs: 9 } } }, "train settings are not"],
  ];
  for (const [answer, said] of answers) {
    const admin = redisClient(otherUrl);
    await admin.flushdb();
    admin.disconnect();
    const rogue = new Worker(QUEUE_NAME, async () => answer, { connection });
    const dir = tempDir("queue-rogue");
    const io = memoryIO();
    try {
      const d = await failsWith("E662", () =>
        runExperiment(io, runOptions(dir, one, { queue: parseQueueUrl(otherUrl) })),
      );
      assert.match(d.message, "error[E665]");
      assert.match(d.message, "sent by worker rogue is not a result of that cell");
      assert.match(d.message + io.stderr(), said);
      assert.match(io.stderr(), "the result sent by worker rogue is refused");
      const written = readJson(join(dir, "out"));
      assert.is(written.cells.length, 0, "nothing of the rogue's answer is kept");
    } finally {
      await rogue.close();
    }
  }
});

withQueue("the coordinator killed: --resume collects the cells that finished meanwhile", async () => {
  const dir = tempDir("queue-resume");
  const spec = join(dir, "tiny.nn");
  writeFileSync(spec, GRID);
  const out = join(dir, "out");
  // --force: the cells are on the queue, finished, from the first test; train them anew.
  const coordinator = nnc(["experiment", spec, "--out", out, "--force", "--queue", url]);
  made.push(coordinator.child);
  await waitFor("the coordinator to enqueue", () => /4 cells enqueued/.test(coordinator.log()));
  coordinator.child.kill("SIGKILL");
  const queue = new Queue(QUEUE_NAME, { connection: parseQueueUrlConnection() });
  await waitFor(
    "the workers to finish",
    async () => (await queue.getJobCountByTypes("wait", "active", "delayed")) === 0,
  );
  await queue.close();
  const io = memoryIO();
  const code = await run(["experiment", spec, "--out", out, "--resume", "--queue", url], io);
  assert.is(code, 0, io.stderr());
  assert.match(io.stderr(), /0 cells enqueued, \d already on the queue/);
  const results = readJson(out);
  assert.equal(results.cells.map(deterministic), local.cells.map(deterministic));
  assert.not.match(io.stderr(), PASSWORD);
});

withQueue(
  "a worker killed mid-cell: the cell goes back to the queue and another worker trains it",
  async () => {
    const dir = tempDir("queue-kill");
    const io = memoryIO();
    const logs = workers.map((w) => w.log().length);
    const running = runExperiment(io, runOptions(dir, LONG, { queue: parseQueueUrl(url), force: true }));
    let victim: Proc | undefined;
    await waitFor("a worker to start the cell", () => {
      victim = workers.find((w, i) => /started cell 1 of experiment 'long'/.test(w.log().slice(logs[i])));
      return victim !== undefined;
    });
    await new Promise((r) => setTimeout(r, 300)); // mid-cell
    victim!.child.kill("SIGKILL");
    const r = await running;
    const [cell] = r.results.cells;
    const survivor = workers.find((w) => w !== victim)!;
    assert.is(cell!.worker, survivor.name);
    assert.equal(deterministic(cell!), deterministic(longResult));
    assert.match(survivor.log(), "lost its worker");
  },
);

q.run();
