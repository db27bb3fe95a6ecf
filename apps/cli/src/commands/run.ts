import { modelLabel } from '@chorus/protocol';
import type { Command } from 'commander';
import { followAndPrintRun, launchRun } from '../coordinator-client';
import {
  addAdminTokenOptions,
  addCoordinatorOption,
  coordinatorClient,
  DEFAULT_DASHBOARD_URL,
  findAdminToken,
  requireAdminToken,
  runPageUrl,
  type AdminTokenFlags,
  type CoordinatorFlags,
} from '../coordinator-options';
import { isFileDatasetKind } from '@chorus/protocol';
import { uploadModelWeights, uploadOwnDataset } from '../dataset-upload';
import { parseEnv } from '../env';
import { loadProgressLogger } from '../load-progress';
import {
  addRunConfigOptions,
  checkMemberParams,
  runConfigAndWeightsFromFlags,
  type RunConfigFlags,
} from '../run-config-options';

interface RunFlags extends RunConfigFlags, CoordinatorFlags, AdminTokenFlags {
  dashboardUrl?: string;
  wait?: boolean;
  json?: boolean;
}

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description(
      'launch a run on a coordinator (the same run config as `chorus train`) and optionally wait for it',
    );
  addRunConfigOptions(command);
  addCoordinatorOption(command);
  addAdminTokenOptions(command)
    .option(
      '--dashboard-url <url>',
      `the dashboard's address, for the run's page (env CHORUS_DASHBOARD_URL; default ${DEFAULT_DASHBOARD_URL})`,
    )
    .option('--wait', 'follow the run until it ends (live progress) and print its result')
    .option(
      '--json',
      'print JSON: {"runId"} at once, or with --wait the result of `chorus train --json` plus "runId"',
    )
    .action(async (flags: RunFlags) => {
      const env = parseEnv();
      const { config: cfg, weights } = await runConfigAndWeightsFromFlags(flags);
      checkMemberParams(cfg, flags);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const token = await findAdminToken(flags, env);
      const client = await coordinatorClient(flags, env, token);
      // A csv/npy/images dataset lives on this machine: loaded here, uploaded once, named by its bundle.
      const own = isFileDatasetKind(cfg.dataset)
        ? await uploadOwnDataset(client, requireAdminToken(token, 'uploading a dataset'), cfg, {
            onLoadProgress: loadProgressLogger(log),
            check: (dataset) => checkMemberParams(cfg, flags, dataset),
            log: (line) => log(`chorus run: ${line}`),
          })
        : null;
      // A model.json's weights: uploaded once, named in the config by their sha256.
      if (weights !== null) {
        await uploadModelWeights(
          client,
          requireAdminToken(token, 'uploading model weights'),
          cfg,
          weights,
          (line) => log(`chorus run: ${line}`),
        );
      }
      const runId = await launchRun(client, token, own?.config ?? cfg);
      log(
        `chorus run: launched ${runId} on ${client.baseUrl} (${cfg.members} × ${modelLabel(cfg)} on ${cfg.dataset})`,
      );
      // The coordinator does not know where its dashboard is served: the default of `chorus dashboard`.
      log(
        `chorus run: dashboard ${runPageUrl(flags.dashboardUrl ?? env.CHORUS_DASHBOARD_URL ?? DEFAULT_DASHBOARD_URL, runId)}`,
      );
      if (!flags.wait) {
        process.stdout.write(flags.json ? `${JSON.stringify({ runId })}\n` : `${runId}\n`);
        return;
      }
      await followAndPrintRun(client, runId, { json: Boolean(flags.json), log });
    });
}
