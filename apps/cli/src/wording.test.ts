import { describe, expect, it } from 'vitest';
import { ago, percent, plural, wrapWords } from './wording';

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

describe('wrapWords', () => {
  it('breaks between words within the width, indenting the lines after the first', () => {
    const text = 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed. Install one.';
    const lines = wrapWords(text, 40, '  passed over ', '    ');
    expect(lines).toEqual([
      '  passed over neither',
      '    @tensorflow/tfjs-node-gpu nor',
      '    @tensorflow/tfjs-node is installed.',
      '    Install one.',
    ]);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(40);
    expect(lines.join(' ').replace(/\s+/g, ' ').trim()).toBe(`passed over ${text}`);
  });

  it('keeps a word longer than the width whole, on its own line; nothing for no words', () => {
    expect(wrapWords(`a ${'x'.repeat(12)} b`, 8)).toEqual(['a', 'x'.repeat(12), 'b']);
    expect(wrapWords('  ', 8, '> ')).toEqual([]);
  });
});
