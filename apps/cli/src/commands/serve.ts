import { Option, type Command } from 'commander';
import { ChorusError, MAX_PREDICT_ROWS, MIN_TOKEN_LENGTH } from '@chorus/protocol';
import { parseEnv } from '../env';
import { parsePort } from './dashboard';

interface ServeFlags {
  ensemble: string;
  host: string;
  port: string;
  token?: string;
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  maxRows: string;
}

/** The port `chorus serve` listens on unless told. */
export const DEFAULT_SERVE_PORT = 5000;

/**
 * `chorus serve --ensemble DIR`: an exported ensemble over HTTP (README "Serve an ensemble"). The
 * export is read and verified once, before the server listens; requests are batched.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve an exported ensemble over HTTP: POST /predict, GET /ensemble, GET /health')
    .requiredOption('--ensemble <dir>', 'the export directory (chorus export, chorus train --save)')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', String(DEFAULT_SERVE_PORT))
    .option(
      '--token <token>',
      `require "Authorization: Bearer <token>" (env CHORUS_SERVE_TOKEN; ≥ ${MIN_TOKEN_LENGTH} characters)`,
    )
    .option('--max-rows <n>', 'most rows one request may carry (more: 413)', String(MAX_PREDICT_ROWS))
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .action(async (flags: ServeFlags) => {
      const env = parseEnv();
      const port = parsePort(flags.port, '--port');
      const maxRows = Number(flags.maxRows);
      if (!Number.isInteger(maxRows) || maxRows < 1) {
        throw new ChorusError('invalid-input', `--max-rows must be a positive integer, got ${flags.maxRows}`);
      }
      const token = flags.token ?? env.CHORUS_SERVE_TOKEN;
      if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
        throw new ChorusError(
          'invalid-input',
          `the serve token must be at least ${MIN_TOKEN_LENGTH} characters`,
        );
      }
      const log = (line: string) => process.stderr.write(`chorus serve: ${line}\n`);
      // Loaded here, not at the CLI's start: the other commands never pay for TensorFlow.js.
      const [{ readEnsembleExport, selectBackend }, { createServeServer }, { servedModelOf }] =
        await Promise.all([
          import('@chorus/models'),
          import('../serve/serve-server'),
          import('../serve/served-model'),
        ]);
      const backend = await selectBackend(flags.backend);
      const ensemble = await readEnsembleExport(flags.ensemble);
      const model = servedModelOf(ensemble);
      const app = await createServeServer({ model, maxRows, ...(token !== undefined && { token }) });
      const address = await app.listen({ host: flags.host, port });
      const { manifest } = ensemble;
      log(
        `${manifest.members.length} × ${manifest.config.model} on ${manifest.dataset.name} (run ${manifest.runId}), ` +
          `backend ${backend.backend}, default strategy ${manifest.defaultStrategy}`,
      );
      log(
        `serving on ${address}${token !== undefined ? ' (token required)' : ''} — POST /predict, GET /ensemble, GET /health; Ctrl-C to stop`,
      );
      const stop = () =>
        void app.close().then(() => {
          ensemble.dispose();
          process.exit(0);
        });
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
