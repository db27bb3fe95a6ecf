/**
 * Okabe & Ito's colour-blind-safe palette (distinguishable under protanopia, deuteranopia and
 * tritanopia), used for members and strategies everywhere; charts with more series than colours
 * also vary the line dash, so a series never depends on colour alone.
 */
export const PALETTE = [
  '#0072B2', // blue
  '#E69F00', // orange
  '#009E73', // bluish green
  '#CC79A7', // reddish purple
  '#56B4E9', // sky blue
  '#D55E00', // vermillion
  '#F0E442', // yellow
  '#000000', // black
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
