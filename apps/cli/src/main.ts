import { Command } from 'commander';
import { isDatasetError } from '@chorus/data';
import { isModelError } from '@chorus/models';
import { CHORUS_VERSION, ChorusError, RunConfigError } from '@chorus/protocol';
import { registerCoordinatorCommand } from './commands/coordinator';
import { registerCancelCommand } from './commands/cancel';
import { registerDeleteCommand } from './commands/delete';
import { registerDashboardCommand } from './commands/dashboard';
import { registerDatasetsCommand } from './commands/datasets';
import { registerDemoCommand } from './commands/demo';
import { registerExportCommand } from './commands/export';
import { registerLogsCommand } from './commands/logs';
import { registerModelsCommand } from './commands/models';
import { registerPredictCommand } from './commands/predict';
import { registerRunCommand } from './commands/run';
import { registerRunsCommand } from './commands/runs';
import { registerServeCommand } from './commands/serve';
import { registerTokensCommand } from './commands/tokens';
import { registerTrainCommand } from './commands/train';
import { registerWorkerCommand } from './commands/worker';
import { registerWorkersCommand } from './commands/workers';

/** The version of the `chorus` package (libs/protocol's CHORUS_VERSION, tested equal to the root package.json's). */
const version = CHORUS_VERSION;

const program = new Command()
  .name('chorus')
  .description('Distributed ensemble training with live voting and diversity')
  .version(version, '-V, --version', 'print the version')
  .showHelpAfterError('Run "chorus --help" for the commands.')
  .configureOutput({ outputError: (text, write) => write(text) });

registerModelsCommand(program);
registerDatasetsCommand(program);
registerTrainCommand(program);
registerPredictCommand(program);
registerCoordinatorCommand(program);
registerWorkerCommand(program);
registerRunCommand(program);
registerRunsCommand(program);
registerWorkersCommand(program);
registerLogsCommand(program);
registerCancelCommand(program);
registerDeleteCommand(program);
registerExportCommand(program);
registerDemoCommand(program);
registerDashboardCommand(program);
registerTokensCommand(program);
registerServeCommand(program);
// A mistake is answered with the error and where the help is, not with the whole help.
for (const command of program.commands) {
  command.showHelpAfterError(`Run "chorus ${command.name()} --help" for its options.`);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Errors we raise carry a message a user can act on; anything else gets its stack.
  if (error instanceof ChorusError || error instanceof RunConfigError || isUserError(error)) {
    process.stderr.write(`chorus: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(
      `chorus: unexpected error\n${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
  process.exitCode = 1;
}

/** Errors of the libs that describe bad input or a missing dataset/backend, not a bug. */
function isUserError(error: unknown): boolean {
  return isDatasetError(error) || isModelError(error);
}
