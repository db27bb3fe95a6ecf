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

/** `chorus cancel RUN`: cancels a run (its workers stop its members); needs the admin token. */
export function registerCancelCommand(program: Command): void {
  const command = program
    .command('cancel')
    .description('cancel a run (admin token)')
    .argument('<run>', 'the run id');
  addCoordinatorOption(command);
  addAdminTokenOptions(command).action(async (runId: string, flags: CoordinatorFlags & AdminTokenFlags) => {
    const env = parseEnv();
    const token = requireAdminToken(await findAdminToken(flags, env), 'cancelling a run');
    const client = await coordinatorClient(flags, env, token);
    const answer = await client.cancelRun({ params: { id: runId } }, { token }).catch((error: unknown) => {
      throw explainRunError(error, client, runId);
    });
    process.stdout.write(`run ${answer.id} ${answer.status}\n`);
  });
}
