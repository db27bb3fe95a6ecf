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

type Client = Awaited<ReturnType<typeof coordinatorClient>>;

/**
 * A command `chorus NAME RUN` that sends one admin request about a run (`cancel`, `delete`): the
 * coordinator option, the admin token (found as every admin command finds it), a run-specific
 * explanation of a refusal, and one line printed from the answer.
 */
export function registerRunAdminCommand<T>(
  program: Command,
  spec: {
    name: string;
    description: string;
    /** What the token is needed for, in the refusal when none is found ("cancelling a run"). */
    doing: string;
    send: (client: Client, runId: string, token: string) => Promise<T>;
    line: (answer: T) => string;
  },
): void {
  const command = program.command(spec.name).description(spec.description).argument('<run>', 'the run id');
  addCoordinatorOption(command);
  addAdminTokenOptions(command).action(async (runId: string, flags: CoordinatorFlags & AdminTokenFlags) => {
    const env = parseEnv();
    const token = requireAdminToken(await findAdminToken(flags, env), spec.doing);
    const client = await coordinatorClient(flags, env, token);
    const answer = await spec.send(client, runId, token).catch((error: unknown) => {
      throw explainRunError(error, client, runId);
    });
    process.stdout.write(`${spec.line(answer)}\n`);
  });
}
