// The IR program validator generated ahead of time, or none. This file, as checked in, holds none: run from the
// sources, validate.ts compiles the schema with ajv at first use. A build replaces it with the ajv standalone code
// validate-codegen.ts generates (`npm run build` in dist/, bin/nnc.js's checkout bundle in its cache).
import type { PrecompiledValidator } from "./validate.ts";

export const precompiled: PrecompiledValidator | undefined = undefined;
