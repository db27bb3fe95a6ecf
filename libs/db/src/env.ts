/**
 * The environment libs/db reads, for its test helpers only: apps parse DATABASE_URL in their own
 * env.ts and pass it to resolveDatabase.
 */
export interface DbTestEnv {
  /** A server the tests may create (and drop) databases on. */
  databaseUrl: string | undefined;
}

export function parseDbTestEnv(source: Record<string, string | undefined>): DbTestEnv {
  const url = source.DATABASE_URL?.trim();
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    throw new Error('DATABASE_URL must be a postgresql:// connection string');
  }
  return { databaseUrl: url || undefined };
}

export function readDbTestEnv(): DbTestEnv {
  return parseDbTestEnv(process.env);
}
