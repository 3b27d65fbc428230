// The language reference's prose on learning-rate schedules and early stopping (docs/language.md, generated):
// the formulas each schedule computes and where they come from, so a Keras user can check them.
export const SCHEDULES_REFERENCE = `### Learning-rate schedules and early stopping

\`schedule NAME ...\` in \`train\` (or an experiment) sets the learning rate of every optimizer step from the
optimizer's \`lr\`; without it the rate is \`lr\` throughout. Steps \`s\` count from 0 over the whole run (Keras'
\`optimizer.iterations\`), \`T\` is the run's steps (epochs x steps per epoch), \`S\` the steps per epoch and
\`e = floor(s / S)\` the 0-based epoch. The formulas are Keras 3's
(\`keras/src/optimizers/schedules/learning_rate_schedule.py\`, \`keras/src/callbacks/reduce_lr_on_plateau.py\`):

| schedule | rate at step s | Keras equivalent |
| --- | --- | --- |
| \`constant\` | \`lr\` | a float learning rate |
| \`step every=E factor=F\` (F default 0.1) | \`lr * F^floor(e / E)\` | \`ExponentialDecay(lr, decay_steps=E*S, decay_rate=F, staircase=True)\` |
| \`exponential rate=R\` | \`lr * R^e\` | \`ExponentialDecay(lr, decay_steps=S, decay_rate=R, staircase=True)\` |
| \`cosine [min=M]\` (M default 0) | \`lr * ((1 - a) * 0.5 * (1 + cos(pi * s / T)) + a)\`, \`a = M / lr\` | \`CosineDecay(lr, decay_steps=T, alpha=M/lr)\` |
| \`onecycle [max=X]\` (X default lr) | from \`X/25\` up to \`X\` by half a cosine until step \`0.3 T - 1\`, then down to \`X/25/1e4\` at step \`T - 1\` | none in Keras: PyTorch \`OneCycleLR(max_lr=X, total_steps=T)\` with its defaults (momentum is not cycled) |
| \`plateau [patience=P] [factor=F] [min=M]\` (10, 0.1, 0) | \`lr\`, times F after every P epochs in which val_loss did not fall below its best - 1e-4, never below M | \`ReduceLROnPlateau(monitor="val_loss", factor=F, patience=P, min_lr=M)\` |

\`warmup=N\` (any schedule) first raises the rate linearly from 0 over N epochs' steps, \`W = N * S\`: step \`s < W\`
has \`target * s / W\`, where \`target\` is the schedule's first rate; the schedule then runs over the steps after
the warm-up as if they were the whole run (\`s - W\` of \`T - W\`; plateau watches only epochs after it). For cosine
this is Keras' \`CosineDecay(0, decay_steps=T-W, alpha=M/lr, warmup_target=lr, warmup_steps=W)\`, whose first
step has rate 0.

Each epoch's effective rate (the mean of its steps' rates) is printed on its line and kept in history.json as
\`lr\`. A plateau schedule and early stopping watch validation metrics, so the data needs a validation hold-out
(\`data mnist validation=0.1\`): without one a source with a test set validates on it, and \`nnc check\` (E337)
and \`nnc train\` (E644) refuse to choose epochs or rates by the test set. \`nnc check\` also refuses a schedule
whose rate falls below \`lr * 2^-24\` (0 for float32 weights) before the last epoch (E335) and a warm-up as long
as the run (E336), and warns where early stopping or a plateau cannot act within the run (W413, W414) and where a
cosine or plateau \`min\` is not below the learning rate (W415).

\`early_stop\` is Keras' \`EarlyStopping\` (\`keras/src/callbacks/early_stopping.py\`) with \`restore_best_weights\`
on by default: after each epoch, an epoch improves when its \`val_loss\` is below the best by more than
\`min_delta\` (\`val_accuracy\`: above it); the first epoch always improves; training stops after the epoch that
makes \`patience\` epochs since the best (never after the first). With \`restore=true\` the model saved is the best
epoch's weights and batch-norm statistics, whether the run stopped early or not. The run says where it stopped
and which epoch it kept, and history.json records it (\`earlyStop\`). Schedule and early-stopping state are in
the checkpoint: \`--resume\` continues as the uninterrupted run would. \`vary schedule\` takes schedule names or
quoted schedules with options (\`vary schedule constant cosine "step every=2 factor=0.5"\`).

\`\`\`
train {
  data fashion-mnist validation=0.1
  adam lr=0.002
  epochs 30
  schedule cosine min=1e-5 warmup=2
  early_stop monitor=val_accuracy patience=5
}
\`\`\`
`;
