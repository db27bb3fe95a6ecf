/**
 * The images case of `npm run bench:data` (README "Your own data", images): images/s and peak RSS
 * of libs/data's image-folder loader on generated 28 × 28 grayscale PNGs in 10 class folders
 * (MNIST-sized), written with sharp into a temporary directory and removed afterwards. The loader
 * runs in its own process, so its peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImagesDataset } from '@chorus/data';

const SIDE = 28;
const CLASSES = 10;

/** Child mode: load the folder and print one JSON line. */
export async function measureImages(dir: string): Promise<void> {
  const started = performance.now();
  const d = await loadImagesDataset({ path: dir, testFraction: 0.2 });
  const seconds = (performance.now() - started) / 1000;
  const images = d.train.count + d.test.count;
  process.stdout.write(
    `${JSON.stringify({ images, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

/** Writes `count` PNGs, a noisy bar per class, 16 at a time. */
async function generate(dir: string, count: number): Promise<void> {
  for (let k = 0; k < CLASSES; k++) await mkdir(join(dir, `class-${k}`));
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const write = (i: number) => {
    const k = i % CLASSES;
    const data = Buffer.alloc(SIDE * SIDE);
    for (let p = 0; p < data.length; p++) data[p] = (p % SIDE) >> 1 === k + 2 ? 200 : Math.floor(next() * 60);
    return sharp(data, { raw: { width: SIDE, height: SIDE, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(join(dir, `class-${k}`, `${i}.png`));
  };
  for (let i = 0; i < count; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, j) => write(i + j)));
  }
}

/** Generates `count` images, loads them in a child process (`childArgs` re-enters measureImages), prints figures. */
export async function benchImages(count: number, childArgs: (dir: string) => string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-images-'));
  try {
    const t = performance.now();
    await generate(dir, count);
    console.log(
      `generated ${count.toLocaleString('en-US')} PNGs of ${SIDE}×${SIDE}×1 in ${CLASSES} class folders ` +
        `in ${((performance.now() - t) / 1000).toFixed(1)} s (${dir})`,
    );
    console.log(`float32 data alone: ${((count * SIDE * SIDE * 4) / 2 ** 20).toFixed(0)} MiB`);
    const child = spawnSync(process.execPath, childArgs(dir), { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`the images loader failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as {
      images: number;
      seconds: number;
      peakRssMiB: number;
    };
    console.log(
      `${'chorus loadImagesDataset (probe, decode, split)'.padEnd(52)} ${Math.round(r.images / r.seconds)
        .toLocaleString('en-US')
        .padStart(10)} images/s ` + `(${r.seconds.toFixed(1)} s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
