export * from "./schema.ts";
export * from "./validate.ts";
export * from "./keras-names.ts";
export * from "./train-overrides.ts";
