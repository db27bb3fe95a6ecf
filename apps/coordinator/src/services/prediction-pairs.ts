import type { StoredPrediction } from '@chorus/db';
import type { SplitName } from '@chorus/protocol';

/** The prediction reads of one run: the repository's (libs/db) or the gather service's cache. */
export interface RunPredictionReads {
  listLatest(split: SplitName): Promise<StoredPrediction[]>;
  get(key: { memberId: string; split: SplitName; round: number }): Promise<StoredPrediction | null>;
}

export interface PredictionPair {
  memberIndex: number;
  round: number;
  validation: StoredPrediction;
  test: StoredPrediction;
}

/**
 * Each member's latest round stored for both splits, by member index: a member whose latest
 * validation and test rounds differ is taken at the lower one (when that round's other split is
 * still stored). The live view and the final result are evaluated on these (gather.service.ts), and
 * an export's combiners are fitted again on the same ones (run-export.ts).
 */
export async function latestPredictionPairs(reads: RunPredictionReads): Promise<PredictionPair[]> {
  const [validation, test] = await Promise.all([reads.listLatest('validation'), reads.listLatest('test')]);
  const pairs: PredictionPair[] = [];
  for (const v of validation) {
    const t = test.find((p) => p.memberId === v.memberId);
    if (!t) continue;
    const round = Math.min(v.round, t.round);
    const val = v.round === round ? v : await reads.get({ memberId: v.memberId, split: 'validation', round });
    const tst = t.round === round ? t : await reads.get({ memberId: v.memberId, split: 'test', round });
    if (val && tst) pairs.push({ memberIndex: v.memberIndex, round, validation: val, test: tst });
  }
  return pairs.sort((a, b) => a.memberIndex - b.memberIndex);
}
