// Experiments on a queue: the --queue URL. redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] (rediss:// for TLS) ->
// the connection settings BullMQ and ioredis take, and the URL as it may be printed: the password never is
// (E660, E661 and every line about the queue show `redis://:***@host:6379/0`). No Redis client is loaded here.
import { fail } from "../../diagnostics/index.ts";

export interface QueueUrl {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL as printed and recorded: the password replaced by *** (never the password itself). */
  display: string;
}

/** Where a password can be given instead of the URL (which other users of the machine see in `ps`). */
export const PASSWORD_ENV = "NNC_REDIS_PASSWORD";

const DEFAULT_PORT = 6379;

/** The URL's text with any password replaced, for messages about a URL that did not parse. */
export function redactUrlText(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@]*?:)[^/@]*@/i, "$1***@");
}

/**
 * Parses --queue. E660 names what is wrong with the URL (shown redacted). A password may also come from
 * NNC_REDIS_PASSWORD when the URL has none.
 */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueUrl {
  const shown = redactUrlText(text);
  const bad = (reason: string): never => fail("E660", { url: shown, reason });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad("it does not parse as a URL");
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    bad(`the scheme is '${url.protocol.replace(/:$/, "")}', not redis or rediss`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") bad("it names no host");
  const port = url.port === "" ? DEFAULT_PORT : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,5}$/.test(path))
    bad(`the database '${path}' is not a number (redis://HOST:PORT/0)`);
  if (url.search !== "" || url.hash !== "") bad("query strings and fragments are not supported");
  const db = path === "" ? 0 : Number(path);
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return bad("its user or password is not valid percent-encoding");
    }
  };
  const username = url.username === "" ? undefined : decode(url.username);
  const password = url.password !== "" ? decode(url.password) : env[PASSWORD_ENV] || undefined;
  const tls = url.protocol === "rediss:";
  const hostText = host.includes(":") ? `[${host}]` : host;
  const auth =
    username !== undefined || password !== undefined
      ? `${username !== undefined ? encodeURIComponent(username) : ""}${password !== undefined ? ":***" : ""}@`
      : "";
  return {
    host,
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    tls,
    display: `${tls ? "rediss" : "redis"}://${auth}${hostText}:${port}/${db}`,
  };
}

/** `text` with the URL's password replaced by ***: for messages that come from the Redis client or BullMQ. */
export function scrubPassword(text: string, url: QueueUrl): string {
  if (!url.password) return text;
  const forms = new Set([url.password, encodeURIComponent(url.password)]);
  let out = text;
  for (const form of forms) out = out.split(form).join("***");
  return out;
}
