import { describe, expect, it } from 'vitest';
import { boundingBox, drawingToRow, resample } from './drawing';

describe('resample (area average)', () => {
  it('averages each 2×2 block when halving', () => {
    // 4×2 → 2×1: blocks [0,255;0,255] and [255,255;255,255]
    const ink = [0, 255, 255, 255, 0, 255, 255, 255];
    expect(resample(ink, 4, { x: 0, y: 0, w: 4, h: 2 }, 2, 1)).toEqual([127.5, 255]);
  });

  it('weights partly covered pixels by the part covered', () => {
    // 3 px → 2 px: output 0 covers px0 and half of px1: (0·1 + 90·0.5) / 1.5 = 30
    expect(resample([0, 90, 180], 3, { x: 0, y: 0, w: 3, h: 1 }, 2, 1)).toEqual([30, 150]);
  });
});

describe('drawingToRow', () => {
  it('is all background for an empty canvas', () => {
    expect(drawingToRow(new Array(100 * 100).fill(0), 100, 100)).toEqual(new Array(784).fill(0));
  });

  it('fits the ink in 20×20 and centres its mass in 28×28', () => {
    // A 40×80 solid bar (taller than wide) anywhere on a 280×280 canvas.
    const width = 280;
    const ink = new Array(width * width).fill(0);
    for (let y = 30; y < 110; y++) for (let x = 200; x < 240; x++) ink[y * width + x] = 255;
    const row = drawingToRow(ink, width, width);
    expect(row).toHaveLength(784);
    const box = boundingBox(row, 28, 28);
    // Height 80 → 20, width 40 → 10; a uniform bar's mass is its middle: columns 9–18, rows 4–23.
    expect(box).toEqual({ x: 9, y: 4, w: 10, h: 20 });
    expect(row.filter((v) => v === 255)).toHaveLength(200);
    expect(row.filter((v) => v > 0 && v < 255)).toHaveLength(0);
  });

  it('scales the whole canvas for fit frame', () => {
    const ink = new Array(56 * 56).fill(255);
    expect(drawingToRow(ink, 56, 56, { fit: 'frame' })).toEqual(new Array(784).fill(255));
  });
});
