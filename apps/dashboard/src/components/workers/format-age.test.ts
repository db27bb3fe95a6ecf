import { describe, expect, it } from 'vitest';
import { formatAge } from './format-age';

describe('formatAge', () => {
  it('counts whole units and never goes negative', () => {
    const t = '2026-11-29T20:00:00.000Z';
    expect(formatAge(t, '2026-11-29T20:00:00.900Z')).toBe('0 s ago');
    expect(formatAge(t, '2026-11-29T20:00:59.999Z')).toBe('59 s ago');
    expect(formatAge(t, '2026-11-29T20:01:00Z')).toBe('1 min ago');
    expect(formatAge(t, '2026-11-29T22:59:00Z')).toBe('2 h ago');
    expect(formatAge(t, '2026-12-02T20:00:00Z')).toBe('3 d ago');
    expect(formatAge(t, '2026-11-29T19:59:00Z')).toBe('0 s ago');
  });
});
