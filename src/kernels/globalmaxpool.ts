// Kernel of op `globalmaxpool`: the maximum over height and width, NHWC -> NC; compiled step with a closed-form backward (global-pooling.ts).
import { globalPoolKernel } from "./global-pooling.ts";

export const globalmaxpool = globalPoolKernel("globalmaxpool", "max", [1, 2]);
