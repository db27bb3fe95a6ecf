#!/usr/bin/env node
/* global process, console, URL */
// Authors the next migration offline: `node libs/db/scripts/new-migration.mjs <name>`.
//
// Prisma 7's `migrate` needs a native schema engine that cannot be downloaded here. Prisma 6.19.3's
// CLI runs its schema engine as wasm when its config names a driver adapter (`engine: 'js'`), so
// this script installs prisma@6.19.3 + @prisma/adapter-pg@6.19.3 in a scratch directory outside
// the repository (never committed), and diffs the schema of the last committed migration (from git)
// against prisma/schema.prisma:
//   prisma migrate diff --from-schema-datamodel old.prisma --to-schema-datamodel new.prisma --script
// (`--from-empty` for the first migration). The result goes to
// prisma/migrations/<UTC yyyymmddhhmmss>_<name>/migration.sql. Review it, then run
// `npx vitest run libs/db`: the tests apply every migration to fresh databases and use every model.
//
// Options: --from-schema <file> (the schema the last migration was made from, instead of git's),
// --scratch <dir> (default: <tmp>/chorus-prisma6), --database-url <url> (a reachable
// Postgres the wasm engine connects to; nothing is written to it; default postgresql://postgres@127.0.0.1:5432/postgres).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PRISMA6 = '6.19.3';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const option = (flag, fallback) => {
  const i = args.indexOf(flag);
  if (i === -1) return fallback;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const scratch = resolve(option('--scratch', join(tmpdir(), 'chorus-prisma6')));
const databaseUrl = new URL(option('--database-url', 'postgresql://postgres@127.0.0.1:5432/postgres'));
const fromSchema = option('--from-schema', undefined);
const name = args[0];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: node libs/db/scripts/new-migration.mjs <name: lowercase letters, digits, _>');
  process.exit(2);
}

// 1. Prisma 6.19.3 in the scratch directory.
mkdirSync(scratch, { recursive: true });
const installed = join(scratch, 'node_modules', 'prisma', 'package.json');
if (!existsSync(installed) || JSON.parse(readFileSync(installed, 'utf8')).version !== PRISMA6) {
  if (!existsSync(join(scratch, 'package.json')))
    writeFileSync(join(scratch, 'package.json'), '{ "private": true }\n');
  console.log(`installing prisma@${PRISMA6} in ${scratch}`);
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', `prisma@${PRISMA6}`, `@prisma/adapter-pg@${PRISMA6}`, 'pg@8'],
    { cwd: scratch, stdio: 'inherit' },
  );
}

// 2. Its config: the wasm schema engine through adapter-pg. Host, port, user and database are passed
//    separately: with a connectionString adapter-pg 6.19 would use the main database as the shadow one.
writeFileSync(
  join(scratch, 'prisma.config.ts'),
  `import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'new.prisma',
  adapter: async () => new PrismaPg(${JSON.stringify({
    host: databaseUrl.hostname,
    port: Number(databaseUrl.port || 5432),
    user: decodeURIComponent(databaseUrl.username || 'postgres'),
    ...(databaseUrl.password && { password: decodeURIComponent(databaseUrl.password) }),
    database: databaseUrl.pathname.slice(1) || 'postgres',
  })}),
});
`,
);

// 3. Old and new schema; Prisma 6 wants a url in the datasource block (Prisma 7 reads it from its config).
const withUrl = (schema) =>
  schema.replace(
    /(datasource\s+\w+\s*\{[^}]*provider\s*=\s*"postgresql")/,
    `$1\n  url      = "${databaseUrl.href}"`,
  );
const migrationsDir = join(root, 'prisma', 'migrations');
const existing = existsSync(migrationsDir)
  ? readdirSync(migrationsDir).filter((d) => existsSync(join(migrationsDir, d, 'migration.sql')))
  : [];
let from = ['--from-empty'];
if (fromSchema !== undefined) {
  writeFileSync(join(scratch, 'old.prisma'), withUrl(readFileSync(resolve(fromSchema), 'utf8')));
  from = ['--from-schema-datamodel', 'old.prisma'];
} else if (existing.length > 0) {
  const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
  const commit = git('log', '-1', '--format=%H', '--', 'prisma/migrations');
  if (!commit)
    throw new Error(
      'commit prisma/migrations (with the schema it was made from) before authoring the next one',
    );
  writeFileSync(join(scratch, 'old.prisma'), withUrl(git('show', `${commit}:prisma/schema.prisma`)));
  from = ['--from-schema-datamodel', 'old.prisma'];
}
writeFileSync(
  join(scratch, 'new.prisma'),
  withUrl(readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8')),
);

// 4. The diff.
const result = spawnSync(
  process.execPath,
  [
    join(scratch, 'node_modules', 'prisma', 'build', 'index.js'),
    'migrate',
    'diff',
    ...from,
    '--to-schema-datamodel',
    'new.prisma',
    '--script',
  ],
  {
    cwd: scratch,
    encoding: 'utf8',
    env: {
      ...process.env,
      PRISMA_QUERY_ENGINE_LIBRARY: join(scratch, 'package.json'),
      CHECKPOINT_DISABLE: '1',
    },
  },
);
if (result.status !== 0) {
  console.error(result.stderr || result.stdout);
  process.exit(result.status ?? 1);
}
const sql = result.stdout;
if (sql.trim() === '' || sql.includes('-- This is an empty migration.')) {
  console.log('prisma/schema.prisma matches the last migration: nothing to write');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = join(migrationsDir, `${stamp}_${name}`);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'migration.sql'), sql);
if (!existsSync(join(migrationsDir, 'migration_lock.toml'))) {
  writeFileSync(
    join(migrationsDir, 'migration_lock.toml'),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
  );
}
console.log(`wrote ${join('prisma', 'migrations', `${stamp}_${name}`, 'migration.sql')}:\n\n${sql}`);
