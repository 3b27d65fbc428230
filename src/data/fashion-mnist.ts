// Data layer: `fashion-mnist`: Zalando's Fashion-MNIST (60,000 training and 10,000 test images, 28x28, 10
// classes) read in place from Debian's dataset-fashion-mnist package; nnc never downloads data at run time.
import { existsSync } from "node:fs";
import { fail } from "../diagnostics/diagnostic.ts";
import { loadIdxFolder } from "./idx-folder.ts";
import type { LoadedSource } from "./source.ts";

/** Where `apt-get install dataset-fashion-mnist` puts the gzipped IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MNIST_INSTALL = "apt-get install dataset-fashion-mnist";

/** In label order, as the Fashion-MNIST README lists them. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

export const fashionMnistInstalled = (dir: string = FASHION_MNIST_DIR): boolean => existsSync(dir);

export async function loadFashionMnist(
  scale: number,
  dir: string = FASHION_MNIST_DIR,
): Promise<LoadedSource> {
  // Checked before anything is read, so a missing package is one clear error rather than a missing-file list.
  if (!fashionMnistInstalled(dir)) fail("E501", { name: "fashion-mnist", install: FASHION_MNIST_INSTALL });
  const loaded = await loadIdxFolder(dir, scale);
  return {
    ...loaded,
    numClasses: FASHION_MNIST_CLASSES.length,
    classNames: FASHION_MNIST_CLASSES,
    description: `Fashion-MNIST (Zalando) from Debian's dataset-fashion-mnist in ${dir}`,
  };
}
