// Experiments: a varied value as the spec writes it, for group labels, tables and the report.

/** In quotes where it holds spaces, `=` or quotes (`vary augment "flip=horizontal crop=2"`), else as it is. */
export const varyValueText = (v: number | string): string =>
  typeof v === "string" && /[\s="]/.test(v) ? JSON.stringify(v) : String(v);
