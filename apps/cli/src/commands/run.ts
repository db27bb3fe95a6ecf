import type { Command } from 'commander';
import { createHttpClient } from '@chorus/protocol';
import { followAndPrintRun, launchRun } from '../coordinator-client';
import { parseEnv } from '../env';
import { DEFAULT_DATA_DIR, readTokensFile } from '../tokens-file';
import { addRunConfigOptions, runConfigFromFlags, type RunConfigFlags } from '../run-config-options';

interface RunFlags extends RunConfigFlags {
  coordinator?: string;
  token?: string;
  dataDir?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description('launch a run on a coordinator (the same run config as `chorus train`) and optionally wait for it');
  addRunConfigOptions(command)
    .option('--coordinator <url>', 'coordinator URL (env CHORUS_COORDINATOR_URL; default http://127.0.0.1:4000)')
    .option('--token <admin-token>', "admin token (env CHORUS_ADMIN_TOKEN; else the local coordinator's tokens.json)")
    .option('--data-dir <dir>', 'data dir of a local coordinator, to read its tokens.json (default .chorus)')
    .option('--wait', 'follow the run until it ends and print its result')
    .option('--json', 'print JSON: {"runId"} at once, or with --wait the result of `chorus train --json` plus "runId"')
    .action(async (flags: RunFlags) => {
      const env = parseEnv();
      const cfg = await runConfigFromFlags(flags);
      const baseUrl = flags.coordinator ?? env.CHORUS_COORDINATOR_URL ?? 'http://127.0.0.1:4000';
      const token =
        flags.token ??
        env.CHORUS_ADMIN_TOKEN ??
        (await readTokensFile(flags.dataDir ?? env.CHORUS_DATA_DIR ?? DEFAULT_DATA_DIR))?.adminToken;
      const client = createHttpClient({ baseUrl });
      const runId = await launchRun(client, token, cfg);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      log(`chorus run: launched ${runId} on ${baseUrl} (${cfg.members} × ${cfg.model} on ${cfg.dataset})`);
      if (!flags.wait) {
        process.stdout.write(flags.json ? `${JSON.stringify({ runId })}\n` : `${runId}\n`);
        return;
      }
      await followAndPrintRun(client, runId, { json: Boolean(flags.json), log });
    });
}
