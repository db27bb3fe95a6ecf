import type { Command } from 'commander';
import {
  addAdminTokenOptions,
  addCoordinatorOption,
  coordinatorClient,
  explainRunError,
  findAdminToken,
  requireAdminToken,
  type AdminTokenFlags,
  type CoordinatorFlags,
} from '../coordinator-options';
import { parseEnv } from '../env';

/**
 * `chorus delete RUN`: deletes an ended run with everything the coordinator stored for it (its
 * checkpoint files and export included; `DELETE /api/runs/:id`); needs the admin token.
 */
export function registerDeleteCommand(program: Command): void {
  const command = program
    .command('delete')
    .description('delete an ended run and everything stored for it (admin token)')
    .argument('<run>', 'the run id');
  addCoordinatorOption(command);
  addAdminTokenOptions(command).action(async (runId: string, flags: CoordinatorFlags & AdminTokenFlags) => {
    const env = parseEnv();
    const token = requireAdminToken(await findAdminToken(flags, env), 'deleting a run');
    const client = await coordinatorClient(flags, env, token);
    const answer = await client.deleteRun({ params: { id: runId } }, { token }).catch((error: unknown) => {
      throw explainRunError(error, client, runId);
    });
    process.stdout.write(`run ${answer.id} deleted\n`);
  });
}
