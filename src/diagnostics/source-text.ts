// Offsets -> 1-based line/column, shared by diagnostics rendering and anything else that reports positions.
import type { Diagnostic } from "./diagnostic.ts";

export class SourceText {
  readonly lineStarts: number[] = [0];
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** 1-based line and column of an offset (columns count UTF-16 units, as editors' JS tooling does). */
  position(offset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - this.lineStarts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    return this.text.slice(start, next === undefined ? undefined : next - 1).replace(/\r$/, "");
  }

  /** Fills in file, line and column of diagnostics whose span points into this text. */
  locate(diags: readonly Diagnostic[]): Diagnostic[] {
    return diags.map((d) => {
      if (!d.span || (d.file !== undefined && d.file !== this.file)) return d;
      const start = this.position(d.span[0]);
      const end = this.position(Math.max(d.span[0], d.span[1]));
      const located: Diagnostic = {
        ...d,
        file: this.file,
        line: start.line,
        column: start.column,
        endLine: end.line,
        endColumn: end.column,
      };
      if (d.related) located.related = d.related.map((r) => ({ ...r, ...this.position(r.span[0]) }));
      return located;
    });
  }
}
