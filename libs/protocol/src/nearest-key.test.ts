import { describe, expect, it } from 'vitest';
import { nearestKey } from './nearest-key';

const KEYS = ['dataset', 'model', 'members', 'epochs', 'batchSize', 'seed', 'trainLimit', 'learningRate'];

describe('nearestKey', () => {
  it('finds a key one or two edits away, or written in another case', () => {
    expect(nearestKey('epoch', KEYS)).toBe('epochs');
    expect(nearestKey('batch_size', KEYS)).toBe('batchSize');
    expect(nearestKey('train-limit', KEYS)).toBe('trainLimit');
    expect(nearestKey('LearningRate', KEYS)).toBe('learningRate');
    expect(nearestKey('memebrs', KEYS)).toBe('members');
  });

  it('suggests nothing for a key that is not close to any', () => {
    expect(nearestKey('colour', KEYS)).toBeUndefined();
    // Two edits of a three-letter key is a different word.
    expect(nearestKey('sex', ['seed'])).toBeUndefined();
    expect(nearestKey('x', [])).toBeUndefined();
  });
});
