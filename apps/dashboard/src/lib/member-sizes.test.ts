import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '@chorus/protocol';
import { memberList, memberSizeRows } from './member-sizes';

describe('memberSizeRows', () => {
  it('groups members of the same width, in member order, with their counts', () => {
    const config = parseRunConfig({
      dataset: 'fashion-mnist',
      model: 'fashion-dnn',
      members: 4,
      memberOverrides: [
        { member: 1, width: 128 },
        { member: 3, width: 8192 },
      ],
    });
    expect(memberSizeRows(config)).toEqual([
      { members: [0, 2], width: 512, params: 1_195_018, overDefaultLimit: false },
      // 784·w + w + 3(w² + w) + 10·w + 10
      { members: [1], width: 128, params: 151_306, overDefaultLimit: false },
      { members: [3], width: 8192, params: 207_863_818, overDefaultLimit: true },
    ]);
  });

  it('says why a model cannot take the dataset instead of a count', () => {
    const [row] = memberSizeRows(parseRunConfig({ dataset: 'digits', model: 'lenet5', members: 2 })) ?? [];
    expect(row).toMatchObject({ members: [0, 1], width: 120, params: null, overDefaultLimit: false });
    expect(row?.error).toMatch(/too small/);
  });

  it('counts nothing for a csv/npy dataset: its shape comes from its files', () => {
    expect(memberSizeRows(parseRunConfig({ dataset: 'csv', datasetPath: '/data/a.csv' }))).toBeNull();
  });

  it('names one member or several', () => {
    expect(memberList([2])).toBe('member 2');
    expect(memberList([0, 1, 3])).toBe('members 0, 1, 3');
  });
});
