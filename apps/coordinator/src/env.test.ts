import { describe, expect, it } from 'vitest';
import { parseEnv } from './env';

const token = (c: string) => c.repeat(20);

describe('parseEnv', () => {
  it('gives safe defaults: loopback, port 4000, .chorus, 30 s leases, no tokens (generated later)', () => {
    expect(parseEnv({})).toEqual({
      databaseUrl: undefined,
      workerToken: undefined,
      adminToken: undefined,
      viewerToken: undefined,
      requireAuth: false,
      tls: undefined,
      requireTls: false,
      host: '127.0.0.1',
      port: 4000,
      dataDir: '.chorus',
      leaseMs: 30_000,
      handover: true,
      datasetRoots: undefined,
      datasetMaxBytes: 256 * 1024 * 1024,
      uploadMaxBytes: 4 * 1024 ** 3,
      maxMemberParams: 50_000_000,
      workerRetentionMs: 7 * 24 * 3_600_000,
      rateLimits: { messagesPerSlot: 100, bytesPerSlot: 64 * 1024 * 1024, heartbeatsPerSecond: 2 },
      logLevel: 'info',
      logFormat: undefined,
    });
  });

  it('coerces numbers and reads every variable', () => {
    expect(
      parseEnv({
        DATABASE_URL: 'postgresql://chorus@db:5432/chorus',
        CHORUS_WORKER_TOKEN: token('w'),
        CHORUS_ADMIN_TOKEN: token('a'),
        CHORUS_VIEWER_TOKEN: token('v'),
        CHORUS_REQUIRE_AUTH: 'on',
        CHORUS_TLS_CERT: '/etc/chorus/cert.pem',
        CHORUS_TLS_KEY: '/etc/chorus/key.pem',
        CHORUS_REQUIRE_TLS: '1',
        CHORUS_HOST: '0.0.0.0',
        CHORUS_PORT: '0',
        CHORUS_DATA_DIR: '/var/lib/chorus',
        CHORUS_LEASE_MS: '5000',
        CHORUS_HANDOVER: 'off',
        CHORUS_DATASET_ROOTS: '/srv/datasets:/mnt/more data',
        CHORUS_DATASET_MAX_BYTES: '1000000',
        CHORUS_UPLOAD_MAX_BYTES: '2000000',
        CHORUS_MAX_MEMBER_PARAMS: '2000000',
        CHORUS_WORKER_RETENTION_MS: '3600000',
        CHORUS_RATE_MESSAGES_PER_SLOT: '20',
        CHORUS_RATE_BYTES_PER_SLOT: '1048576',
        CHORUS_RATE_HEARTBEATS: '0.5',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
      }),
    ).toEqual({
      databaseUrl: 'postgresql://chorus@db:5432/chorus',
      workerToken: token('w'),
      adminToken: token('a'),
      viewerToken: token('v'),
      requireAuth: true,
      tls: { certFile: '/etc/chorus/cert.pem', keyFile: '/etc/chorus/key.pem' },
      requireTls: true,
      host: '0.0.0.0',
      port: 0,
      dataDir: '/var/lib/chorus',
      leaseMs: 5000,
      handover: false,
      datasetRoots: ['/srv/datasets', '/mnt/more data'],
      datasetMaxBytes: 1_000_000,
      uploadMaxBytes: 2_000_000,
      maxMemberParams: 2_000_000,
      workerRetentionMs: 3_600_000,
      rateLimits: { messagesPerSlot: 20, bytesPerSlot: 1_048_576, heartbeatsPerSecond: 0.5 },
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('treats blank values as unset', () => {
    expect(
      parseEnv({
        DATABASE_URL: ' ',
        CHORUS_WORKER_TOKEN: '',
        CHORUS_PORT: '',
        LOG_LEVEL: '',
        LOG_FORMAT: '',
      }),
    ).toMatchObject({
      databaseUrl: undefined,
      workerToken: undefined,
      port: 4000,
      logLevel: 'info',
      logFormat: undefined,
    });
  });

  it('refuses a viewer token equal to another, and a TLS certificate without its key', () => {
    expect(() => parseEnv({ CHORUS_ADMIN_TOKEN: token('a'), CHORUS_VIEWER_TOKEN: token('a') })).toThrow(
      /CHORUS_VIEWER_TOKEN: must differ/,
    );
    expect(() => parseEnv({ CHORUS_TLS_CERT: '/c.pem' })).toThrow(/CHORUS_TLS_KEY: TLS needs both/);
    expect(() => parseEnv({ CHORUS_REQUIRE_TLS: 'maybe' })).toThrow(/CHORUS_REQUIRE_TLS/);
  });

  it('lists every bad variable', () => {
    const parse = () =>
      parseEnv({
        DATABASE_URL: 'mysql://x@y/z',
        CHORUS_PORT: '70000',
        CHORUS_LEASE_MS: 'soon',
        CHORUS_WORKER_TOKEN: 'short',
        LOG_LEVEL: 'loud',
        CHORUS_HANDOVER: 'maybe',
        LOG_FORMAT: 'fancy',
        CHORUS_MAX_MEMBER_PARAMS: '0',
        CHORUS_RATE_MESSAGES_PER_SLOT: '-1',
      });
    expect(parse).toThrow(/DATABASE_URL: must be a postgresql/);
    expect(parse).toThrow(/CHORUS_PORT/);
    expect(parse).toThrow(/CHORUS_LEASE_MS/);
    expect(parse).toThrow(/CHORUS_WORKER_TOKEN must be at least 16 characters/);
    expect(parse).toThrow(/LOG_LEVEL/);
    expect(parse).toThrow(/CHORUS_HANDOVER/);
    expect(parse).toThrow(/LOG_FORMAT/);
    expect(parse).toThrow(/CHORUS_MAX_MEMBER_PARAMS/);
    expect(parse).toThrow(/CHORUS_RATE_MESSAGES_PER_SLOT/);
  });

  it('refuses the same token for workers and admins', () => {
    expect(() => parseEnv({ CHORUS_WORKER_TOKEN: token('x'), CHORUS_ADMIN_TOKEN: token('x') })).toThrow(
      /CHORUS_ADMIN_TOKEN: must differ from CHORUS_WORKER_TOKEN/,
    );
  });
});
