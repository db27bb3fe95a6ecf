import { Option, type Command } from 'commander';
import {
  applyPreprocess,
  predictWithEnsemble,
  readEnsembleExport,
  selectBackend,
  type BackendName,
} from '@chorus/models';
import { ChorusError, type StrategyName } from '@chorus/protocol';
import { createEvaluation, type PredictEvaluation } from '../predict/evaluate';
import { openInputs } from '../predict/input-source';
import { readLabels } from '../predict/read-inputs';
import { formatRows } from '../predict/row-output';
import { createRowsProgress } from '../progress';
import { boxedTable, renderTable, stdoutColor } from '../table';

interface PredictFlags {
  ensemble: string;
  input: string;
  labels?: string;
  strategy?: string;
  members?: string;
  json?: boolean;
  evaluate?: boolean;
  invert?: boolean;
  batchSize: string;
  backend: 'auto' | BackendName;
}

/** `chorus predict`: README "Take the ensemble away". */
export function registerPredictCommand(program: Command): void {
  program
    .command('predict')
    .description('classify rows with an exported ensemble (chorus train --save, chorus export)')
    .requiredOption('--ensemble <dir>', 'the export directory (holds ensemble.json)')
    .requiredOption(
      '--input <file>',
      'rows to classify: CSV, .npy or IDX (raw values, as the dataset files hold them), a PNG/JPEG image or a folder of them',
    )
    .option(
      '--labels <file>',
      'their classes: IDX labels, .npy or a one-column CSV (or a label column in the CSV)',
    )
    .option('--strategy <name>', "the vote whose class is printed (default: the ensemble's default)")
    .option('--members <list>', 'only these members, e.g. 0,2 (the learned combiners need all of them)')
    .option('--evaluate', 'score every strategy against the labels instead of printing rows')
    .option('--invert', 'images are dark ink on a light background (MNIST is light on dark)')
    .option('--json', 'rows as JSON lines; with --evaluate, one JSON object on the last stdout line')
    .option('--batch-size <rows>', 'rows predicted at a time (bounds memory)', '1024')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .action(async (flags: PredictFlags) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const batchSize = Number(flags.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new ChorusError(
          'invalid-input',
          `--batch-size must be a whole number ≥ 1, got ${flags.batchSize}`,
        );
      }
      await selectBackend(flags.backend);
      const ensemble = await readEnsembleExport(flags.ensemble);
      try {
        const { manifest } = ensemble;
        const { inputShape, numClasses, classNames } = manifest.dataset;
        const members = parseMembers(flags.members, manifest.members.length);
        const strategy = chooseStrategy(
          flags.strategy,
          manifest.strategies,
          manifest.defaultStrategy,
          members,
        );
        const featureSize = inputShape.reduce((a, b) => a * b, 1);
        const source = await openInputs(flags.input, manifest.dataset, { invert: Boolean(flags.invert) });
        // A first pass over the raw values (one batch in memory at a time), so that a bad row is
        // refused before any row is printed; it also counts the rows for --labels and the progress.
        let count = 0;
        let labelColumn = false;
        for await (const batch of source.batches(batchSize)) {
          try {
            applyPreprocess(manifest.dataset.preprocess, batch.x, featureSize);
          } catch (error) {
            // applyPreprocess names the row within the batch: say which row of the file it is.
            if (!(error instanceof ChorusError)) throw error;
            const message = error.message.replace(
              /^row (\d+)/,
              (_m, r: string) => `row ${count + Number(r)}`,
            );
            throw new ChorusError(error.code, `${flags.input}: ${message}`);
          }
          if (batch.labels) {
            labelColumn = true;
            const outside = batch.labels.findIndex((l) => l >= numClasses);
            if (outside >= 0) {
              throw new ChorusError(
                'invalid-input',
                `the label of row ${count + outside} is ${batch.labels[outside]}, not a class 0–${numClasses - 1}`,
              );
            }
          }
          count += batch.n;
        }
        const labels =
          flags.labels !== undefined ? await readLabels(flags.labels, count, numClasses) : undefined;
        if (flags.evaluate && labels === undefined && !labelColumn) {
          throw new ChorusError(
            'invalid-input',
            '--evaluate needs labels: --labels FILE, or a label column in the CSV',
          );
        }
        const evaluation = flags.evaluate ? createEvaluation(numClasses, count) : undefined;
        const progress = createRowsProgress(count, Boolean(process.stderr.isTTY), log);
        const color = stdoutColor();
        let first = 0;
        for await (const { x, n, labels: column, names } of source.batches(batchSize)) {
          const prediction = await predictWithEnsemble(ensemble, x, n, members ? { members } : {});
          const truth = labels ? labels.subarray(first, first + n) : column;
          if (evaluation && truth) evaluation.add(prediction, truth);
          else {
            const text = formatRows(prediction, {
              strategy,
              first,
              numClasses,
              classNames,
              json: Boolean(flags.json),
              color,
              ...(names ? { names } : {}),
            });
            process.stdout.write(`${text}\n`);
          }
          first += n;
          progress.update(first);
        }
        progress.stop();
        if (evaluation) {
          const result = evaluation.finish();
          process.stdout.write(`${flags.json ? JSON.stringify(result) : formatEvaluation(result, color)}\n`);
        }
      } finally {
        ensemble.dispose();
      }
    });
}

/** `--members 0,2` → [0, 2]; predictWithEnsemble checks the range. */
function parseMembers(text: string | undefined, count: number): number[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim());
  const members = list.map(Number);
  const wrong = list.find((s, i) => s === '' || !Number.isInteger(members[i]));
  if (wrong !== undefined) {
    throw new ChorusError(
      'invalid-input',
      `--members takes member numbers separated by commas, e.g. 0,2; got "${text}"`,
    );
  }
  const outside = members.filter((m) => m < 0 || m >= count);
  if (outside.length > 0) {
    throw new ChorusError(
      'invalid-input',
      `this ensemble has members 0–${count - 1}; there is no member ${outside.join(', ')}`,
    );
  }
  return members;
}

function chooseStrategy(
  asked: string | undefined,
  available: readonly StrategyName[],
  fallback: StrategyName,
  members: number[] | undefined,
): StrategyName {
  const strategy = (asked ?? fallback) as StrategyName;
  if (!available.includes(strategy)) {
    throw new ChorusError(
      'invalid-input',
      `unknown strategy "${strategy}"; this ensemble votes with ${available.join(', ')}`,
    );
  }
  if (members !== undefined && ['stacking', 'optimal-weights', 'selection'].includes(strategy)) {
    throw new ChorusError(
      'invalid-input',
      `${strategy} was fitted on every member; with --members choose a vote (hard, soft, …)`,
    );
  }
  return strategy;
}

function formatEvaluation(result: PredictEvaluation, color: boolean): string {
  const fmt = (x: number) => x.toFixed(4);
  const table = boxedTable([`strategy (${result.rows} rows)`, 'accuracy', 'NLL', 'Brier', 'ECE'], color);
  for (const [name, s] of Object.entries(result.ensemble))
    table.push([name, fmt(s.accuracy), fmt(s.nll), fmt(s.brier), fmt(s.ece)]);
  const members = boxedTable(['member', 'accuracy'], color);
  for (const m of result.members) members.push([m.index, fmt(m.accuracy)]);
  return [renderTable(members), renderTable(table)].join('\n');
}
