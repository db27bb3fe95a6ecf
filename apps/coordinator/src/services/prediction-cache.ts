import type { Repositories, StoredPrediction } from '@chorus/db';
import type { SplitName } from '@chorus/protocol';

/**
 * The prediction reads of the gather service, answered from memory where possible. Every
 * evaluation reads every member's latest probabilities (and a complete round's), which the
 * coordinator itself stored moments before: through the database that is megabytes per evaluation
 * (bytea, hex on the wire), and on the embedded PGlite it runs on the coordinator's own thread.
 *
 * Correctness rests on this coordinator being the only writer of its runs' predictions (as for
 * leases): every save goes through `saved()`, which applies it to whatever is cached. A query
 * result is cached only when no save of that run happened while it was read, so a cached answer
 * always equals what the database would answer now. Anything not cached is read from the
 * database, so a restart (empty cache) or an evicted run costs reads, never correctness.
 * Bounded: the most recent `maxRuns` runs, and per run the latest predictions plus the
 * `maxRounds` highest rounds read.
 */
export interface PredictionCache {
  /** Each member's latest round on a split, by member index (repos.predictions.listLatest). */
  listLatest(runId: string, split: SplitName): Promise<StoredPrediction[]>;
  /** Every member's predictions of one round, by member index (repos.predictions.listRound). */
  listRound(runId: string, split: SplitName, round: number): Promise<StoredPrediction[]>;
  /** One prediction, or null (repos.predictions.get). */
  get(
    runId: string,
    key: { memberId: string; split: SplitName; round: number },
  ): Promise<StoredPrediction | null>;
  /** A prediction was stored in the database (call after the write succeeded). */
  saved(runId: string, prediction: StoredPrediction): void;
  /** How many saves of the run this process has seen (evaluations compare it to reuse results). */
  version(runId: string): number;
  /** The run is over: drop what is cached for it. */
  forget(runId: string): void;
}

interface RunCache {
  latest: Map<SplitName, Map<string, StoredPrediction>>;
  rounds: Map<string, Map<string, StoredPrediction>>; // `${split}:${round}` → by member id
}

const byIndex = (list: Iterable<StoredPrediction>): StoredPrediction[] =>
  [...list].sort((a, b) => a.memberIndex - b.memberIndex);

export function createPredictionCache(
  repos: Repositories,
  options: { maxRuns?: number; maxRounds?: number } = {},
): PredictionCache {
  const maxRuns = options.maxRuns ?? 4;
  const maxRounds = options.maxRounds ?? 4;
  const runs = new Map<string, RunCache>();
  // Save counts survive eviction, so a read that started before an eviction is judged correctly.
  const versions = new Map<string, number>();

  const runCache = (runId: string): RunCache => {
    let run = runs.get(runId);
    if (run) {
      runs.delete(runId); // most recently used last
      runs.set(runId, run);
      return run;
    }
    run = { latest: new Map(), rounds: new Map() };
    runs.set(runId, run);
    while (runs.size > maxRuns) runs.delete(runs.keys().next().value as string);
    return run;
  };

  /** Reads through the database; the answer is kept only when no save of the run raced with it. */
  const load = async <T>(runId: string, read: () => Promise<T>, keep: (run: RunCache, value: T) => void) => {
    const before = versions.get(runId) ?? 0;
    const value = await read();
    if ((versions.get(runId) ?? 0) === before) keep(runCache(runId), value);
    return value;
  };

  const keepRound = (run: RunCache, key: string, members: Map<string, StoredPrediction>) => {
    run.rounds.set(key, members);
    if (run.rounds.size > maxRounds) {
      // Drop the lowest round (evaluations move forward).
      const lowest = [...run.rounds.keys()].sort(
        (a, b) => Number(a.split(':')[1]) - Number(b.split(':')[1]),
      )[0] as string;
      run.rounds.delete(lowest);
    }
  };

  return {
    async listLatest(runId, split) {
      const cached = runs.get(runId)?.latest.get(split);
      if (cached) return byIndex(cached.values());
      return load(
        runId,
        () => repos.predictions.listLatest(runId, split),
        (run, list) => run.latest.set(split, new Map(list.map((p) => [p.memberId, p]))),
      );
    },

    async listRound(runId, split, round) {
      const key = `${split}:${round}`;
      const cached = runs.get(runId)?.rounds.get(key);
      if (cached) return byIndex(cached.values());
      return load(
        runId,
        () => repos.predictions.listRound(runId, split, round),
        (run, list) => keepRound(run, key, new Map(list.map((p) => [p.memberId, p]))),
      );
    },

    async get(runId, key) {
      const run = runs.get(runId);
      const inRound = run?.rounds.get(`${key.split}:${key.round}`);
      if (inRound) return inRound.get(key.memberId) ?? null;
      const latest = run?.latest.get(key.split);
      if (latest) {
        const newest = latest.get(key.memberId);
        if (!newest || newest.round < key.round) return null; // nothing stored above the latest round
        if (newest.round === key.round) return newest;
      }
      return repos.predictions.get(key);
    },

    saved(runId, prediction) {
      versions.set(runId, (versions.get(runId) ?? 0) + 1);
      const run = runs.get(runId);
      if (!run) return;
      const latest = run.latest.get(prediction.split);
      const current = latest?.get(prediction.memberId);
      if (latest && (!current || current.round <= prediction.round))
        latest.set(prediction.memberId, prediction);
      run.rounds.get(`${prediction.split}:${prediction.round}`)?.set(prediction.memberId, prediction);
    },

    version: (runId) => versions.get(runId) ?? 0,

    forget(runId) {
      runs.delete(runId);
    },
  };
}
