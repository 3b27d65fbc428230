// Kernel of op `globalavgpool1d`: the mean over the steps, [batch, steps, C] -> [batch, C]; compiled step with a closed-form backward (global-pooling.ts).
import { globalPoolKernel } from "./global-pooling.ts";

export const globalavgpool1d = globalPoolKernel("globalavgpool1d", "mean", [1]);
