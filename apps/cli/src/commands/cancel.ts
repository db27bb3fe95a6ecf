import type { Command } from 'commander';
import { registerRunAdminCommand } from './run-admin-command';

/** `chorus cancel RUN`: cancels a run (its workers stop its members); needs the admin token. */
export function registerCancelCommand(program: Command): void {
  registerRunAdminCommand(program, {
    name: 'cancel',
    description: 'cancel a run (admin token)',
    doing: 'cancelling a run',
    send: (client, id, token) => client.cancelRun({ params: { id } }, { token }),
    line: (answer) => `run ${answer.id} ${answer.status}`,
  });
}
