// Where the CLI writes, and whether it may colour or draw progress bars. Tests pass an in-memory IO and
// read what a user would have seen; the real process IO decides colour by kleur's rule (TTY, NO_COLOR unset).
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Colour in diagnostics and tables. */
  color: boolean;
  /** stderr is a terminal: live progress bars instead of one line per epoch. */
  interactive: boolean;
  /** Underlying stream for progress bars (only used when interactive). */
  progressStream?: NodeJS.WriteStream;
}

export function processIO(): CliIO {
  const color = process.stderr.isTTY === true && !("NO_COLOR" in process.env) && process.env.TERM !== "dumb";
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color,
    interactive: process.stderr.isTTY === true && process.env.CI === undefined,
    progressStream: process.stderr,
  };
}

/** Captures output in memory (tests, and the in-process CLI API). */
export function memoryIO(): CliIO & { stdout: () => string; stderr: () => string } {
  let stdout = "";
  let stderr = "";
  return {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    color: false,
    interactive: false,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
