import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

const H = 12;
const W = 12;
/** Three 12 × 12 grayscale patterns a small convnet tells apart: stripes either way and a checkerboard. */
const PATTERNS: Record<string, (r: number, c: number, phase: number) => number> = {
  horizontal: (r, _c, p) => ((r + p) % 4 < 2 ? 220 : 30),
  vertical: (_r, c, p) => ((c + p) % 4 < 2 ? 220 : 30),
  checker: (r, c, p) => (((r >> 1) + (c >> 1) + p) % 2 === 0 ? 220 : 30),
};

/**
 * Writes `perClass` PNGs of each pattern (random phase, ±40 noise, a fixed seed) into
 * `dir/<pattern>/<i>.png`: an `images` dataset (README "Your own data") of 3 classes.
 */
export async function writePatternFolder(dir: string, perClass = 40): Promise<void> {
  let s = 7;
  const rand = () => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  for (const [name, pattern] of Object.entries(PATTERNS)) {
    await mkdir(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const phase = Math.floor(rand() * 4);
      const data = Buffer.alloc(H * W);
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          data[r * W + c] = Math.max(0, Math.min(255, pattern(r, c, phase) + Math.round((rand() - 0.5) * 80)));
        }
      }
      await sharp(data, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').toFile(join(dir, name, `${i}.png`));
    }
  }
}
