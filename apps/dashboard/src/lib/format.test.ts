import { describe, expect, it } from 'vitest';
import {
  distinguishingDecimals,
  epochOfRound,
  formatDate,
  formatDuration,
  formatEpoch,
  formatGain,
  formatNumber,
  formatPercent,
  formatRate,
} from './format';

describe('format', () => {
  it('formats fractions, gains and missing values', () => {
    expect(formatPercent(0.98171)).toBe('98.17%');
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(Number.NaN)).toBe('—');
    expect(formatNumber(0.123456, 3)).toBe('0.123');
    expect(formatGain(0.0125)).toBe('+1.25 pp');
    expect(formatGain(-0.003)).toBe('−0.30 pp');
    expect(formatRate(51308.4)).toBe('51,308/s');
  });

  it('shows 0-based rounds and epochs as the 1-based epoch they follow', () => {
    expect(epochOfRound(0)).toBe(1);
    expect(formatEpoch(0)).toBe('epoch 1');
    expect(formatEpoch(4)).toBe('epoch 5');
  });

  it('picks the fewest decimals that tell different values apart', () => {
    // All "0.03" at two decimals; 0.0312 and 0.0314 differ at the fourth.
    expect(distinguishingDecimals([0.0312, 0.0314, 0.0298])).toBe(4);
    expect(distinguishingDecimals([0.031, 0.034, 0.031])).toBe(3);
    expect(distinguishingDecimals([0.25, 0.5, 0.75])).toBe(2);
    // Equal values need no more digits; values closer than the cap stop at the cap.
    expect(distinguishingDecimals([0.1, 0.1])).toBe(2);
    expect(distinguishingDecimals([0.1, 0.1 + 1e-7])).toBe(5);
  });

  it('formats dates in UTC and durations', () => {
    expect(formatDate('2026-11-29T20:00:01.500Z')).toBe('2026-11-29 20:00:01 UTC');
    expect(formatDate('nonsense')).toBe('—');
    expect(formatDuration('2026-11-29T20:00:00Z', '2026-11-29T20:00:42Z')).toBe('42 s');
    expect(formatDuration('2026-11-29T20:00:00Z', '2026-11-29T21:02:00Z')).toBe('1 h 2 min');
    expect(formatDuration(null, null)).toBe('—');
  });
});
