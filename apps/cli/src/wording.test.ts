import { describe, expect, it } from 'vitest';
import { ago, percent, plural } from './wording';

describe('plural', () => {
  it('uses the singular for one only', () => {
    expect(plural(1, 'epoch')).toBe('1 epoch');
    expect(plural(2, 'epoch')).toBe('2 epochs');
    expect(plural(0, 'epoch')).toBe('0 epochs');
    expect(plural(4, 'local worker process', 'local worker processes')).toBe('4 local worker processes');
  });
});

describe('ago and percent', () => {
  it('says an age in its largest whole unit, and an accuracy with one decimal', () => {
    const now = new Date('2026-12-03T10:00:00Z');
    const before = (seconds: number) => ago(new Date(now.getTime() - seconds * 1000), now);
    expect([
      before(0),
      before(59),
      before(60),
      before(3599),
      before(3600),
      before(86_399),
      before(86_400),
    ]).toEqual(['0s ago', '59s ago', '1m ago', '59m ago', '1h ago', '23h ago', '1d ago']);
    // A clock a little ahead on the coordinator's side is "0s ago", not negative.
    expect(before(-3)).toBe('0s ago');
    expect(percent(0.8036)).toBe('80.4%');
    expect(percent(1)).toBe('100.0%');
  });
});
