import { Option, type Command } from 'commander';
import { checkExportTarget, type BackendName } from '@chorus/models';
import { BACKENDS, isFileDatasetKind, modelLabel } from '@chorus/protocol';
import { parseTrainEnv } from '../env';
import {
  addRunConfigOptions,
  checkMemberParams,
  runConfigAndWeightsFromFlags,
  type RunConfigFlags,
} from '../run-config-options';
import { trainEnsembleLocally } from '../local-train';
import { loadProgressLogger } from '../load-progress';
import { createProgressView } from '../progress';
import { formatRunReport } from '../report';
import { MAX_TABLE_WIDTH } from '../table';
import { plural, wrapWords } from '../wording';

export function registerTrainCommand(program: Command): void {
  const command = program
    .command('train')
    .description('train a whole ensemble in this process (no server) and compare the voting strategies');
  addRunConfigOptions(command)
    .addOption(
      new Option(
        '--backend <name>',
        'TensorFlow.js backend (webgpu takes a software adapter only with CHORUS_WEBGPU_ALLOW_SOFTWARE=1)',
      )
        .choices(['auto', ...BACKENDS])
        .default('auto'),
    )
    .option('--json', 'print the result as one JSON object on the last stdout line')
    .option(
      '--save <dir>',
      'export the trained ensemble into this new or empty directory (TF.js layers format)',
    )
    .action(
      async (
        flags: RunConfigFlags & {
          json?: boolean;
          save?: string;
          backend: 'auto' | BackendName;
        },
      ) => {
        const { allowSoftwareGpu } = parseTrainEnv();
        const { config: cfg, weights } = await runConfigAndWeightsFromFlags(flags);
        checkMemberParams(cfg, flags);
        if (flags.save !== undefined) await checkExportTarget(flags.save);
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const view = createProgressView(Boolean(process.stderr.isTTY) && !flags.json, log);
        const abort = new AbortController();
        const onSignal = () => abort.abort(new Error('interrupted'));
        process.once('SIGINT', onSignal);
        try {
          const outcome = await trainEnsembleLocally(cfg, {
            backend: flags.backend,
            allowSoftwareGpu,
            initialWeights: weights,
            signal: abort.signal,
            ...(flags.save === undefined ? {} : { save: flags.save }),
            onLoadProgress: loadProgressLogger(log),
            checkDataset: (dataset) => checkMemberParams(cfg, flags, dataset),
            onStart: ({ backend, device, skipped, dataset, counts, totals }) => {
              // Short lines (within MAX_TABLE_WIDTH, as the tables): what trains on what, then how.
              log(
                `chorus train: ${cfg.members} × ${modelLabel(cfg)} on ${dataset.name} ` +
                  `(${counts.train} train / ${counts.validation} validation / ${counts.test} test, ` +
                  `sha256 ${dataset.sha256.slice(0, 12)}…)`,
              );
              log(
                `  ${cfg.sharding} sharding, ${plural(cfg.epochs, 'epoch')}, batch ${cfg.batchSize}, seed ${cfg.seed}; ` +
                  `backend ${backend} on ${device}`,
              );
              // What was read and what was chosen for it (a csv's label column, an image folder's size and channels).
              if (isFileDatasetKind(dataset.name)) log(`dataset: ${dataset.source}`);
              // Why faster backends were passed over (e.g. a software-only WebGPU adapter), wrapped.
              for (const { backend: name, reason } of skipped) {
                for (const line of wrapWords(reason, MAX_TABLE_WIDTH, `  passed over ${name}: `, '    '))
                  log(line);
              }
              view.start(totals);
            },
            onProgress: (p) => view.update(p),
          });
          view.stop();
          if (outcome.saved && flags.save !== undefined) {
            log(`saved the ensemble (${plural(outcome.saved.members.length, 'member')}) to ${flags.save}`);
          }
          if (flags.json) {
            process.stdout.write(
              `${JSON.stringify({ ...outcome.result, backend: outcome.backend, device: outcome.device, seconds: outcome.seconds })}\n`,
            );
          } else {
            process.stdout.write(`${formatRunReport(outcome.result)}\n`);
            log(`done in ${outcome.seconds.toFixed(1)} s on ${outcome.backend} (${outcome.device})`);
          }
        } finally {
          view.stop();
          process.off('SIGINT', onSignal);
        }
      },
    );
}
