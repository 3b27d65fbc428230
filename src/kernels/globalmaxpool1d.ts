// Kernel of op `globalmaxpool1d`: the maximum over the steps, [batch, steps, C] -> [batch, C]; compiled step with a closed-form backward (global-pooling.ts).
import { globalPoolKernel } from "./global-pooling.ts";

export const globalmaxpool1d = globalPoolKernel("globalmaxpool1d", "max", [1]);
