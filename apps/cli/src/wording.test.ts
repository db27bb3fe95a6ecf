import { describe, expect, it } from 'vitest';
import { plural } from './wording';

describe('plural', () => {
  it('uses the singular for one only', () => {
    expect(plural(1, 'epoch')).toBe('1 epoch');
    expect(plural(2, 'epoch')).toBe('2 epochs');
    expect(plural(0, 'epoch')).toBe('0 epochs');
    expect(plural(4, 'local worker process', 'local worker processes')).toBe('4 local worker processes');
  });
});
