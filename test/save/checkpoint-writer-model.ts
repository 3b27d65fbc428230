// Test helper: the model checkpoint-writer.ts writes checkpoints for (one 2000 x 1000 kernel, 8 MB, so a write
// takes long enough that a kill often lands inside one) and its fingerprint, which readCheckpoint checks the
// checkpoint's weights against.
import { checkpointFingerprint } from "../../src/save/index.ts";
import { checkedProgram } from "./reference-model.ts";

const program = checkedProgram("input 2000\ndense 1000 bias=false");
export const WRITER_FINGERPRINT = checkpointFingerprint(program, program.models[0]!.name);
