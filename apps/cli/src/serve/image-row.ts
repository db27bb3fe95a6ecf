import { ChorusError, type Preprocess } from '@chorus/protocol';

/**
 * An uploaded image (PNG, JPEG, WebP, GIF, …: what sharp decodes) as one raw row of an image
 * ensemble: converted to its channels (grey for one channel), resized to its height × width
 * (stretched to fill, area-averaged when shrinking), each 0–255 value mapped linearly onto the raw
 * range the ensemble was trained on (0–255 stays as it is; digits' 0–16 becomes v × 16 / 255).
 * `invert` turns dark ink on white paper into MNIST's white ink on black.
 */
export async function imageToRow(bytes: Buffer, preprocess: Preprocess, invert: boolean): Promise<number[]> {
  const { image, rawRange } = preprocess;
  if (image === null) {
    throw new ChorusError(
      'invalid-input',
      'this ensemble takes feature rows, not images: send { "rows": [...] }',
    );
  }
  // Loaded on the first image only: a native module the JSON requests never need.
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
      `the body is not an image this server can read (${(error as Error).message})`,
    );
  }
  const expected = image.height * image.width * image.channels;
  if (pixels.length !== expected) {
    throw new ChorusError(
      'invalid-input',
      `the image decoded to ${pixels.length} values, not ${image.height}×${image.width}×${image.channels}`,
    );
  }
  const [lo, hi] = rawRange;
  return Array.from(pixels, (v) => lo + ((invert ? 255 - v : v) * (hi - lo)) / 255);
}
