/**
 * A drawing on the "try it" canvas as one raw row of a 28×28 single-channel dataset, the way
 * MNIST's own digits were made (LeCun et al.): the ink's bounding box is scaled, keeping its aspect
 * ratio, to fit a 20×20 box (area-averaged, so strokes keep their grey anti-aliased edges), and
 * placed in the 28×28 frame with its centre of mass at the centre. Values are 0 (background) to
 * 255 (ink), white on black as in the IDX files; the server divides by 255 as training did.
 * Fashion-MNIST and Sign-MNIST items fill the frame instead: `fit: 'frame'` scales the whole
 * canvas to 28×28.
 */

export interface DrawingOptions {
  /** Output side (28). */
  size?: number;
  /** `digit`: MNIST's 20×20 box centred by mass; `frame`: the whole canvas. */
  fit?: 'digit' | 'frame';
}

/**
 * `ink` is one value per canvas pixel, 0–255 (row-major, `width` × `height`), e.g. the alpha or
 * red channel of a white-on-black canvas. Returns size × size values 0–255, rounded.
 */
export function drawingToRow(
  ink: ArrayLike<number>,
  width: number,
  height: number,
  options: DrawingOptions = {},
): number[] {
  const size = options.size ?? 28;
  if (ink.length !== width * height)
    throw new RangeError(`ink has ${ink.length} values, not ${width}×${height}`);
  if (options.fit === 'frame')
    return round(resample(ink, width, { x: 0, y: 0, w: width, h: height }, size, size));

  const box = boundingBox(ink, width, height);
  if (box === null) return new Array<number>(size * size).fill(0);
  // The longer side becomes 20 px (of 28): MNIST's 4 px margin.
  const inner = Math.round((size * 20) / 28);
  const scale = inner / Math.max(box.w, box.h);
  const w = Math.max(1, Math.round(box.w * scale));
  const h = Math.max(1, Math.round(box.h * scale));
  const small = resample(ink, width, box, w, h);
  // Centre of mass of the scaled digit → the frame's centre.
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = small[y * w + x] as number;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const offX = clampInt(Math.round(size / 2 - mx / mass), 0, size - w);
  const offY = clampInt(Math.round(size / 2 - my / mass), 0, size - h);
  const out = new Array<number>(size * size).fill(0);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[(y + offY) * size + (x + offX)] = small[y * w + x] as number;
  }
  return round(out);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The smallest box holding every pixel with ink, or null for an empty canvas. */
export function boundingBox(ink: ArrayLike<number>, width: number, height: number): Box | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((ink[y * width + x] as number) > 0) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * The `box` of `ink` area-averaged onto `w` × `h` pixels: each output pixel is the mean of the
 * source area it covers, partial source pixels weighted by the part covered.
 */
export function resample(ink: ArrayLike<number>, width: number, box: Box, w: number, h: number): number[] {
  const sx = box.w / w;
  const sy = box.h / h;
  const out = new Array<number>(w * h).fill(0);
  for (let oy = 0; oy < h; oy++) {
    const top = box.y + oy * sy;
    const bottom = top + sy;
    for (let ox = 0; ox < w; ox++) {
      const left = box.x + ox * sx;
      const right = left + sx;
      let sum = 0;
      for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
        const cy = Math.min(bottom, y + 1) - Math.max(top, y);
        for (let x = Math.floor(left); x < Math.ceil(right); x++) {
          const cx = Math.min(right, x + 1) - Math.max(left, x);
          sum += (ink[y * width + x] as number) * cx * cy;
        }
      }
      out[oy * w + ox] = sum / (sx * sy);
    }
  }
  return out;
}

const round = (values: number[]): number[] => values.map((v) => Math.min(255, Math.max(0, Math.round(v))));
const clampInt = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
