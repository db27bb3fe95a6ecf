import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { ChorusError } from '@chorus/protocol';

/**
 * Trusting a private CA (`--ca FILE`, CHORUS_CA) on every connection a client makes to the
 * coordinator: its HTTP requests (fetch with an undici Agent as dispatcher: Node's fetch takes no
 * `ca` of its own) and its socket.io connection (engine.io hands `ca` to its WebSocket). Without a
 * CA, the system's trusted certificates are used; a self-signed coordinator is then refused.
 * README "Operating Chorus", "TLS".
 */
export interface TlsTrust {
  /** PEM: the CA certificate(s) that signed the coordinator's certificate. */
  ca: string;
  /** For fetch: `{ ...init, ...tls.fetchInit }`. */
  fetchInit: RequestInit;
}

/** Reads `--ca FILE` (PEM); a missing file or one without a certificate is an error naming it. */
export function readTlsTrust(file: string): TlsTrust {
  let ca: string;
  try {
    ca = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ChorusError('invalid-input', `--ca ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ChorusError(
      'invalid-input',
      `--ca ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return tlsTrustOf(ca);
}

export function tlsTrustOf(ca: string): TlsTrust {
  const dispatcher = new Agent({ connect: { ca } });
  // undici's Agent is the dispatcher Node's own fetch (undici inside) takes; their type
  // declarations are two copies that TypeScript cannot compare, hence Object.assign.
  const fetchInit: RequestInit = {};
  Object.assign(fetchInit, { dispatcher });
  return { ca, fetchInit };
}
