import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ChorusError, isLoopbackHost } from '@chorus/protocol';

/** What the bind address and the TLS options decide (README "Operating Chorus"). */
export interface TransportSecurity {
  /** The certificate and key to serve HTTPS with, read once at start. */
  tls: { cert: Buffer; key: Buffer } | undefined;
  /** Whether reads need a token: bound beyond loopback (the BIND address decides), or asked for. */
  authRequired: boolean;
}

/**
 * Reads the certificate and key; bound beyond loopback without them, refuses to start when TLS is
 * required and otherwise warns, naming the risk.
 */
export function resolveTransportSecurity(options: {
  host: string;
  tls?: { certFile: string; keyFile: string } | undefined;
  requireTls?: boolean | undefined;
  requireAuth?: boolean | undefined;
  logger: Logger;
}): TransportSecurity {
  const { host } = options;
  const exposed = !isLoopbackHost(host);
  const tls = options.tls && readTlsFiles(options.tls);
  if (exposed && !tls) {
    if (options.requireTls) {
      throw new ChorusError(
        'invalid-input',
        `refusing to listen on ${host} without TLS (--require-tls): pass --tls-cert and --tls-key, or bind 127.0.0.1`,
      );
    }
    options.logger.warn(
      { host },
      `listening on ${host} without TLS: tokens, run configs and results cross the network in clear text, ` +
        'readable and replayable by anyone on the path. Pass --tls-cert/--tls-key (README "Operating Chorus", "TLS")',
    );
  }
  return { tls, authRequired: exposed || options.requireAuth === true };
}

/** The certificate and key; a file that cannot be read is an error naming it and its flag. */
function readTlsFiles(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new ChorusError('invalid-input', `${flag} ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  return { cert: read(files.certFile, '--tls-cert'), key: read(files.keyFile, '--tls-key') };
}
