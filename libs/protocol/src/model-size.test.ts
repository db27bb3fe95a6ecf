import { describe, expect, it } from 'vitest';
import {
  countMemberParams,
  DATASET_SHAPES,
  DEFAULT_MAX_MEMBER_PARAMS,
  hiddenSize,
  memberParamsRefusal,
  memberSizes,
} from './model-size';
import { parseRunConfig } from './run-config';

// The cross-check against tfjs' countParams for every model and width is in
// libs/models/src/models/registry.test.ts (the protocol cannot import tfjs).
describe('member sizes', () => {
  it('width is units: an mlp of width 128 has four Dense 128 layers', () => {
    expect(hiddenSize('mlp', 50, 128)).toBe(128);
    expect(hiddenSize('mlp', 50, undefined)).toBe(50);
    expect(hiddenSize('lenet5', 84, 240)).toBe(168);
    expect(hiddenSize('sign-cnn', 25, 1)).toBe(1);
    expect(countMemberParams({ model: 'mlp', inputShape: [28, 28, 1], numClasses: 10, width: 128 })).toBe(
      784 * 128 + 128 + 3 * (128 * 128 + 128) + 128 * 10 + 10,
    );
  });

  it('counts each member of a run with its own override', () => {
    const config = parseRunConfig({
      model: 'fashion-dnn',
      members: 3,
      memberOverrides: [{ member: 1, width: 128 }],
    });
    expect(memberSizes(config, DATASET_SHAPES['fashion-mnist'])).toEqual([
      { member: 0, width: 512, params: 1_195_018 },
      { member: 1, width: 128, params: 784 * 128 + 128 + 3 * (128 * 128 + 128) + 1290 },
      { member: 2, width: 512, params: 1_195_018 },
    ]);
  });

  it('marks an input the model cannot take instead of counting it', () => {
    const config = parseRunConfig({ model: 'lenet5', members: 1 });
    const [size] = memberSizes(config, DATASET_SHAPES.digits);
    expect(size?.params).toBeNull();
    expect(size?.error).toMatch(/too small/);
  });

  it('refuses members over the limit, naming each, its count and the limit', () => {
    const config = parseRunConfig({
      model: 'fashion-dnn',
      members: 4,
      memberOverrides: [
        { member: 1, width: 8192 },
        { member: 3, width: 4096 },
      ],
    });
    const shape = DATASET_SHAPES['fashion-mnist'];
    const refusal = memberParamsRefusal(config, shape, DEFAULT_MAX_MEMBER_PARAMS);
    expect(refusal).toBe(
      // 784·w + w + 3(w² + w) + 10·w + 10 at w = 8192 and 4096
      'member 1 (width 8192) has 207,863,818 parameters; member 3 (width 4096) has 53,600,266 parameters: ' +
        'over the limit of 50,000,000 parameters per member (a fashion-dnn is 1,195,018 at its default ' +
        'width 512; `width` is the units of its widest hidden layer)',
    );
    expect(memberParamsRefusal(config, shape, 207_863_818)).toBeNull();
    expect(memberParamsRefusal(parseRunConfig({ model: 'fashion-dnn' }), shape, 1_195_018)).toBeNull();
    const seven = memberParamsRefusal(parseRunConfig({ model: 'fashion-dnn', members: 7 }), shape, 1_195_017);
    expect(seven).toMatch(/^member 0 \(width 512\) has 1,195,018 parameters; member 1 /);
    expect(seven).toContain(
      'member 4 (width 512) has 1,195,018 parameters; and 2 more members: over the limit of 1,195,017',
    );
  });
});
