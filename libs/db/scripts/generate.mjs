#!/usr/bin/env node
/* global process, console */
// Generates the Prisma client (libs/db/src/generated/prisma) from prisma/schema.prisma, offline.
//
// Prisma 7's CLI downloads a native schema engine before `generate` even though generation does
// not use it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file skips the download.
// The output is stamped with a hash of the schema and the Prisma version, so running this from
// `pretest` / `pretypecheck` costs nothing when the client is up to date. `--force` regenerates.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const schema = join(root, 'prisma', 'schema.prisma');
const output = join(root, 'libs', 'db', 'src', 'generated', 'prisma');
const stampFile = join(output, '.schema-hash');
const force = process.argv.includes('--force');

const require = createRequire(import.meta.url);
let prismaPackageJson;
try {
  prismaPackageJson = require.resolve('prisma/package.json');
} catch {
  // `npm ci --omit=dev` installs no Prisma CLI: nothing to generate with. Say so, don't fail the install.
  console.warn('[db:generate] the prisma CLI is not installed; skipping Prisma client generation');
  process.exit(0);
}
const prismaVersion = JSON.parse(readFileSync(prismaPackageJson, 'utf8')).version;
const cli = join(dirname(prismaPackageJson), 'build', 'index.js');

const stamp = createHash('sha256')
  .update(readFileSync(schema))
  .update(`\0prisma@${prismaVersion}`)
  .digest('hex');
if (!force && existsSync(join(output, 'client.ts')) && existsSync(stampFile)) {
  if (readFileSync(stampFile, 'utf8').trim() === stamp) process.exit(0);
}

const result = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? schema,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
if (result.status !== 0) {
  console.error(`[db:generate] prisma generate failed (exit ${result.status ?? result.signal})`);
  process.exit(result.status ?? 1);
}
writeFileSync(stampFile, `${stamp}\n`);
