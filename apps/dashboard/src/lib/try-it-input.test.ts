import { describe, expect, it } from 'vitest';
import { inputKindOf } from './try-it-input';

describe('inputKindOf', () => {
  it('draws for 28×28 single-channel datasets: digits boxed and centred, the others the whole frame', () => {
    expect(inputKindOf('mnist')).toEqual({ kind: 'image', side: 28, fit: 'digit', features: 784 });
    expect(inputKindOf('fashion-mnist')).toEqual({ kind: 'image', side: 28, fit: 'frame', features: 784 });
    expect(inputKindOf('sign-mnist')).toMatchObject({ kind: 'image', fit: 'frame' });
  });

  it('takes a pasted row for the others, of the length it knows', () => {
    expect(inputKindOf('digits')).toEqual({ kind: 'row', features: 64 });
    expect(inputKindOf('my-own-data')).toEqual({ kind: 'row', features: null });
  });
});
