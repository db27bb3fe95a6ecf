import type { Command } from 'commander';
import type { WorkerView } from '@chorus/protocol';
import { addCoordinatorOption, coordinatorClient, type CoordinatorFlags } from '../coordinator-options';
import { parseEnv } from '../env';
import { fittedTable, renderTable, stdoutColor } from '../table';
import { ago } from '../wording';

/** `chorus workers`: the workers a coordinator knows, with what they hold now. */
export function registerWorkersCommand(program: Command): void {
  const command = program.command('workers').description('list the workers a coordinator knows');
  addCoordinatorOption(command)
    .option('--json', 'print {"workers": [...]} as the coordinator answers GET /api/workers')
    .action(async (flags: CoordinatorFlags & { json?: boolean }) => {
      const client = await coordinatorClient(flags, parseEnv());
      const { workers } = await client.listWorkers();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ workers })}\n`);
        return;
      }
      if (workers.length === 0) {
        process.stderr.write(`chorus workers: no worker has connected to ${client.baseUrl}\n`);
        return;
      }
      process.stdout.write(`${formatWorkersTable(workers, new Date(), stdoutColor())}\n`);
    });
}

/** One line per worker, within 100 columns: `slots` = members held / slots; the device, last, wraps. */
export function formatWorkersTable(workers: readonly WorkerView[], now: Date, color: boolean): string {
  const rows = workers.map((w) => [
    w.name,
    w.backend,
    w.status,
    `${w.members.length}/${w.slots}`,
    ago(w.lastSeenAt, now),
    w.device,
  ]);
  return renderTable(fittedTable(['name', 'backend', 'status', 'slots', 'heartbeat', 'device'], rows, color));
}
