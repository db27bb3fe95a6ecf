import { describe, expect, it } from 'vitest';
import { ChorusError } from '@chorus/protocol';
import { childWorkerEnv, parseEnv, resolveWorkerSettings } from './env';

describe('parseEnv', () => {
  it('reads every variable, coercing numbers', () => {
    expect(
      parseEnv({
        CHORUS_COORDINATOR_URL: 'http://gpu-box:4000',
        CHORUS_WORKER_TOKEN: 's3cret',
        CHORUS_BACKEND: 'tensorflow',
        CHORUS_GPU: '1',
        CHORUS_SLOTS: '2',
        CHORUS_WORKER_NAME: 'box-1',
        CHORUS_CACHE_DIR: '/var/cache/chorus',
        CHORUS_RECONNECT_MAX_MS: '60000',
        CHORUS_CA: '/etc/chorus/ca.pem',
        CHORUS_METRICS_PORT: '9400',
        CHORUS_HEALTH_PORT: '9401',
        CHORUS_METRICS_HOST: '0.0.0.0',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        CHORUS_WEBGPU_ALLOW_SOFTWARE: '1',
        UNRELATED: 'x',
      }),
    ).toEqual({
      allowSoftwareGpu: true,
      coordinatorUrl: 'http://gpu-box:4000',
      token: 's3cret',
      backend: 'tensorflow',
      gpu: 1,
      slots: 2,
      name: 'box-1',
      cacheDir: '/var/cache/chorus',
      reconnectMaxMs: 60_000,
      caFile: '/etc/chorus/ca.pem',
      metricsPort: 9400,
      healthPort: 9401,
      metricsHost: '0.0.0.0',
      logLevel: 'debug',
      logFormat: 'json',
    });
  });

  it('treats blank values as unset', () => {
    expect(parseEnv({ CHORUS_GPU: '', CHORUS_WORKER_TOKEN: '  ', CHORUS_SLOTS: '' })).toEqual({});
  });

  it('names every bad variable', () => {
    const parse = () =>
      parseEnv({
        CHORUS_GPU: '-1',
        CHORUS_SLOTS: '1.5',
        CHORUS_BACKEND: 'cuda',
        CHORUS_COORDINATOR_URL: 'host:4000',
        LOG_FORMAT: 'fancy',
        CHORUS_RECONNECT_MAX_MS: '50',
        CHORUS_METRICS_PORT: '70000',
      });
    expect(parse).toThrow(ChorusError);
    expect(parse).toThrow(/CHORUS_RECONNECT_MAX_MS: must be ≥ 1000/);
    expect(parse).toThrow(/CHORUS_GPU[\s\S]*CHORUS_SLOTS|CHORUS_SLOTS[\s\S]*CHORUS_GPU/);
    expect(parse).toThrow(/CHORUS_BACKEND/);
    expect(parse).toThrow(/CHORUS_COORDINATOR_URL: must be a URL/);
    expect(parse).toThrow(/LOG_FORMAT/);
    expect(parse).toThrow(/CHORUS_METRICS_PORT: must be ≤ 65535/);
  });
});

describe('resolveWorkerSettings', () => {
  const env = parseEnv({
    CHORUS_COORDINATOR_URL: 'http://env-host:4000/',
    CHORUS_WORKER_TOKEN: 'env-token',
    CHORUS_BACKEND: 'wasm',
    CHORUS_SLOTS: '3',
  });

  it('lets flags win over the environment', () => {
    const s = resolveWorkerSettings(
      {
        coordinator: 'http://flag-host:4000',
        token: 'flag-token',
        backend: 'cpu',
        slots: '1',
        cacheDir: 'c',
      },
      env,
    );
    expect(s).toMatchObject({
      coordinatorUrl: 'http://flag-host:4000',
      token: 'flag-token',
      backend: 'cpu',
      slots: 1,
      cacheDir: 'c',
    });
  });

  it('falls back to the environment, then to defaults', () => {
    expect(resolveWorkerSettings({}, env)).toEqual({
      coordinatorUrl: 'http://env-host:4000',
      token: 'env-token',
      backend: 'wasm',
      allowSoftwareGpu: false,
      slots: 3,
      cacheDir: '.chorus/cache',
      metricsHost: '127.0.0.1',
      logLevel: 'info',
    });
    expect(resolveWorkerSettings({ coordinator: 'http://h:1', token: 't' }, {})).toMatchObject({
      backend: 'auto',
      slots: 1,
    });
  });

  it('carries the reconnect cap from the environment', () => {
    expect(resolveWorkerSettings({}, { ...env, reconnectMaxMs: 5_000 }).reconnectMaxMs).toBe(5_000);
  });

  it('takes the CA from --ca, else CHORUS_CA', () => {
    expect(resolveWorkerSettings({ ca: 'flag.pem' }, { ...env, caFile: 'env.pem' }).caFile).toBe('flag.pem');
    expect(resolveWorkerSettings({}, { ...env, caFile: 'env.pem' }).caFile).toBe('env.pem');
    expect(resolveWorkerSettings({}, env).caFile).toBeUndefined();
  });

  it('serves metrics and health only when asked, on loopback unless told; flags win', () => {
    expect(resolveWorkerSettings({}, env)).not.toHaveProperty('metricsPort');
    expect(resolveWorkerSettings({}, env)).not.toHaveProperty('healthPort');
    const withEnv = { ...env, metricsPort: 9400, healthPort: 9401, metricsHost: '0.0.0.0' };
    expect(resolveWorkerSettings({}, withEnv)).toMatchObject({
      metricsPort: 9400,
      healthPort: 9401,
      metricsHost: '0.0.0.0',
    });
    expect(
      resolveWorkerSettings({ metricsPort: '9500', healthPort: '9500', metricsHost: '10.0.0.5' }, withEnv),
    ).toMatchObject({ metricsPort: 9500, healthPort: 9500, metricsHost: '10.0.0.5' });
    expect(() => resolveWorkerSettings({ healthPort: 'x' }, env)).toThrow(
      /--health-port: must be a whole number|--health-port/,
    );
  });

  it('makes a missing token a clear error', () => {
    expect(() => resolveWorkerSettings({ coordinator: 'http://h:4000' }, {})).toThrow(
      /no worker token: pass --token or set CHORUS_WORKER_TOKEN/,
    );
  });

  it('requires a coordinator URL', () => {
    expect(() => resolveWorkerSettings({ token: 't' }, {})).toThrow(/--coordinator .*CHORUS_COORDINATOR_URL/);
  });

  it('rejects bad flags by their flag name', () => {
    expect(() => resolveWorkerSettings({ slots: '0' }, env)).toThrow(/--slots: must be ≥ 1/);
    expect(() => resolveWorkerSettings({ cacheDir: '' }, env)).not.toThrow(); // blank = not given
    expect(() => resolveWorkerSettings({ logFormat: 'fancy' }, env)).toThrow(/--log-format/);
  });

  it('takes --log-format over LOG_FORMAT, and leaves it unset for the terminal to decide', () => {
    expect(resolveWorkerSettings({ logFormat: 'pretty' }, { ...env, logFormat: 'json' }).logFormat).toBe(
      'pretty',
    );
    expect(resolveWorkerSettings({}, { ...env, logFormat: 'json' }).logFormat).toBe('json');
    expect(resolveWorkerSettings({}, env).logFormat).toBeUndefined();
  });

  it('refuses --gpu with a backend that has no GPU', () => {
    expect(() => resolveWorkerSettings({ gpu: '0', backend: 'wasm' }, env)).toThrow(
      /tensorflow or webgpu backend/,
    );
    expect(resolveWorkerSettings({ gpu: '1', backend: 'tensorflow' }, env).gpu).toBe(1);
    expect(resolveWorkerSettings({ gpu: '2', backend: 'webgpu' }, env).gpu).toBe(2);
    expect(resolveWorkerSettings({ gpu: '0', backend: 'auto' }, env).gpu).toBe(0);
  });

  it('takes --gpus with a GPU backend, never beside --gpu', () => {
    expect(resolveWorkerSettings({ gpus: 'all', backend: 'webgpu' }, env).gpus).toBe('all');
    expect(resolveWorkerSettings({ gpus: '0,2', backend: 'tensorflow' }, env).gpus).toBe('0,2');
    expect(() => resolveWorkerSettings({ gpus: 'all', backend: 'cpu' }, env)).toThrow(
      /--gpus .*--backend cpu/,
    );
    expect(() => resolveWorkerSettings({ gpus: 'all', gpu: '1', backend: 'webgpu' }, env)).toThrow(
      /leave out --gpu/,
    );
    expect(resolveWorkerSettings({}, { ...env, allowSoftwareGpu: true }).allowSoftwareGpu).toBe(true);
  });

  it('hands a --gpus child its GPU, name and settings through the environment', () => {
    const settings = resolveWorkerSettings({ gpus: 'all', backend: 'webgpu', token: 'tok' }, env);
    const child = childWorkerEnv(settings, 2, 'box-gpu2');
    expect(child).toMatchObject({
      CHORUS_COORDINATOR_URL: 'http://env-host:4000',
      CHORUS_WORKER_TOKEN: 'tok',
      CHORUS_BACKEND: 'webgpu',
      CHORUS_GPU: '2',
      CHORUS_WORKER_NAME: 'box-gpu2',
      CHORUS_SLOTS: '3',
      CHORUS_WEBGPU_ALLOW_SOFTWARE: '0',
    });
    // The child's own settings are those of its environment, pinned to its GPU.
    expect(resolveWorkerSettings({}, parseEnv(child))).toMatchObject({
      backend: 'webgpu',
      gpu: 2,
      name: 'box-gpu2',
    });
  });
});
