/**
 * Okabe & Ito's colour-blind-safe palette (distinguishable under protanopia, deuteranopia and
 * tritanopia), used for members and strategies everywhere; charts with more series than colours
 * also vary the line dash, so a series never depends on colour alone. Its three light hues are
 * darkened (same hue) so that every line and marker has at least 3:1 contrast on white (WCAG 1.4.11).
 */
export const PALETTE = [
  '#0072B2', // blue                5.2:1
  '#B87A00', // orange, darkened    3.6:1 (Okabe–Ito #E69F00: 2.3:1)
  '#009E73', // bluish green        3.4:1
  '#CC79A7', // reddish purple      3.1:1
  '#3A8FC7', // sky blue, darkened  3.5:1 (#56B4E9: 2.3:1)
  '#D55E00', // vermillion          3.9:1
  '#9A8A00', // yellow, darkened    3.5:1 (#F0E442: 1.3:1)
  '#000000', // black              21:1
] as const;

export const DASHES = ['solid', 'dashed', 'dotted'] as const;

export function seriesColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length] as string;
}

export function seriesDash(i: number): (typeof DASHES)[number] {
  return DASHES[Math.floor(Math.max(0, i) / PALETTE.length) % DASHES.length] as (typeof DASHES)[number];
}

/** A sequential, colour-blind-safe ramp (light to dark blue) for heatmaps. */
export const HEATMAP_RAMP = ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'] as const;
/** A diverging ramp (vermillion – white – blue) for signed measures such as the Q statistic. */
export const DIVERGING_RAMP = ['#D55E00', '#f4c7a6', '#ffffff', '#9ecae1', '#0072B2'] as const;
