export * from "./catalogue.ts";
export * from "./diagnostic.ts";
export * from "./source-text.ts";
export * from "./render.ts";
export * from "./suggest.ts";
