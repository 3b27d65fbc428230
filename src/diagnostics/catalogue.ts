// The message catalogue: every diagnostic nnc can print, with its stable code, default severity and wording.
// Codes never change meaning once released; retire a code rather than reuse it. Ranges:
//   E0xx input files and IR JSON   E1xx syntax        E2xx building the IR (ops, options, blocks)
//   E3xx checking (shapes, refs)   W4xx lints         E5xx data sources   E6xx runtime (training, saving)
// Messages name the real values ("got [?, 784]") so a reader need not open the spec to understand them.

/**
 * A hint says how a valid spec could be written better where nothing goes wrong either way: `nnc check` and
 * the language server show it, other commands do not, and --strict leaves it a hint.
 */
export type Severity = "error" | "warning" | "hint";
interface Entry<P> {
  severity: Severity;
  /** One-line summary for docs and `--format json` consumers. */
  title: string;
  message: (p: P) => string;
}
const entry = <P = Record<string, never>>(
  severity: Severity,
  title: string,
  message: (p: P) => string,
): Entry<P> => ({
  severity,
  title,
  message,
});

export const catalogue = {
  // ---- E0xx: input files and IR JSON
  E001: entry<{ file: string; reason: string }>(
    "error",
    "file cannot be read",
    (p) => `cannot read ${p.file}: ${p.reason}`,
  ),
  E002: entry<{ offset: number }>(
    "error",
    "file is not text",
    (p) => `this is not a text file (binary data at byte ${p.offset}); .nn specs are UTF-8 text`,
  ),
  E003: entry(
    "error",
    "empty spec",
    () => "the file holds no statements: a spec needs at least an `input` layer",
  ),
  E004: entry<{ reason: string }>("error", "invalid JSON", (p) => `invalid IR JSON: ${p.reason}`),
  E005: entry<{ path: string; reason: string }>(
    "error",
    "IR does not match the schema",
    (p) => `IR ${p.path || "(document)"}: ${p.reason}`,
  ),
  E006: entry<{ found: string; supported: string }>(
    "error",
    "unsupported IR version",
    (p) => `IR version ${p.found} is not supported (this nnc reads versions ${p.supported})`,
  ),
  E007: entry<{ file: string; reason: string }>(
    "error",
    "file cannot be written",
    (p) => `cannot write ${p.file}: ${p.reason}`,
  ),
  // E01x-W030: model folders and checkpoints, which are shared and so untrusted (docs/security.md)
  E010: entry<{ dir: string; source: string; name: string }>(
    "error",
    "file name leaves its folder",
    (p) =>
      `${p.dir}: ${p.source} names ${p.name}, which is not a plain file name in the folder (no '/', '\\', '..' ` +
      "or absolute paths): nnc reads only the folder's own files",
  ),
  E011: entry<{ file: string; target: string; dir: string }>(
    "error",
    "symbolic link out of the folder",
    (p) => `${p.file} is a symbolic link to ${p.target}, outside ${p.dir}: nnc does not follow it`,
  ),
  E012: entry<{ file: string; kind: string }>(
    "error",
    "not a regular file",
    (p) => `${p.file} is ${p.kind}, not a regular file`,
  ),
  E013: entry<{ file: string; size: number; expected: number; source: string }>(
    "error",
    "file size does not match its description",
    (p) =>
      `${p.file} holds ${p.size} bytes where ${p.source} describes ${p.expected}: it is damaged or belongs ` +
      "to another model",
  ),
  E014: entry<{ file: string; what: string; size: string; limit: string }>(
    "error",
    "file too large",
    (p) => `${p.file}: ${p.what} is ${p.size}, over the ${p.limit} nnc reads`,
  ),
  E015: entry<{ dir: string; source: string; name: string }>(
    "error",
    "file named twice",
    (p) => `${p.dir}: ${p.source} names ${p.name} more than once`,
  ),
  E016: entry<{ file: string; path: string; reason: string }>(
    "error",
    "file does not match its schema",
    (p) => `${p.file}: ${p.path || "(document)"}: ${p.reason}`,
  ),
  E017: entry<{ file: string; detail: string }>(
    "error",
    "checkpoint does not fit the model",
    (p) => `${p.file}: ${p.detail}`,
  ),
  E018: entry<{ dir: string; source: string; flag: string }>(
    "error",
    "data path recorded in a model folder",
    (p) =>
      `${p.dir} was trained on ${p.source}; nnc does not read a data path a model folder names: ` +
      `pass it yourself with ${p.flag}`,
  ),
  E019: entry<{ file: string; kind: string }>(
    "error",
    "IDX file holds no samples",
    (p) => `${p.file} holds 0 ${p.kind}: there is nothing to train or evaluate on`,
  ),
  W030: entry<{ file: string; count: number; first: string }>(
    "warning",
    "weights are not finite",
    (p) =>
      `${p.file} holds ${p.count} NaN or infinite weight value${p.count === 1 ? "" : "s"} (the first in ` +
      `${p.first}): the model's outputs will be NaN`,
  ),

  // ---- E1xx: syntax
  E100: entry<{ expected: string; found: string }>(
    "error",
    "syntax error",
    (p) => `syntax error: expected ${p.expected}, found ${p.found}`,
  ),
  E101: entry<{ text: string }>("error", "invalid number", (p) => `invalid number '${p.text}'`),
  E102: entry(
    "error",
    "unterminated string",
    () => 'unterminated string: a string ends with " on the same line',
  ),
  E103: entry<{ keyword: string }>(
    "error",
    "unclosed block",
    (p) => `'${p.keyword}' block is not closed: expected '}'`,
  ),
  E104: entry("error", "unexpected '}'", () => "unexpected '}' with no open block"),
  E105: entry<{ keyword: string }>(
    "error",
    "nested block",
    (p) => `a '${p.keyword}' block cannot be nested inside another block`,
  ),
  E106: entry<{ text: string }>(
    "error",
    "invalid value",
    (p) =>
      `'${p.text}' is not a valid value: words hold letters, digits and - _ . : / (quote anything else: "...")`,
  ),
  E107: entry<{ count: number }>(
    "error",
    "too many syntax errors",
    (p) => `too many syntax errors: stopped after ${p.count}; fix these and run again`,
  ),
  E108: entry<{ limit: number }>(
    "error",
    "blocks nested too deeply",
    (p) => `blocks are nested more than ${p.limit} levels deep`,
  ),
  E109: entry<{ limit: string }>(
    "error",
    "too many statements",
    (p) =>
      `the file holds more than ${p.limit} statements and comments: nnc reads at most that many (a model holds at most ` +
      "20,000 layers; write repeated layers as a block or `repeat N { ... }`)",
  ),

  // ---- E2xx: building the IR
  E200: entry<{ name: string; where: string }>(
    "error",
    "unknown op",
    (p) => `unknown ${p.where} '${p.name}'`,
  ),
  E201: entry<{ key: string; op: string }>(
    "error",
    "unknown option",
    (p) => `unknown option '${p.key}' for '${p.op}'`,
  ),
  E202: entry<{ op: string; what: string; expected: string; got: string }>(
    "error",
    "wrong argument type",
    (p) => `'${p.op}' expects ${p.expected} for ${p.what}, got '${p.got}'`,
  ),
  E203: entry<{ op: string; what: string; usage: string }>(
    "error",
    "missing argument",
    (p) => `'${p.op}' needs ${p.what} (usage: ${p.usage})`,
  ),
  E204: entry<{ op: string; got: string; usage: string }>(
    "error",
    "too many arguments",
    (p) => `unexpected argument '${p.got}' to '${p.op}' (usage: ${p.usage})`,
  ),
  E205: entry<{ key: string }>("error", "duplicate option", (p) => `option '${p.key}' is given twice`),
  E206: entry<{ what: string; constraint: string; got: string }>(
    "error",
    "value out of range",
    (p) => `${p.what} must be ${p.constraint}, got ${p.got}`,
  ),
  E207: entry<{ name: string }>(
    "error",
    "unknown block",
    (p) =>
      `unknown block '${p.name}' (blocks are: model NAME { }, train { }, experiment NAME { }, ` +
      "block NAME(PARAMS) { }, and in a model residual { } and repeat N { })",
  ),
  E208: entry<{ name: string }>("error", "duplicate model", (p) => `model '${p.name}' is defined twice`),
  E209: entry<{ what: string }>(
    "error",
    "duplicate block",
    (p) => `only one ${p.what} block is allowed per file`,
  ),
  E210: entry<{ statement: string; block: string; belongs: string }>(
    "error",
    "statement in the wrong block",
    (p) => `'${p.statement}' cannot appear in ${p.block}: it belongs in ${p.belongs}`,
  ),
  E211: entry<{ keyword: string }>(
    "error",
    "block needs a name",
    (p) => `'${p.keyword}' needs a name: ${p.keyword} NAME { ... }`,
  ),
  E212: entry(
    "error",
    "layers outside a model",
    () =>
      "layer statements outside a model block, in a file that also has model blocks: put them in a model block",
  ),
  E213: entry<{ name: string }>(
    "error",
    "duplicate layer name",
    (p) => `layer name '${p.name}' is used twice in this model`,
  ),
  E214: entry<{ key: string }>("error", "duplicate setting", (p) => `'${p.key}' is set twice in this block`),
  E215: entry<{ keyword: string }>(
    "error",
    "unexpected block name",
    (p) => `'${p.keyword}' blocks take no name`,
  ),
  E216: entry(
    "error",
    "no model",
    () =>
      "the file defines no model: write layer statements (input 28x28, ...) or a 'model NAME { ... }' block",
  ),
  E217: entry<{ name: string }>(
    "error",
    "duplicate experiment",
    (p) => `experiment '${p.name}' is defined twice`,
  ),

  E218: entry<{ name: string; op: string; scope: string }>(
    "error",
    "unknown layer name",
    (p) => `'${p.op}' refers to '${p.name}', but no earlier layer of ${p.scope} has that name`,
  ),
  E219: entry<{ name: string; op: string }>(
    "error",
    "layer referred to before it is defined",
    (p) =>
      `'${p.op}' refers to '${p.name}', which comes after it: ${p.op} takes the outputs of earlier layers`,
  ),
  E220: entry<{ name: string }>("error", "duplicate block", (p) => `block '${p.name}' is defined twice`),
  E221: entry<{ chain: string }>(
    "error",
    "recursive block",
    (p) => `block uses itself: ${p.chain} (a block cannot be expanded inside its own body)`,
  ),
  E222: entry<{ kind: string; name: string; what: string }>(
    "error",
    "block or parameter shadows a name",
    (p) => `${p.kind} '${p.name}' has the name of ${p.what}: rename it`,
  ),
  E223: entry<{ keyword: string; detail: string }>(
    "error",
    "misused block construct",
    (p) => `'${p.keyword}' ${p.detail}`,
  ),
  E224: entry<{ block: string; limit: number }>(
    "error",
    "model too large after expansion",
    (p) =>
      `expanding ${p.block} gives more than ${p.limit} layers (or takes more than 200,000 expansion steps): ` +
      "nnc expands every block use and repeat into layers of their own, so check the repeat counts",
  ),
  E225: entry<{ experiment: string; cells: string; factors: string; limit: string }>(
    "error",
    "experiment grid too large",
    (p) =>
      `experiment '${p.experiment}' has ${p.cells} cells (${p.factors}), more than the ${p.limit} one ` +
      "experiment may hold: compare fewer models, vary fewer values or repeat less",
  ),
  // E235-E237: schedules (src/build/schedule-settings.ts)
  E235: entry<{ schedule: string; key: string; takes: string }>(
    "error",
    "option of another schedule",
    (p) => `schedule ${p.schedule} has no option ${p.key}= (it takes ${p.takes})`,
  ),
  E236: entry<{ schedule: string; key: string }>(
    "error",
    "schedule option missing",
    (p) => `schedule ${p.schedule} needs ${p.key}=`,
  ),
  E237: entry<{ schedule: string; detail: string }>(
    "error",
    "schedule option out of range",
    (p) => `schedule ${p.schedule}: ${p.detail}`,
  ),
  // E238-E239: watch (issue 19; src/check/watch.ts)
  E238: entry<{ layer: string; model: string; known: string }>(
    "error",
    "watched layer not in the model",
    (p) => `watch: model '${p.model}' has no layer '${p.layer}' (its layers: ${p.known})`,
  ),
  E239: entry<{ layer: string; detail: string }>(
    "error",
    "watch cannot record that",
    (p) => `watch ${p.layer}: ${p.detail}`,
  ),
  E226: entry<{ count: number }>(
    "error",
    "too many errors",
    (p) => `too many errors: stopped after ${p.count}; fix these and run again`,
  ),
  // optim (issue 14): E230-E234
  E232: entry<{ detail: string }>(
    "error",
    "class_weight is balanced or CLASS=WEIGHT pairs",
    (p) => `class_weight ${p.detail} (write 'class_weight balanced' or 'class_weight 0=1.0 1=2.5 ...')`,
  ),
  // augment (issue 14): E240-E244
  E240: entry(
    "error",
    "augment applies nothing",
    () =>
      "'augment' names no transform: give translate=, flip=, rotate=, zoom= or crop= (or write 'augment none')",
  ),
  E241: entry(
    "error",
    "augment none with transforms",
    () => "'augment none' means no augmentation, but transforms are given too: write one or the other",
  ),

  // ---- E3xx: checking
  E300: entry<{ model: string; first: string }>(
    "error",
    "missing input",
    (p) =>
      `model '${p.model}' must begin with an input layer, e.g. 'input 28x28' (it begins with '${p.first}')`,
  ),
  E301: entry("error", "misplaced input", () => "'input' may only be the first layer of a model"),
  E302: entry<{ op: string; expected: string; got: string; hint: string }>(
    "error",
    "wrong input rank",
    (p) => `'${p.op}' expects ${p.expected} input, got ${p.got}${p.hint ? `; ${p.hint}` : ""}`,
  ),
  E303: entry<{ model: string }>("error", "empty model", (p) => `model '${p.model}' has no layers`),
  E304: entry<{ op: string; got: string; detail: string }>(
    "error",
    "output would be empty",
    (p) => `'${p.op}' would produce an empty output ${p.got}: ${p.detail}`,
  ),
  // E795: a dilated convolution with a stride (issue 20; src/ops/convolution.ts)
  E795: entry<{ op: string; stride: string; dilation: string }>(
    "error",
    "stride and dilation together",
    (p) =>
      `'${p.op}' takes stride=${p.stride} with dilation=${p.dilation}: a dilated convolution has stride 1 (as in ` +
      "Keras, which rejects strides > 1 with dilation_rate > 1); drop one, or downsample with a pooling after it",
  ),
  E305: entry<{ name: string; known: string }>(
    "error",
    "unknown model",
    (p) => `no model named '${p.name}' in this file (models: ${p.known})`,
  ),
  E306: entry<{ loss: string; detail: string }>(
    "error",
    "loss does not fit the model",
    (p) => `loss '${p.loss}' ${p.detail}`,
  ),
  E307: entry<{ key: string; value: string; expected: string }>(
    "error",
    "invalid vary value",
    (p) => `'vary ${p.key}' value '${p.value}' is not ${p.expected}`,
  ),
  E308: entry<{ key: string }>(
    "error",
    "setting varied twice",
    (p) => `'${p.key}' is varied twice in this experiment`,
  ),
  E309: entry<{ layer: string; what: string; count: string; limit: string }>(
    "error",
    "model too large",
    (p) =>
      `layer '${p.layer}' is too large: ${p.what} would hold ${p.count} values, more than the ${p.limit} one ` +
      "TensorFlow.js tensor can hold",
  ),

  E310: entry<{ op: string; first: string; second: string; rule: string }>(
    "error",
    "merged inputs do not fit",
    (p) => `'${p.op}' needs inputs of ${p.rule}, got ${p.first} and ${p.second}`,
  ),
  E788: entry<{ target: string; input: string; detail: string }>(
    "error",
    "reshape size is no size",
    (p) => `'reshape ${p.target}' of ${p.input}: ${p.detail}`,
  ),
  E789: entry<{ target: string; input: string; detail: string }>(
    "error",
    "reshape infers two sizes",
    (p) => `'reshape ${p.target}' of ${p.input} has more than one -1: ${p.detail}`,
  ),
  E790: entry<{ target: string; input: string; detail: string }>(
    "error",
    "reshape changes the number of values",
    (p) => `'reshape ${p.target}' cannot hold the values of ${p.input}: ${p.detail}`,
  ),
  E791: entry<{ op: string; got: number }>(
    "error",
    "subtract takes two inputs",
    (p) =>
      `'${p.op}' takes exactly two inputs (the first minus the second, as Keras' Subtract), got ${p.got}`,
  ),
  E311: entry<{ axis: number; rank: number; range: string }>(
    "error",
    "concat axis out of range",
    (p) =>
      `'concat' axis=${p.axis} is not an axis of its rank-${p.rank} inputs other than the batch (use ${p.range})`,
  ),
  E312: entry<{ node: string; input: string; why: string }>(
    "error",
    "node input is not an earlier node",
    (p) => `node '${p.node}' takes '${p.input}' as input, which is ${p.why}`,
  ),
  E313: entry<{ node: string; op: string; expected: string; got: number }>(
    "error",
    "wrong number of inputs",
    (p) => `node '${p.node}' ('${p.op}') takes ${p.expected}, got ${p.got}`,
  ),
  E314: entry<{ node: string; output: string }>(
    "error",
    "node output never used",
    (p) =>
      `the output of '${p.node}' is never used: every node must lead to the model's output ('${p.output}', ` +
      "the last node)",
  ),
  // E315: memory (src/ir/training-memory.ts estimates it; src/check/memory.ts checks every trained model)
  E315: entry<{ what: string; need: string; parts: string; total: string }>(
    "error",
    "model too large for this machine's memory",
    (p) =>
      `${p.what} needs about ${p.need} to train on the leanest backend (${p.parts}), more than this ` +
      `machine's ${p.total} of memory`,
  ),
  // E320-E322: the model against its data (nnc check reads the data's metadata; src/check/data-fit.ts)
  E320: entry<{ model: string; units: number; telling: string; source: string; classes: number }>(
    "error",
    "fewer output units than the data has classes",
    (p) =>
      `model '${p.model}' has ${p.units} output unit${p.units === 1 ? "" : "s"} (${p.telling}), but data ` +
      `'${p.source}' has ${p.classes} classes (labels 0..${p.classes - 1})`,
  ),
  E321: entry<{ model: string; inputShape: string; source: string; dataShape: string }>(
    "error",
    "model input does not fit the data",
    (p) =>
      `model '${p.model}' takes input ${p.inputShape}, but data '${p.source}' has samples of shape ${p.dataShape}`,
  ),
  E322: entry<{ layer: string; model: string; batch: number; samples: number; where: string }>(
    "error",
    "batch normalization over one value per channel",
    (p) =>
      `batchnorm '${p.layer}' of model '${p.model}' would normalize one value per channel at batch ${p.batch} ` +
      `(${p.samples.toLocaleString("en-US")} training samples${p.where}): its batch variance is 0, so it would output beta whatever its ` +
      "input; use a batch of 2 or more",
  ),
  // augment (issue 14): E340-E344
  E340: entry<{ model: string; inputShape: string }>(
    "error",
    "augmentation of input that is not an image",
    (p) =>
      `'augment' moves pixels, but model '${p.model}' takes input ${p.inputShape}, which is not an image ` +
      "(height x width, or height x width x channels)",
  ),
  E341: entry<{ crop: number; model: string; inputShape: string }>(
    "error",
    "crop as large as the image",
    (p) =>
      `'augment crop=${p.crop}' pads ${p.crop} pixels per side and crops back, which must be fewer than the ` +
      `image's side: model '${p.model}' takes ${p.inputShape}`,
  ),
  E342: entry<{ value: string; reason: string }>(
    "error",
    "invalid vary augment value",
    (p) => `'vary augment' value ${p.value} is not an augmentation: ${p.reason}`,
  ),
  // E335-E337: schedules and early stopping against the run (src/check/schedule.ts, src/check/data-fit.ts)
  E335: entry<{ schedule: string; value: string; epoch: number; epochs: number; where: string }>(
    "error",
    "learning rate reaches 0 before the last epoch",
    (p) =>
      `schedule ${p.schedule} brings the learning rate to ${p.value} by epoch ${p.epoch} of ${p.epochs}${p.where}: ` +
      "from there on the steps no longer change float32 weights, so the epochs left would not train",
  ),
  E336: entry<{ warmup: number; epochs: number; where: string }>(
    "error",
    "warm-up as long as the run",
    (p) =>
      `a warm-up of ${p.warmup} epoch${p.warmup === 1 ? "" : "s"} takes the whole run of ${p.epochs}${p.where}: ` +
      "the schedule after it would never apply",
  ),
  E337: entry<{ what: string; source: string; where: string }>(
    "error",
    "early stopping without validation data",
    (p) =>
      `${p.what} watches validation data, but data '${p.source}' validates on its test set${p.where}: ` +
      "choosing epochs by the test set makes its accuracy an optimistic estimate",
  ),

  E330: entry<{ given: string }>(
    "error",
    "more than one gradient clipping rule",
    (p) =>
      `only one of clipnorm, clipvalue and global_clipnorm may be set (got ${p.given}), as in Keras: keep the ` +
      `one you mean`,
  ),
  E332: entry<{ loss: string }>(
    "error",
    "label smoothing on a loss that is no cross-entropy",
    (p) =>
      `label_smoothing applies to cross-entropy losses (as Keras': categorical and binary), not to ${p.loss}`,
  ),
  E333: entry<{ classes: string; source: string; count: number; where: string }>(
    "error",
    "class weights for classes the data does not have",
    (p) =>
      `class_weight names class ${p.classes}, but data '${p.source}' has ${p.count} classes (0 to ${p.count - 1})` +
      `${p.where}`,
  ),
  E331: entry<{ decay: number; lr: number; factor: string }>(
    "error",
    "weight decay would zero or flip the weights",
    (p) =>
      `weight_decay=${p.decay} at lr=${p.lr} multiplies every weight by 1 - weight_decay * lr = ${p.factor} ` +
      `each step (decoupled decay, as Keras: w -= w * weight_decay * lr); weight_decay * lr must be below 1 ` +
      `(typical weight_decay: 1e-4 to 0.1)`,
  ),

  // ---- W4xx: lints (warnings; --strict makes them errors)
  // W413-W414: schedules and early stopping that cannot act within the run (src/check/schedule.ts)
  W413: entry<{ patience: number; epochs: number; first: number; where: string }>(
    "warning",
    "early stopping can never stop",
    (p) =>
      `early_stop patience=${p.patience} can never stop the run${p.where}: the earliest stop is after epoch ` +
      `${p.first}, and the run has ${p.epochs}`,
  ),
  W414: entry<{ patience: number; epochs: number; first: number; where: string }>(
    "warning",
    "plateau can never lower the learning rate",
    (p) =>
      `schedule plateau patience=${p.patience} can never lower the learning rate${p.where}: the earliest ` +
      `reduction is after epoch ${p.first}, and the run has ${p.epochs}`,
  ),
  // W415: a schedule whose floor is not below the rate it starts from (src/check/schedule.ts)
  W415: entry<{ schedule: string; min: number; lr: number; effect: string; where: string }>(
    "warning",
    "schedule's min is not below the learning rate",
    (p) =>
      `schedule ${p.schedule} has min=${p.min}, not below the learning rate lr=${p.lr}${p.where}: ${p.effect}`,
  ),
  W401: entry<{ model: string }>(
    "warning",
    "batchnorm after the output softmax",
    (p) =>
      `batchnorm after the softmax output of model '${p.model}' rescales probabilities, so outputs no longer sum to 1; ` +
      "put batchnorm between a dense layer and its activation (dense -> batchnorm -> relu)",
  ),
  W402: entry<{ declared: string; actual: string }>(
    "warning",
    "from_logits does not match the output",
    (p) => `loss declared ${p.declared}, but ${p.actual}; nnc uses the correct setting`,
  ),
  W403: entry<{ first: string; second: string }>(
    "warning",
    "two activations in a row",
    (p) => `activation '${p.second}' directly follows activation '${p.first}'`,
  ),
  W404: entry(
    "warning",
    "dropout directly before batchnorm",
    () =>
      "dropout directly before batchnorm: the batch statistics seen in training (with dropout) differ from those at " +
      "inference (without), a known cause of train/test gaps; put dropout after the normalization block",
  ),
  // W427: another training-only op than dropout (which has W404) directly before batchnorm (src/check/lints.ts)
  W427: entry<{ op: string; effect: string }>(
    "warning",
    "training-only noise directly before batchnorm",
    (p) =>
      `${p.op} directly before batchnorm: in training it ${p.effect}, at inference it does nothing, so the batch ` +
      "statistics batchnorm learns in training are not those it sees at inference; put it after the " +
      "normalization block",
  ),
  W405: entry<{ momentum: number }>(
    "warning",
    "batchnorm momentum looks like PyTorch's convention",
    (p) =>
      `batchnorm momentum=${p.momentum}: nnc follows Keras (momentum is the weight kept from the old average, ` +
      `default 0.99); PyTorch's momentum=${p.momentum} is Keras momentum=${+(1 - p.momentum).toFixed(6)}`,
  ),
  W424: entry<{ op: string; stride: string; window: string }>(
    "warning",
    "pooling stride skips inputs",
    (p) =>
      `'${p.op}' stride=${p.stride} is larger than its ${p.window} window: the inputs between windows are never ` +
      "read (Keras allows it, but it is rarely meant; the stride defaults to the window)",
  ),
  W425: entry<{ shape: string }>(
    "warning",
    "reshape does nothing",
    (p) => `'reshape' to ${p.shape}, the shape its input already has: it does nothing`,
  ),
  W406: entry(
    "warning",
    "batch size varies at a fixed learning rate",
    () =>
      "batch size varies but no 'lr_scale' is declared: at a fixed learning rate the comparison mostly measures the " +
      "number of steps; declare 'lr_scale none|linear|sqrt ref=BATCH'",
  ),
  // W407 is retired: it was never reported. The code stays reserved (codes are never reused).
  W408: entry<{ layer: string; batch: number; samples: number; where: string }>(
    "warning",
    "the last batch of every epoch holds one sample",
    (p) =>
      `the last batch of every epoch would hold 1 sample (${p.samples.toLocaleString("en-US")} training samples ` +
      `at batch ${p.batch}` +
      `${p.where}), which batchnorm '${p.layer}' cannot normalize: nnc merges it into the batch before it, so ` +
      `one step per epoch runs at batch ${p.batch + 1}`,
  ),
  W409: entry<{ loss: string; model: string; why: string }>(
    "warning",
    "loss auto made a pick that is not the obvious one",
    (p) => `loss auto picks ${p.loss} for model '${p.model}': ${p.why}`,
  ),
  W410: entry<{ layer: string }>(
    "hint",
    "a bias feeding batchnorm is redundant",
    (p) =>
      `the bias of '${p.layer}' is redundant: the batchnorm after it subtracts the mean, and the bias with it`,
  ),
  // augment (issue 14): W416-W417
  W416: entry<{ key: string; value: number }>(
    "warning",
    "negative augment factor",
    (p) =>
      `${p.key}=${p.value} draws from [${p.value}, ${-p.value}], as ${p.key}=${-p.value} does: a single ` +
      "factor's sign does not matter (Keras takes its magnitude)",
  ),

  W411: entry<{ layer: string; l2: number; decay: number }>(
    "warning",
    "weight decay and an L2 regularizer on the same layer",
    (p) =>
      `'${p.layer}' has l2=${p.l2} and the optimizer decays its weights too (weight_decay=${p.decay}): both ` +
      `shrink the same kernel, so each strength means less than it says; keep one (weight_decay for AdamW-style ` +
      `training, l2 for Keras kernel_regularizer)`,
  ),

  // E780-E784: activations (issue 20)
  E780: entry<{ axes: string; input: string; detail: string }>(
    "error",
    "prelu shared_axes do not fit the input",
    (p) =>
      `prelu shared_axes=${p.axes} does not fit its input of per-sample shape ${p.input}: ${p.detail} (axes ` +
      "count from 1 after the batch, as Keras' shared_axes)",
  ),
  E781: entry<{ layer: string; option: string; activation: string; takers: string }>(
    "error",
    "an activation option beside an activation that has none",
    (p) =>
      `'${p.layer}' gives ${p.option}= but its activation is ${p.activation}: ${p.option}= belongs to ` +
      `${p.takers} (\`dense 128 leaky_relu ${p.option}=0.1\`)`,
  ),
  // W420-W422: activations (issue 20)
  W420: entry<{ layer: string; activation: string }>(
    "warning",
    "an activation tf.loadLayersModel cannot load",
    (p) =>
      `'${p.layer}' applies ${p.activation}, which Keras has and tfjs-layers 4.22 does not: the model.json nnc ` +
      `saves loads in Keras, but tf.loadLayersModel refuses it (training and nnc's own predict are unaffected)`,
  ),

  // ---- E5xx: data sources
  E500: entry<{ name: string; known: string }>(
    "error",
    "unknown data source",
    (p) => `unknown data source '${p.name}' (sources: ${p.known})`,
  ),
  E501: entry<{ name: string; install: string }>(
    "error",
    "data set not installed",
    (p) => `data set '${p.name}' is not installed here; install it with: ${p.install}`,
  ),
  // W530: E501/E502 where data is only checked, not used (nnc check): the spec is fine, the data is elsewhere.
  W530: entry<{ detail: string }>(
    "warning",
    "data not on this machine",
    (p) => `${p.detail}; the checks against the data are skipped (train and experiment need it)`,
  ),
  E502: entry<{ file: string; detail: string }>(
    "error",
    "data file missing",
    (p) => `${p.file}: ${p.detail}`,
  ),
  E503: entry<{ file: string; found: string; expected: string }>(
    "error",
    "bad IDX magic number",
    (p) =>
      `${p.file}: not an IDX file of the expected kind (magic number ${p.found}, expected ${p.expected})`,
  ),
  E504: entry<{ file: string; expected: number; got: number }>(
    "error",
    "truncated data file",
    (p) =>
      `${p.file}: file is truncated: the header announces ${p.expected} bytes of data, the file holds ${p.got}`,
  ),
  E505: entry<{ images: number; labels: number; file: string }>(
    "error",
    "image and label counts differ",
    (p) => `${p.file}: ${p.labels} labels for ${p.images} images`,
  ),
  E506: entry<{ file: string; label: number; index: number; classes: number }>(
    "error",
    "label out of range",
    (p) =>
      `${p.file}: label ${p.label} at sample ${p.index} is outside the model's ${p.classes} classes (0..${p.classes - 1})`,
  ),
  E507: entry<{ source: string; dataShape: string; inputShape: string }>(
    "error",
    "data shape does not match the model input",
    (p) => `data '${p.source}' has samples of shape ${p.dataShape}, but the model's input is ${p.inputShape}`,
  ),
  E508: entry<{ file: string }>("error", "empty CSV", (p) => `${p.file}: the CSV holds no data rows`),
  E509: entry<{ file: string; line: number; column: number; text: string }>(
    "error",
    "non-numeric CSV cell",
    (p) => `${p.file}:${p.line}: column ${p.column} is not a number: '${p.text}'`,
  ),
  E510: entry<{ file: string; line: number; got: number; expected: number }>(
    "error",
    "ragged CSV row",
    (p) => `${p.file}:${p.line}: row has ${p.got} columns, expected ${p.expected}`,
  ),
  E511: entry<{ option: string; detail: string }>(
    "error",
    "invalid data option",
    (p) => `data option '${p.option}': ${p.detail}`,
  ),
  E512: entry<{ file: string; line: number; column: number; text: string }>(
    "error",
    "CSV label is not a class index",
    (p) =>
      `${p.file}:${p.line}: label in column ${p.column} is '${p.text}', not a class index (an integer 0 or more)`,
  ),
  E513: entry<{ file: string; reason: string }>(
    "error",
    "corrupt gzip file",
    (p) => `${p.file}: starts like a gzip file but cannot be decompressed (${p.reason}); it may be truncated`,
  ),
  E514: entry<{ train: string; test: string; trainShape: string; testShape: string }>(
    "error",
    "training and test samples differ in shape",
    (p) =>
      `${p.test} holds samples of shape ${p.testShape}, but the training samples (${p.train}) are ${p.trainShape}`,
  ),
  E515: entry<{ file: string; detail: string }>(
    "error",
    "malformed data file",
    (p) => `${p.file}: ${p.detail}`,
  ),
  E516: entry<{ file: string; detail: string }>(
    "error",
    "bad sample file",
    (p) => `${p.file}: ${p.detail} (predict --input reads a JSON array of samples)`,
  ),
  E517: entry<{ file: string; line: number; column: number; text: string; max: number }>(
    "error",
    "CSV label too large",
    (p) =>
      `${p.file}:${p.line}: label in column ${p.column} is '${p.text}', past the largest class index nnc ` +
      `accepts (${p.max}): labels are class indices 0, 1, 2, ...`,
  ),
  E518: entry<{ file: string; label: string; detail: string }>(
    "error",
    "CSV label column not found",
    (p) => `${p.file}: label=${p.label} names no column: ${p.detail}`,
  ),
  E519: entry<{ source: string; count: number; percent: number; fraction: number; leaves: string }>(
    "error",
    "the default validation hold-out leaves no sample",
    (p) =>
      `data '${p.source}' has no test set, so by default (validation=${p.fraction}, as none was given) ` +
      `${p.percent}% of its ${p.count} training sample${p.count === 1 ? "" : "s"} would be held out as ` +
      `validation, which leaves ${p.leaves}`,
  ),

  // ---- E6xx: runtime
  E600: entry<{ backend: string; reason: string }>(
    "error",
    "backend unavailable",
    (p) => `backend '${p.backend}' is not available: ${p.reason}`,
  ),
  E601: entry<{ epoch: number; step: number; value: string; hint: string }>(
    "error",
    "loss is not finite",
    (p) => `loss became ${p.value} at epoch ${p.epoch}, step ${p.step}: ${p.hint}`,
  ),
  E602: entry<{ dir: string; detail: string }>(
    "error",
    "cannot resume",
    (p) => `cannot resume from ${p.dir}: ${p.detail}`,
  ),
  E603: entry<{ dir: string; detail: string }>("error", "not a saved model", (p) => `${p.dir}: ${p.detail}`),
  // E604 is retired: an unknown model name is E305 everywhere. The code stays reserved (codes are never reused).
  E605: entry<{ file: string; known: string }>(
    "error",
    "several models: choose one",
    (p) => `${p.file} defines several models (${p.known}): choose one with --model NAME`,
  ),
  E606: entry<{ dir: string }>(
    "error",
    "output folder holds a run",
    (p) =>
      `${p.dir} already holds a run: pass --resume to continue it, --force to replace it, or another --out`,
  ),
  E607: entry<{ path: string }>(
    "error",
    "output path is not a folder",
    (p) => `${p.path} is a file, not a folder: --out needs a folder (an existing one or a new path)`,
  ),
  E620: entry<{ layer: string; batch: number; samples: number }>(
    "error",
    "batch normalization over one value per channel",
    (p) =>
      `batchnorm '${p.layer}' would normalize one value per channel (batch ${p.batch}, ${p.samples} training ` +
      "samples): its batch variance is 0, so it would output beta whatever its input; use a batch of 2 or more",
  ),
  // E63x: experiments (nnc experiment)
  E630: entry<{ file: string }>(
    "error",
    "no experiment",
    (p) =>
      `${p.file} defines no experiment: add a block such as 'experiment NAME { compare a b; vary batch 32 128 }'`,
  ),
  E631: entry<{ name: string; known: string }>(
    "error",
    "no such experiment",
    (p) => `no experiment named '${p.name}' (experiments: ${p.known})`,
  ),
  E632: entry<{ file: string; known: string }>(
    "error",
    "several experiments: choose one",
    (p) => `${p.file} defines several experiments (${p.known}): choose one with --name NAME`,
  ),
  E633: entry<{ experiment: string; key: string; value: string }>(
    "error",
    "value repeated in a vary list",
    (p) =>
      `experiment '${p.experiment}' lists ${p.value} twice in 'vary ${p.key}': those cells would train the same ` +
      "settings twice under one id",
  ),
  E634: entry<{ experiment: string; first: string; second: string; why: string }>(
    "error",
    "two cells with the same settings",
    (p) =>
      `cells ${p.first} and ${p.second} of experiment '${p.experiment}' have the same settings (one id, so ` +
      `one result would overwrite the other): ${p.why}`,
  ),
  E635: entry<{ experiment: string; seed: number; repeat: number; max: number }>(
    "error",
    "repeat runs past the largest seed",
    (p) =>
      `experiment '${p.experiment}' repeats seed ${p.seed} ${p.repeat} times, past the largest seed ${p.max} ` +
      `(repeat N trains seeds seed .. seed + N - 1): ` +
      (p.repeat <= p.max + 1
        ? `use a seed of at most ${p.max - p.repeat + 1}`
        : `repeat at most ${p.max + 1} times`),
  ),
  // E636-E638: training memory against the backend chosen and the memory free now, before anything is allocated
  E636: entry<{ what: string; need: string; parts: string; ceiling: string }>(
    "error",
    "model too large for the wasm heap",
    (p) =>
      `${p.what} needs about ${p.need} of the wasm backend's heap to train (${p.parts}), more than its ` +
      `${p.ceiling} ceiling (WebAssembly memory is 32-bit)`,
  ),
  E637: entry<{ what: string; need: string; parts: string; available: string; total: string }>(
    "error",
    "not enough memory free to train",
    (p) =>
      `${p.what} needs about ${p.need} to train (${p.parts}), more than the ${p.available} of memory free now ` +
      `(of ${p.total})`,
  ),
  E638: entry<{ model: string; need: string; parameters: string; copies: string; ceiling: string }>(
    "error",
    "weights too large for the wasm heap",
    (p) =>
      `model '${p.model}' needs about ${p.need} of the wasm backend's heap for its weights alone (parameters ` +
      `${p.parameters}, their packed copies ${p.copies}), more than its ${p.ceiling} ceiling (WebAssembly memory ` +
      "is 32-bit)",
  ),
  // E64x: run folders (train and experiment --out): one run at a time, nnc's own files only, writes that fail
  E640: entry<{ dir: string; holder: string }>(
    "error",
    "output folder in use",
    (p) =>
      `${p.dir} is in use by another run (${p.holder}): two runs writing one folder would overwrite each ` +
      "other's files; wait for it to finish, or choose another --out",
  ),
  E641: entry<{ dir: string; entries: string }>(
    "error",
    "output folder holds other files",
    (p) =>
      `${p.dir} is not empty and holds no nnc run (${p.entries}): nnc would write its files among them and ` +
      "replace any of the same names; choose a new or empty --out, or pass --force to train there anyway",
  ),
  E642: entry<{ dir: string; epoch: number; reason: string; kept: string }>(
    "error",
    "checkpoint not written",
    (p) => `the checkpoint of epoch ${p.epoch} could not be written to ${p.dir}: ${p.reason}; ${p.kept}`,
  ),
  E644: entry<{ what: string; source: string }>(
    "error",
    "early stopping without validation data",
    (p) =>
      `${p.what} watches validation data, but data '${p.source}' validates on its test set: choosing epochs ` +
      "by the test set makes its accuracy an optimistic estimate",
  ),
  E643: entry<{ dir: string; reason: string; kept: string }>(
    "error",
    "model not saved",
    (p) => `the trained model could not be saved to ${p.dir}: ${p.reason}; ${p.kept}`,
  ),
  // augment (issue 14): E647-E649
  E647: entry<{ reason: string }>(
    "error",
    "augmentation cannot apply to this model",
    (p) => `cannot augment the training batches: ${p.reason}`,
  ),
  // E785-E787: conv1d; W423: conv1d and conv2d (issue 20)
  E785: entry<{ op: string; stride: number; dilation: number }>(
    "error",
    "stride and dilation both above 1",
    (p) =>
      `'${p.op}' has stride=${p.stride} and dilation=${p.dilation}: a convolution takes one or the other above 1, ` +
      "as Keras does (a dilated window moves one step at a time); use stride=1 or dilation=1",
  ),
  W423: entry<{ layer: string; dilation: number }>(
    "warning",
    "dilation of a one-tap window",
    (p) =>
      `'${p.layer}' has dilation=${p.dilation} on a window of one tap: there is nothing to space apart, so it ` +
      "computes what dilation=1 does; a wider KERNEL was probably meant",
  ),
  // ---- E7xx: the language server (nnc lsp)
  E700: entry<{ reason: string }>(
    "error",
    "internal error in the language server",
    (p) =>
      `nnc could not check this file: internal error: ${p.reason}. This is a bug in nnc, not in your spec; ` +
      "please report it with the spec",
  ),
  // E77x-W77x: input scaling in saved models, predict of inference/, the browser (issue 18)
  E770: entry<{ file: string; layer: string; detail: string }>(
    "error",
    "input Rescaling nnc cannot read",
    (p) =>
      `${p.file}: the Rescaling layer '${p.layer}' after the input ${p.detail}; nnc reads an input scale only ` +
      "as Rescaling(scale=1/k, offset=0) with k > 0 (raw inputs divided by k)",
  ),
  // E66x: experiments on a Redis queue (nnc experiment --queue, nnc worker); a URL is always shown without its password
  E660: entry<{ url: string; reason: string }>(
    "error",
    "not a Redis URL",
    (p) =>
      `--queue ${p.url} is not a Redis URL: ${p.reason}; expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] ` +
      "(rediss:// for TLS)",
  ),
  E661: entry<{ url: string; reason: string }>(
    "error",
    "Redis unreachable",
    (p) => `cannot use the Redis server at ${p.url}: ${p.reason}`,
  ),
  E662: entry<{ failed: number; total: number; experiment: string; cells: string }>(
    "error",
    "cells failed on the queue's workers",
    (p) =>
      `${p.failed} of ${p.total} cell${p.total === 1 ? "" : "s"} of experiment '${p.experiment}' failed on the ` +
      `queue's workers:\n${p.cells}`,
  ),
  E663: entry<{ job: string; reason: string }>(
    "error",
    "job is not an nnc cell",
    (p) => `job '${p.job}' is not a cell of an nnc experiment, so this worker does not run it: ${p.reason}`,
  ),
  E664: entry<{ job: string; theirs: string; ours: string }>(
    "error",
    "job made by another nnc version",
    (p) =>
      `job '${p.job}' was enqueued by nnc ${p.theirs}, this worker runs nnc ${p.ours}: a cell trains the same ` +
      "only on the same nnc, so it is left to a worker of that version",
  ),
  E665: entry<{ cell: string; worker: string; reason: string }>(
    "error",
    "a worker's result is not a cell result",
    (p) =>
      `the result of cell ${p.cell} sent by worker ${p.worker} is not a result of that cell: ${p.reason}`,
  ),
  // E740-E759, W740-W749: nnc import (Keras and TensorFlow.js Layers JSON -> .nn), --weights and --init-from
  E740: entry<{ file: string; reason: string }>(
    "error",
    "not a Keras model",
    (p) => `${p.file} is not a Keras or TensorFlow.js Layers model: ${p.reason}`,
  ),
  E741: entry<{ model: string; detail: string }>(
    "error",
    "model structure nnc cannot import",
    (p) => `model '${p.model}' cannot be imported: ${p.detail}`,
  ),
  E742: entry<{ layer: string; className: string }>(
    "error",
    "layer class nnc does not have",
    (p) => `layer '${p.layer}' is a ${p.className}, which nnc has no op for`,
  ),
  E743: entry<{ layer: string; className: string; key: string; value: string; reason: string }>(
    "error",
    "layer setting nnc does not have",
    (p) => `layer '${p.layer}' (${p.className}) has ${p.key}=${p.value}: ${p.reason}`,
  ),
  E744: entry<{ layer: string; className: string; detail: string }>(
    "error",
    "graph edge nnc's language cannot write",
    (p) => `layer '${p.layer}' (${p.className}) cannot be written in nnc: ${p.detail}`,
  ),
  E745: entry<{ layer: string; className: string; message: string }>(
    "error",
    "imported layer does not check",
    (p) => `layer '${p.layer}' (${p.className}) does not check as nnc reads it: ${p.message}`,
  ),
  E746: entry<{ file: string; detail: string }>(
    "error",
    "weights cannot be imported",
    (p) => `${p.file}: ${p.detail}`,
  ),
  E747: entry<{ dir: string; detail: string }>(
    "error",
    "initial weights do not fit the model",
    (p) => `--init-from ${p.dir}: ${p.detail}`,
  ),
  W740: entry<{ layer: string; className: string; detail: string }>(
    "warning",
    "imported with an approximation",
    (p) => `layer '${p.layer}' (${p.className}): ${p.detail}`,
  ),
  // E76x: ONNX export (nnc export --format onnx, src/onnx/)
  E760: entry<{ layer: string; op: string; keras: string }>(
    "error",
    "op has no ONNX form",
    (p) =>
      `layer '${p.layer}' (${p.op}, Keras ${p.keras}) has no ONNX form in this nnc, so the model cannot be ` +
      "exported to ONNX",
  ),
  E761: entry<{ model: string; size: string }>(
    "error",
    "model too large for one ONNX file",
    (p) =>
      `model '${p.model}' holds ${p.size} of weights, more than the 2 GiB one .onnx file (one protobuf ` +
      "message) can hold; nnc does not write ONNX's external-data files",
  ),
  E762: entry<{ file: string; reason: string }>(
    "error",
    "ONNX output path refused",
    (p) => `cannot write the ONNX model to ${p.file}: ${p.reason}`,
  ),
} as const;

export type Code = keyof typeof catalogue;
export type ParamsOf<C extends Code> = Parameters<(typeof catalogue)[C]["message"]>[0];
