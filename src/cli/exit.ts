// The CLI's exit codes, one table for main.ts and every command: 0 ok, 1 the user's input has errors, 2 usage
// errors, 70 an internal bug in nnc (sysexits' EX_SOFTWARE).
export const EXIT = { ok: 0, errors: 1, usage: 2, internal: 70 } as const;
