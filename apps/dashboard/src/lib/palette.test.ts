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
