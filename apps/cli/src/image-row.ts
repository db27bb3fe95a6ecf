import { ChorusError, type Preprocess } from '@chorus/protocol';

/** The image an input row is: height × width × channels (channels last). */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/**
 * The image each row of an ensemble's dataset is: the manifest's `preprocess.image`, else its input
 * shape read as [height, width] or [height, width, channels]; null for plain feature vectors.
 */
export function imageShapeOf(dataset: { inputShape: number[]; preprocess: Preprocess }): ImageShape | null {
  if (dataset.preprocess.image !== null) return dataset.preprocess.image;
  const [height, width, channels = 1] = dataset.inputShape;
  if (height === undefined || width === undefined || dataset.inputShape.length > 3) return null;
  return { height, width, channels };
}

/**
 * An image file's bytes (PNG, JPEG, WebP, GIF, …: what sharp decodes) as one raw row of an image
 * ensemble: converted to its channels (grey for one channel), resized to its height × width
 * (stretched to fill, area-averaged when shrinking), each 0–255 value mapped linearly onto the raw
 * range the ensemble was trained on (0–255 stays as it is; digits' 0–16 becomes v × 16 / 255), so
 * that predictWithEnsemble's applyPreprocess scales it as training did. `invert` turns dark ink on
 * white paper into MNIST's white ink on black. `source` names the image in errors ("the body", a
 * file's path). The one decoder: `chorus serve`'s image uploads and `chorus predict --input` images.
 */
export async function imageToRow(
  bytes: Buffer,
  dataset: { inputShape: number[]; preprocess: Preprocess },
  options: { invert: boolean; source: string },
): Promise<Float32Array> {
  const image = imageShapeOf(dataset);
  if (image === null) {
    throw new ChorusError(
      'invalid-input',
      `${options.source}: this ensemble takes feature rows of shape [${dataset.inputShape.join(', ')}], not images`,
    );
  }
  // Loaded on the first image only: a native module that feature rows never need.
  const { default: sharp } = await import('sharp');
  let pixels: Buffer;
  try {
    let pipeline = sharp(bytes, { limitInputPixels: 4096 * 4096 }).removeAlpha();
    pipeline = image.channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    pixels = await pipeline
      .resize(image.width, image.height, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer();
  } catch (error) {
    throw new ChorusError(
      'invalid-input',
      `${options.source} is not an image Chorus can read (${(error as Error).message})`,
    );
  }
  const expected = image.height * image.width * image.channels;
  if (pixels.length !== expected) {
    throw new ChorusError(
      'invalid-input',
      `${options.source}: the image decoded to ${pixels.length} values, not ${image.height}×${image.width}×${image.channels}`,
    );
  }
  const [lo, hi] = dataset.preprocess.rawRange;
  const row = new Float32Array(expected);
  for (let i = 0; i < expected; i++) {
    const v = pixels[i] as number;
    row[i] = lo + ((options.invert ? 255 - v : v) * (hi - lo)) / 255;
  }
  return row;
}
