import type { Command } from 'commander';
import Table from 'cli-table3';
import { listDatasets } from '@chorus/data';

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
      const table = new Table({ head: ['dataset', 'present', 'train / test', 'source or how to get it'] });
      for (const d of datasets) {
        table.push([
          d.name,
          d.present ? 'yes' : 'no',
          d.trainCount !== undefined ? `${d.trainCount} / ${d.testCount ?? '?'}` : '',
          d.present ? d.source : d.howToGet,
        ]);
      }
      process.stdout.write(`${table.toString()}\n`);
    });
}
