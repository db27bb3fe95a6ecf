import type { Command } from 'commander';
import { describeModels, selectBackend } from '@chorus/models';
import { plainTable, renderTable, stdoutColor } from '../table';

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the models with their parameter counts at their reference shapes')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
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
