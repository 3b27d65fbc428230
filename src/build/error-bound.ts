// Building the IR: a bound on the errors one build reports. A file of 500,000 unknown statements made 500,000
// errors (12 s and 1 GB in compile(), with did-you-mean for each); past the first hundred they only repeat.
// The builder pushes into one diagnostics list from everywhere (statements, bindings, graph expansion), so the
// bound sits in that list: the error past it stops the build (buildProgram catches TooManyErrors and ends with
// E226), which also saves the work, not only the messages.
import type { Diagnostic } from "../diagnostics/index.ts";

/** At most this many errors from building the IR; E226 says the list stops there. */
export const MAX_BUILD_ERRORS = 100;

/** Thrown by BoundedDiagnostics.push at the first error past the bound, with that error (for its position). */
export class TooManyErrors extends Error {
  constructor(readonly next: Diagnostic) {
    super("too many build errors");
  }
}

/** A diagnostics list that holds at most MAX_BUILD_ERRORS errors (warnings are not counted). */
export class BoundedDiagnostics extends Array<Diagnostic> {
  // map/filter/slice of this list make plain arrays, not bounded ones.
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  private errors = 0;

  override push(...items: Diagnostic[]): number {
    for (const d of items) {
      if (d.severity === "error" && ++this.errors > MAX_BUILD_ERRORS) throw new TooManyErrors(d);
      super.push(d);
    }
    return this.length;
  }
}
