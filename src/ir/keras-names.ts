// The IR's layer ops in Keras' words: the default layer name (dense, dense_1, ...) the builder gives, and the
// class name that summaries print and the Layers-format export writes. One table, read by front and back end.
import type { LayerOp } from "./schema.ts";

/** Keras' default layer name and class name per op. */
export const KERAS_NAMES: Record<LayerOp, { base: string; className: string }> = {
  input: { base: "input_layer", className: "InputLayer" },
  flatten: { base: "flatten", className: "Flatten" },
  dense: { base: "dense", className: "Dense" },
  batchnorm: { base: "batch_normalization", className: "BatchNormalization" },
  activation: { base: "activation", className: "Activation" },
  dropout: { base: "dropout", className: "Dropout" },
  conv2d: { base: "conv2d", className: "Conv2D" },
  maxpool: { base: "max_pooling2d", className: "MaxPooling2D" },
  avgpool: { base: "average_pooling2d", className: "AveragePooling2D" },
  globalavgpool: { base: "global_average_pooling2d", className: "GlobalAveragePooling2D" },
  layernorm: { base: "layer_normalization", className: "LayerNormalization" },
};
