import { Option, type Command } from 'commander';
import { describeModels, selectBackend } from '@chorus/models';
import {
  ChorusError,
  DATASET_NAMES,
  DATASET_SHAPES,
  ModelFileFitError,
  summarizeModelFile,
  type DatasetName,
} from '@chorus/protocol';
import { formatModelSummary, readModelFile } from '../model-file';
import { plainTable, renderTable, stdoutColor } from '../table';

interface ModelsFlags {
  json?: boolean;
  file?: string;
  dataset?: DatasetName;
}

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description(
      'list the models with their parameter counts at their reference shapes, or summarize a model file (--file)',
    )
    .option('--json', 'print JSON')
    .option(
      '--file <file>',
      "a Keras/TF.js topology JSON: its layers, output shapes and parameters (Keras' summary)",
    )
    .addOption(
      new Option('--dataset <name>', "with --file: size it for this dataset's samples and classes").choices(
        DATASET_NAMES,
      ),
    )
    .action(async (options: ModelsFlags) => {
      if (options.file !== undefined) {
        await summarizeFile(options.file, options);
        return;
      }
      if (options.dataset !== undefined) throw new ChorusError('invalid-input', '--dataset goes with --file');
      // Counting parameters builds each model once; the cpu backend is always present.
      await selectBackend('cpu');
      const models = describeModels();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(models)}\n`);
        return;
      }
      const table = plainTable(
        ['model', 'params', 'trainable', 'input → classes', 'description'],
        [13, 9, 9, 15],
        stdoutColor(),
      );
      for (const m of models) {
        table.push([
          m.name,
          m.params.toLocaleString('en-US'),
          m.trainableParams.toLocaleString('en-US'),
          `${m.referenceInputShape.join('×')} → ${m.referenceClasses}`,
          m.description,
        ]);
      }
      process.stdout.write(`${renderTable(table)}\n`);
    });
}

async function summarizeFile(path: string, options: ModelsFlags): Promise<void> {
  const file = await readModelFile(path, (line) => process.stderr.write(`${line}\n`));
  const shape = options.dataset === undefined ? undefined : DATASET_SHAPES[options.dataset];
  let summary;
  try {
    summary = summarizeModelFile(file, shape?.inputShape, shape?.numClasses);
  } catch (err) {
    if (err instanceof ModelFileFitError) {
      const against = options.dataset === undefined ? '' : ` (dataset ${options.dataset})`;
      throw new ChorusError('invalid-input', `${err.message}${against}`);
    }
    throw err;
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ modelFile: file, summary })}\n`);
    return;
  }
  process.stdout.write(`${formatModelSummary(file, summary, stdoutColor())}\n`);
}
