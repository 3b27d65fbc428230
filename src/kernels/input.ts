// Kernel of op `input`: the batch itself.
import type { LayerOf } from "../ir/schema.ts";
import type { KernelDefinition } from "./kernel.ts";

export const input: KernelDefinition<LayerOf<"input">> = {
  op: "input",
  lower: () => ({
    forward: ([x]) => x!,
    stage:
      () =>
      ([x]) => ({ y: x!, backward: (dy) => [dy] }),
  }),
};
