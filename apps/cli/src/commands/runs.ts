import type { Command } from 'commander';
import { ChorusError, RUN_STATUSES, type RunListItem, type RunStatusName } from '@chorus/protocol';
import { addCoordinatorOption, coordinatorClient, type CoordinatorFlags } from '../coordinator-options';
import { parseEnv } from '../env';
import { fittedTable, renderTable, stdoutColor } from '../table';
import { ago, percent } from '../wording';

interface RunsFlags extends CoordinatorFlags {
  limit: string;
  status?: string;
  json?: boolean;
}

/** `chorus runs`: a coordinator's runs, newest first. */
export function registerRunsCommand(program: Command): void {
  const command = program.command('runs').description("list a coordinator's runs, newest first");
  addCoordinatorOption(command)
    .option('--limit <n>', 'at most this many (1–500)', '20')
    .option('--status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`)
    .option('--json', 'print {"runs": [...]} as the coordinator answers GET /api/runs')
    .action(async (flags: RunsFlags) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
        throw new ChorusError(
          'invalid-input',
          `--limit must be an integer from 1 to 500, got ${flags.limit}`,
        );
      }
      if (flags.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(flags.status)) {
        throw new ChorusError(
          'invalid-input',
          `--status must be one of ${RUN_STATUSES.join(', ')}, got ${flags.status}`,
        );
      }
      const client = await coordinatorClient(flags, parseEnv());
      const { runs } = await client.listRuns({
        query: { limit, ...(flags.status !== undefined && { status: flags.status as RunStatusName }) },
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ runs })}\n`);
        return;
      }
      if (runs.length === 0) {
        process.stderr.write(`chorus runs: no runs on ${client.baseUrl}\n`);
        return;
      }
      process.stdout.write(`${formatRunsTable(runs, new Date(), stdoutColor())}\n`);
    });
}

/** One line per run, within 100 columns (the name, last, wraps). */
export function formatRunsTable(runs: readonly RunListItem[], now: Date, color: boolean): string {
  const rows = runs.map((run) => [
    run.id,
    run.status,
    run.datasetName,
    `${run.members} × ${run.modelFile ?? run.model}`,
    run.best ? `${run.best.strategy} ${percent(run.best.accuracy)}` : '-',
    ago(run.createdAt, now),
    run.name,
  ]);
  return renderTable(
    fittedTable(['id', 'status', 'dataset', 'members', 'best (test)', 'created', 'name'], rows, color),
  );
}
