// A real Redis for the queue tests: NNC_TEST_REDIS_URL when set (.ci/run starts one), else a redis-server of our
// own on a free loopback port (stopped when the tests end), else none: the tests that need it are skipped and say
// why. Never a mock: what the queue tests claim is what BullMQ does on a real server.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { createServer } from "node:net";

export type TestRedis = { url: string; host: string; port: number; db: number } | { skip: string };

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

let started: ChildProcess | undefined;
process.once("exit", () => started?.kill("SIGKILL"));

async function ping(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A Redis server for this test process (started once). */
export async function testRedis(): Promise<TestRedis> {
  const given = process.env.NNC_TEST_REDIS_URL;
  if (given) {
    const u = new URL(given);
    return {
      url: given,
      host: u.hostname,
      port: Number(u.port || 6379),
      db: Number(u.pathname.slice(1) || 0),
    };
  }
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    return { skip: "no Redis: set NNC_TEST_REDIS_URL or install redis-server (.ci/run installs it)" };
  }
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort();
    started = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    for (let i = 0; i < 50; i++) {
      if (await ping(port)) return { url: `redis://127.0.0.1:${port}/0`, host: "127.0.0.1", port, db: 0 };
      if (started.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    started.kill("SIGKILL");
  }
  return { skip: "redis-server did not start on a free port" };
}

/** Stops the server testRedis started (the one NNC_TEST_REDIS_URL names is not ours to stop). */
export function stopTestRedis(): void {
  started?.kill("SIGTERM");
  started = undefined;
}

/** A plain client of the test server (ACL users, clean-up, looking at jobs). */
export function redisClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}
