// The kernel helper thread (kernel-helper.ts): nnc's SIMD kernels instantiated on the main thread's shared tfjs
// heap, running the share of each split kernel call the main thread posts, until told to stop.
import { workerData } from "node:worker_threads";
import { helperLoop, type HelperData } from "./kernel-helper.ts";

helperLoop(workerData as HelperData);
