import type { Command } from 'commander';
import { registerRunAdminCommand } from './run-admin-command';

/**
 * `chorus delete RUN`: deletes an ended run with everything the coordinator stored for it (its
 * checkpoint files and export included; `DELETE /api/runs/:id`); needs the admin token.
 */
export function registerDeleteCommand(program: Command): void {
  registerRunAdminCommand(program, {
    name: 'delete',
    description: 'delete an ended run and everything stored for it (admin token)',
    doing: 'deleting a run',
    send: (client, id, token) => client.deleteRun({ params: { id } }, { token }),
    line: (answer) => `run ${answer.id} deleted`,
  });
}
