// Experiments on a queue: reaching Redis. Loaded only when --queue is given (the coordinator and `nnc worker`
// import this module dynamically), so a local run never loads ioredis or BullMQ. Before any BullMQ object is
// made, one connection is tried with a short timeout and no retries: an unreachable server or a refused password
// is E661 within seconds, naming the URL (without its password), instead of BullMQ reconnecting for ever.
import type { RedisOptions } from "bullmq";
import { Redis } from "ioredis";
import { fail } from "../../diagnostics/index.ts";
import { scrubPassword, type QueueUrl } from "./url.ts";

/** How long the first connection may take before E661. */
export const CONNECT_TIMEOUT_MS = 4000;

/** The connection settings BullMQ passes to ioredis (each BullMQ object opens its own connections). */
export function connectionOptions(url: QueueUrl): RedisOptions {
  return {
    host: url.host,
    port: url.port,
    db: url.db,
    ...(url.username !== undefined ? { username: url.username } : {}),
    ...(url.password !== undefined ? { password: url.password } : {}),
    ...(url.tls ? { tls: { servername: url.host } } : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
}

/** Why an error happened, in words fit to print: the password scrubbed. */
export function reasonOf(error: unknown, url: QueueUrl): string {
  const e = error as NodeJS.ErrnoException & { errors?: unknown[] };
  // A host with several addresses fails with an AggregateError of one error per address.
  const message =
    e?.message ||
    (Array.isArray(e?.errors) ? e.errors.map((x) => (x as Error)?.message).join("; ") : "") ||
    e?.code ||
    String(error);
  return scrubPassword(message, url);
}

/** Connects once and pings (E661 on failure), then disconnects. */
export async function checkRedis(url: QueueUrl): Promise<void> {
  const client = new Redis({
    ...connectionOptions(url),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() rejects with "Connection is closed"; why it closed comes as an error event (ECONNREFUSED, ...).
  let cause: unknown;
  client.on("error", (error) => (cause ??= error));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)),
        CONNECT_TIMEOUT_MS + 1000,
      );
    });
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      timeout,
    ]);
  } catch (error) {
    const reason = reasonOf(cause ?? error, url);
    const help = /RESP/.test(reason)
      ? "what answers there does not speak Redis's protocol: check the host and port"
      : /NOAUTH|WRONGPASS|AUTH/i.test(reason)
        ? "give the password in the URL (redis://:PASSWORD@host) or in NNC_REDIS_PASSWORD"
        : "start one (redis-server --port 6379), or check the host, port and network";
    fail("E661", { url: url.display, reason }, { help });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
