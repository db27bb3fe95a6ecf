import type { Command } from 'commander';
import { ChorusError } from '@chorus/protocol';
import { parseEnv } from '../env';
import { DEFAULT_DATA_DIR, readTokensFile } from '../tokens-file';

/** `chorus tokens`: the worker, admin and viewer tokens a coordinator on this machine generated. */
export function registerTokensCommand(program: Command): void {
  program
    .command('tokens')
    .description(
      "print the worker, admin and viewer tokens of a coordinator on this machine (from its data dir's tokens.json)",
    )
    .option(
      '--data-dir <dir>',
      `the coordinator's data dir (env CHORUS_DATA_DIR; default ${DEFAULT_DATA_DIR})`,
    )
    .option('--json', 'print {"workerToken","adminToken","viewerToken"}')
    .action(async (flags: { dataDir?: string; json?: boolean }) => {
      const dataDir = flags.dataDir ?? parseEnv().CHORUS_DATA_DIR ?? DEFAULT_DATA_DIR;
      const tokens = await readTokensFile(dataDir);
      if (tokens === undefined) {
        throw new ChorusError(
          'not-found',
          `no tokens in ${dataDir}: a coordinator started with --data-dir ${dataDir} generates them on its first ` +
            'start, unless CHORUS_WORKER_TOKEN and CHORUS_ADMIN_TOKEN chose them',
        );
      }
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ workerToken: tokens.workerToken, adminToken: tokens.adminToken, viewerToken: tokens.viewerToken })}\n`,
        );
        return;
      }
      process.stdout.write(
        [
          `worker token  ${tokens.workerToken}`,
          `admin token   ${tokens.adminToken}`,
          `viewer token  ${tokens.viewerToken ?? '(none yet: the coordinator adds one at its next start)'}`,
          '',
          `From ${tokens.file}; keep them private.`,
          'Workers: npx chorus worker --coordinator URL, with CHORUS_WORKER_TOKEN=<worker token> (or --token).',
          "Admin: chorus run --token, and the dashboard's New run and Cancel.",
          'Viewer: reads only (chorus runs/workers/logs with CHORUS_VIEWER_TOKEN, chorus dashboard).',
        ].join('\n') + '\n',
      );
    });
}
