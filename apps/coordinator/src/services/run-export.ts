import { createHash } from 'node:crypto';
import type { Checkpoint, Repositories } from '@chorus/db';
import { manifestDatasetFor } from '@chorus/data';
import { evaluateEnsemble } from '@chorus/ensemble';
import { ChorusError, type RunExportSource } from '@chorus/protocol';
import type { PlanService } from './plan.service';
import { latestPredictionPairs, type PredictionPair } from './prediction-pairs';

/**
 * What `chorus export` needs besides the members' weights (README "Take the ensemble away"): the
 * run's config, dataset, result and learned combiners. The coordinator holds no TensorFlow.js, so it
 * hands out each member's final checkpoint as stored and the CLI writes the TF.js files. The
 * combiners are not stored; they are fitted again exactly as the final result was (evaluateEnsemble
 * on each member's last round, the run's seed), so they are the result's.
 */
export async function runExportSource(
  deps: { repos: Repositories; plans: PlanService },
  runId: string,
): Promise<RunExportSource> {
  const run = await completedRun(deps.repos, runId);
  const data = await deps.plans.forRun(runId);
  const pairs = await lastRoundPairs(deps.repos, runId, run.members.length);
  const evaluation = evaluateEnsemble({
    numClasses: data.numClasses,
    validation: { members: pairs.map((p) => p.validation.probabilities), truth: data.validationTruth },
    test: { members: pairs.map((p) => p.test.probabilities), truth: data.testTruth },
    seed: data.config.seed,
  });
  const members = [];
  for (const member of [...run.members].sort((a, b) => a.index - b.index)) {
    const checkpoint = await finalCheckpoint(deps.repos, runId, member.id, member.index);
    members.push({ index: member.index, epoch: checkpoint.epoch, ...checkpointDigest(checkpoint) });
  }
  return {
    runId,
    config: run.config,
    dataset: manifestDatasetFor({
      name: run.config.dataset,
      ...(run.datasetSha256 === null ? {} : { sha256: run.datasetSha256 }),
      inputShape: data.inputShape,
      numClasses: data.numClasses,
      ...(data.classNames !== undefined && { classNames: data.classNames }),
      ...(data.preprocess !== undefined && { preprocess: data.preprocess }),
    }),
    result: run.result as NonNullable<typeof run.result>,
    combiners: evaluation.combiners,
    members,
  };
}

/** The final checkpoint of member `index` of a completed run (GET /api/runs/:id/export/members/:index). */
export async function runExportCheckpoint(
  repos: Repositories,
  runId: string,
  index: number,
): Promise<Checkpoint> {
  const run = await completedRun(repos, runId);
  const member = run.members.find((m) => m.index === index);
  if (!member) {
    throw new ChorusError(
      'not-found',
      `run ${runId} has members 0–${run.members.length - 1}; there is no member ${index}`,
    );
  }
  return finalCheckpoint(repos, runId, member.id, index);
}

/** Length and sha256 of a stored checkpoint: recorded for an uploaded file, computed for bytes in the row. */
function checkpointDigest(checkpoint: Checkpoint): { bytes: number; sha256: string } {
  if (checkpoint.file !== null && checkpoint.sha256 !== null && checkpoint.size !== null) {
    return { bytes: checkpoint.size, sha256: checkpoint.sha256 };
  }
  const weights = checkpoint.weights ?? new Uint8Array(0);
  return { bytes: weights.byteLength, sha256: createHash('sha256').update(weights).digest('hex') };
}

async function completedRun(repos: Repositories, runId: string) {
  const run = await repos.runs.get(runId);
  if (!run) throw new ChorusError('not-found', `run ${runId} does not exist`);
  if (run.status !== 'completed' || !run.result) {
    throw new ChorusError('conflict', `run ${runId} is ${run.status}: only a completed run can be exported`);
  }
  return run;
}

async function finalCheckpoint(
  repos: Repositories,
  runId: string,
  memberId: string,
  index: number,
): Promise<Checkpoint> {
  const checkpoint = await repos.checkpoints.latest(memberId);
  if (!checkpoint)
    throw new ChorusError('not-found', `member ${index} of run ${runId} has no stored checkpoint`);
  return checkpoint;
}

/** Each member's latest round stored for both splits (the final result was computed from these). */
async function lastRoundPairs(repos: Repositories, runId: string, count: number): Promise<PredictionPair[]> {
  const pairs = await latestPredictionPairs({
    listLatest: (split) => repos.predictions.listLatest(runId, split),
    get: (key) => repos.predictions.get(key),
  });
  if (pairs.length !== count) {
    throw new ChorusError(
      'internal',
      `run ${runId}: ${pairs.length} of ${count} members have predictions for both splits`,
    );
  }
  return pairs;
}
