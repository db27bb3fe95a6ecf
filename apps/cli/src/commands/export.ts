import { createHash } from 'node:crypto';
import { Option, type Command } from 'commander';
import {
  checkExportTarget,
  disposeModel,
  modelsFromCheckpoints,
  selectBackend,
  writeEnsembleExport,
  type BackendName,
} from '@chorus/models';
import { ChorusError } from '@chorus/protocol';
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
import { plural } from '../wording';

interface ExportFlags extends CoordinatorFlags, AdminTokenFlags {
  run: string;
  out: string;
  backend: 'auto' | BackendName;
}

/**
 * `chorus export`: a completed run of a coordinator as an export directory, the same as
 * `chorus train --save` writes (README "Take the ensemble away"). The coordinator holds no
 * TensorFlow.js: it answers the manifest's parts and each member's final checkpoint, and this
 * command rebuilds the members from them and writes the TF.js layers files.
 */
export function registerExportCommand(program: Command): void {
  const command = program
    .command('export')
    .description("export a completed run's ensemble from a coordinator (admin token)")
    .requiredOption('--run <id>', 'the run id')
    .requiredOption('--out <dir>', 'a new or empty directory to write the ensemble into')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    );
  addCoordinatorOption(command);
  addAdminTokenOptions(command).action(async (flags: ExportFlags) => {
    const env = parseEnv();
    const token = requireAdminToken(await findAdminToken(flags, env), 'exporting a run');
    const client = await coordinatorClient(flags, env, token);
    await checkExportTarget(flags.out);
    const source = await client
      .getRunExport({ params: { id: flags.run } }, { token })
      .catch((error: unknown) => {
        throw explainRunError(error, client, flags.run);
      });
    const checkpoints: Uint8Array[] = [];
    for (const member of source.members) {
      const { bytes } = await client.getRunExportMember(
        { params: { id: flags.run, index: member.index } },
        { token },
      );
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== member.sha256) {
        throw new ChorusError(
          'invalid-input',
          `member ${member.index}'s checkpoint arrived with sha256 ${sha256}, the coordinator listed ${member.sha256}: try again`,
        );
      }
      checkpoints.push(bytes);
    }
    await selectBackend(flags.backend);
    const { inputShape, numClasses } = source.dataset;
    const models = await modelsFromCheckpoints(source.config, { inputShape, numClasses }, checkpoints);
    try {
      const manifest = await writeEnsembleExport(flags.out, {
        runId: source.runId,
        config: source.config,
        dataset: source.dataset,
        result: source.result,
        combiners: source.combiners,
        models,
      });
      process.stderr.write(
        `exported run ${manifest.runId} (${plural(manifest.members.length, 'member')}) to ${flags.out}\n`,
      );
    } finally {
      models.forEach(disposeModel);
    }
  });
}
