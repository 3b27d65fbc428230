// Types of scripts/cli-bundle.js (plain JavaScript: bin/nnc.js runs it before anything could transpile TypeScript).

/** The cache folder of the checkout at `root`: node_modules/.cache/nnc/cli-<hash of its real path>. */
export function cacheDir(root: string): string;
/** The bundle's entry (a file URL) when every file it was built from is unchanged; undefined otherwise. */
export function freshBundle(root: string): string | undefined;
/** The bundle's entry: the cached one while fresh, else a new one built now. Throws where it cannot build. */
export function checkoutBundle(root: string): Promise<string>;
/** Builds the bundle into the cache, records what it was built from, and returns its entry's file URL. */
export function buildBundle(root: string): Promise<string>;
