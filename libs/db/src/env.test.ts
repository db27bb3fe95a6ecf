import { describe, expect, it } from 'vitest';
import { parseDbTestEnv } from './env';

describe('parseDbTestEnv', () => {
  it('reads DATABASE_URL, treating blank as unset', () => {
    expect(parseDbTestEnv({ DATABASE_URL: 'postgresql://u@h:5432/d' })).toEqual({
      databaseUrl: 'postgresql://u@h:5432/d',
    });
    expect(parseDbTestEnv({ DATABASE_URL: '  ' })).toEqual({ databaseUrl: undefined });
    expect(parseDbTestEnv({})).toEqual({ databaseUrl: undefined });
  });

  it('rejects a URL that is not Postgres', () => {
    expect(() => parseDbTestEnv({ DATABASE_URL: 'mysql://u@h/d' })).toThrow(/postgresql:\/\//);
  });
});
