// Kernel of op `globalavgpool`: the mean over height and width, NHWC -> NC; compiled step with a closed-form backward (global-pooling.ts).
import { globalPoolKernel } from "./global-pooling.ts";

export const globalavgpool = globalPoolKernel("globalavgpool", "mean", [1, 2]);
