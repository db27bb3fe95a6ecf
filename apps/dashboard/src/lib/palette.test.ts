import { describe, expect, it } from 'vitest';
import { PALETTE, seriesColor, seriesDash } from './palette';

describe('palette', () => {
  it('cycles colours and changes the dash once the colours run out', () => {
    expect(seriesColor(0)).toBe(PALETTE[0]);
    expect(seriesColor(PALETTE.length)).toBe(PALETTE[0]);
    expect(seriesDash(0)).toBe('solid');
    expect(seriesDash(PALETTE.length)).toBe('dashed');
    // 16 members: no two share both colour and dash.
    const styles = new Set(Array.from({ length: 16 }, (_, i) => `${seriesColor(i)}/${seriesDash(i)}`));
    expect(styles.size).toBe(16);
  });
});

describe('palette contrast', () => {
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
    const f = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r as number) + 0.7152 * f(g as number) + 0.0722 * f(b as number);
  };
  it('gives every series at least 3:1 against the white background (lines and markers)', () => {
    for (const colour of PALETTE) expect(1.05 / (luminance(colour) + 0.05), colour).toBeGreaterThanOrEqual(3);
  });
});
