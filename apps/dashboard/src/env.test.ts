import { describe, expect, it } from 'vitest';
import { parseEnv } from './env';

describe('dashboard parseEnv', () => {
  it('needs a postgres DATABASE_URL and defaults the coordinator to loopback', () => {
    expect(parseEnv({ DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db' })).toEqual({
      databaseUrl: 'postgresql://u@127.0.0.1:5432/db',
      coordinatorUrl: 'http://127.0.0.1:4000',
      publicCoordinatorUrl: 'http://127.0.0.1:4000',
    });
    expect(() => parseEnv({})).toThrow(/DATABASE_URL is required/);
    expect(() => parseEnv({ DATABASE_URL: 'mysql://x' })).toThrow(/postgresql:\/\//);
  });

  it('takes the viewer token (never a short one)', () => {
    const viewerToken = 'v'.repeat(43);
    expect(parseEnv({ DATABASE_URL: 'postgres://db', CHORUS_VIEWER_TOKEN: viewerToken }).viewerToken).toBe(
      viewerToken,
    );
    expect(() => parseEnv({ DATABASE_URL: 'postgres://db', CHORUS_VIEWER_TOKEN: 'short' })).toThrow(
      /CHORUS_VIEWER_TOKEN must be at least 16 characters/,
    );
  });

  it('keeps a separate public coordinator URL and strips trailing slashes', () => {
    const env = parseEnv({
      DATABASE_URL: 'postgres://db',
      CHORUS_COORDINATOR_URL: 'http://10.0.0.2:4000/',
      CHORUS_PUBLIC_COORDINATOR_URL: 'https://chorus.example/',
    });
    expect(env.coordinatorUrl).toBe('http://10.0.0.2:4000');
    expect(env.publicCoordinatorUrl).toBe('https://chorus.example');
    expect(() => parseEnv({ DATABASE_URL: 'postgres://db', CHORUS_COORDINATOR_URL: 'not a url' })).toThrow(
      /CHORUS_COORDINATOR_URL/,
    );
  });
});
