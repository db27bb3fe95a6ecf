/**
 * Micro-benchmark: CPU of the process (the coordinator's, where PGlite runs in-process) per write of
 * a checkpoint-sized bytea (4.8 MB) and a test-split prediction (400 kB) into the embedded database,
 * by the ways libs/db can write it. Prints figures; asserts nothing.
 *
 *   npx tsx bench/support/bytea-write.bench.ts [--repeats 6] [--mb 4.8] [--database embedded|DATABASE_URL]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { join } from 'node:path';
import {
  applyMigrations,
  createBytesWriter,
  createPrismaClient,
  createRepositories,
  startEmbeddedPostgres,
  type PrismaClient,
} from '@chorus/db';
import { parseRunConfig } from '@chorus/protocol';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const repeats = Number(arg('repeats', '6'));
const megabytes = Number(arg('mb', '4.8'));

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function measure(label: string, write: (i: number) => Promise<unknown>): Promise<void> {
  await write(0); // warm-up
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 1; i <= repeats; i++) await write(i);
  const cpu = (cpuMs() - c0) / repeats;
  const wall = (performance.now() - t0) / repeats;
  console.log(
    `${label.padEnd(64)} ${cpu.toFixed(1).padStart(7)} ms CPU ${wall.toFixed(1).padStart(7)} ms wall`,
  );
}

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'chorus-bytea-bench-'));
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(tmp, 'pgdata') });
  const url = process.env.DATABASE_URL ?? embedded?.connectionString ?? '';
  let prisma: PrismaClient | undefined;
  let writer: ReturnType<typeof createBytesWriter> | undefined;
  try {
    await applyMigrations(url);
    prisma = createPrismaClient({ connectionString: url });
    const repos = createRepositories(prisma);
    const run = await repos.runs.create({
      name: 'bytea bench',
      config: parseRunConfig({ dataset: 'synthetic', members: 2 }),
      seed: 1,
      datasetName: 'synthetic',
      numClasses: 10,
      members: [{}, {}],
    });
    const [m0, m1] = run.members;
    if (!m0 || !m1) throw new Error('no members');
    // --weights-file: real checkpoint bytes (e.g. a worker's, saved from a run) instead of made-up ones.
    const weightsFile = args.includes('--weights-file') ? arg('weights-file', '') : undefined;
    const weights = new Uint8Array(Math.round(megabytes * 1e6));
    const f = new Float32Array(weights.buffer);
    // Weight-like floats: glorot-uniform-ish values from a small LCG (deterministic).
    let state = 12345;
    for (let i = 0; i < f.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      f[i] = (state / 2 ** 32 - 0.5) * 0.1;
    }
    // A checkpoint as workers send it since the CHCK container: weights, then Adam's m and v. An
    // MNIST input pixel that is always 0 (the border) has zero gradients: its rows of the first
    // layer keep their initial weights and have m = v = 0 exactly (about a third of the rows).
    const adam = new Float32Array(Math.round((megabytes * 3 * 1e6) / 4));
    const third = adam.length / 3;
    for (let i = 0; i < adam.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const u = state / 2 ** 32 - 0.5;
      const section = Math.floor(i / third);
      const row = Math.floor((i % third) / 1024) % 784;
      const border = row % 28 < 3 || row % 28 > 24 || row < 84 || row > 700;
      adam[i] =
        section === 0
          ? u * 0.1
          : border && i % third < 784 * 1024
            ? 0
            : section === 1
              ? u * 1e-3
              : u * u * 1e-6;
    }
    const adamBytes = new Uint8Array(adam.buffer);
    if (weightsFile) {
      const real = readFileSync(weightsFile);
      await measure(
        `checkpoint from ${weightsFile} (${real.byteLength} B): createBytesWriter (warm-up)`,
        async () => {},
      );
      writer = createBytesWriter(url);
      const repo = createRepositories(prisma, { bytes: writer });
      await measure(`checkpoint from ${weightsFile}: createBytesWriter`, (i) =>
        repo.checkpoints.save({ memberId: m1.id, epoch: i % 2, step: i, planOffset: i, weights: real }),
      );
      const [row] = await prisma.$queryRaw<{ c: string | null; stored: number }[]>`
        SELECT pg_column_compression("weights") AS c, pg_column_size("weights")::int AS stored
          FROM "Checkpoint" WHERE "memberId" = ${m1.id} LIMIT 1`;
      console.log(`  stored as: compression ${row?.c ?? 'none'}, ${row?.stored ?? '?'} B`);
      if (args.includes('--storage-external')) {
        await prisma.$executeRawUnsafe(
          'ALTER TABLE "Checkpoint" ALTER COLUMN "weights" SET STORAGE EXTERNAL',
        );
        await measure(`checkpoint from ${weightsFile}, storage EXTERNAL: createBytesWriter`, (i) =>
          repo.checkpoints.save({ memberId: m1.id, epoch: i % 2, step: i, planOffset: i, weights: real }),
        );
      }
      await measure('checkpoint, made-up floats of the same size: createBytesWriter', (i) =>
        repo.checkpoints.save({
          memberId: m1.id,
          epoch: i % 2,
          step: i,
          planOffset: i,
          weights: weights.subarray(0, real.byteLength),
        }),
      );
      return;
    }
    const probabilities = new Float32Array(10_000 * 10);
    for (let r = 0; r < 10_000; r++) {
      let sum = 0;
      for (let c = 0; c < 10; c++) sum += probabilities[r * 10 + c] = Math.exp(-((r + c * 7) % 13));
      for (let c = 0; c < 10; c++) probabilities[r * 10 + c] = (probabilities[r * 10 + c] as number) / sum;
    }
    console.log(
      `${repeats} writes each, ${weights.byteLength} B checkpoint / ${probabilities.byteLength} B prediction, ` +
        `database: ${embedded ? 'embedded PGlite (in this process)' : 'DATABASE_URL'}`,
    );
    await measure('checkpoint: repos.checkpoints.save (repository)', (i) =>
      repos.checkpoints.save({ memberId: m0.id, epoch: i % 2, step: i, planOffset: i, weights }),
    );
    await measure('checkpoint: prisma upsert, select { epoch }', (i) => {
      const values = { step: i, planOffset: i, weights };
      return prisma!.checkpoint.upsert({
        where: { memberId_epoch: { memberId: m1.id, epoch: i % 2 } },
        create: { memberId: m1.id, epoch: i % 2, ...values },
        update: values,
        select: { epoch: true },
      });
    });
    await measure(
      'checkpoint: $executeRaw INSERT … ON CONFLICT (no RETURNING)',
      (i) =>
        prisma!.$executeRaw`
        INSERT INTO "Checkpoint" ("memberId", "epoch", "step", "planOffset", "weights", "updatedAt")
        VALUES (${m1.id}, ${i % 2}, ${i}, ${i}, ${Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength)}, now())
        ON CONFLICT ("memberId", "epoch") DO UPDATE SET "step" = EXCLUDED."step",
          "planOffset" = EXCLUDED."planOffset", "weights" = EXCLUDED."weights", "updatedAt" = EXCLUDED."updatedAt"`,
    );
    const upsertSql = `
        INSERT INTO "Checkpoint" ("memberId", "epoch", "step", "planOffset", "weights", "updatedAt")
        VALUES ($1, $2, $3, $4, $5, now())
        ON CONFLICT ("memberId", "epoch") DO UPDATE SET "step" = EXCLUDED."step",
          "planOffset" = EXCLUDED."planOffset", "weights" = EXCLUDED."weights", "updatedAt" = EXCLUDED."updatedAt"`;
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    await measure('checkpoint: pg.Pool query, Buffer parameter (binary)', (i) =>
      pool.query(upsertSql, [
        m1.id,
        i % 2,
        i,
        i,
        Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength),
      ]),
    );
    await pool.end();
    writer = createBytesWriter(url);
    const viaPool = createRepositories(prisma, { bytes: writer });
    await measure('checkpoint: repository with createBytesWriter (pg pool)', (i) =>
      viaPool.checkpoints.save({ memberId: m1.id, epoch: i % 2, step: i, planOffset: i, weights }),
    );
    await measure(`checkpoint with Adam state (${adamBytes.byteLength} B): createBytesWriter`, (i) =>
      viaPool.checkpoints.save({ memberId: m1.id, epoch: i % 2, step: i, planOffset: i, weights: adamBytes }),
    );
    {
      const [row] = await prisma.$queryRaw<{ c: string | null; stored: number }[]>`
        SELECT pg_column_compression("weights") AS c, pg_column_size("weights")::int AS stored
          FROM "Checkpoint" WHERE "memberId" = ${m1.id} LIMIT 1`;
      console.log(`  stored as: compression ${row?.c ?? 'none'}, ${row?.stored ?? '?'} B`);
    }
    await measure('prediction (test): repository with createBytesWriter (pg pool)', (i) =>
      viaPool.predictions.save({
        memberId: m1.id,
        split: 'test',
        round: i % 2,
        probabilities,
        numClasses: 10,
      }),
    );

    await measure('checkpoint: repos.checkpoints.save (repository), again', (i) =>
      repos.checkpoints.save({ memberId: m0.id, epoch: i % 2, step: i, planOffset: i, weights }),
    );
    if (embedded) {
      await measure('checkpoint: PGlite query() in-process, Uint8Array parameter', (i) =>
        embedded.pglite.query(upsertSql, [m1.id, i % 2, i, i, weights]),
      );
    }
    if (args.includes('--storage-external')) {
      const [row] = await prisma.$queryRaw<{ c: string | null }[]>`
        SELECT pg_column_compression("weights") AS c FROM "Checkpoint" WHERE "memberId" = ${m0.id} LIMIT 1`;
      console.log(`stored checkpoint compression: ${row?.c ?? 'none'}`);
      await prisma.$executeRawUnsafe('ALTER TABLE "Checkpoint" ALTER COLUMN "weights" SET STORAGE EXTERNAL');
      await measure('checkpoint: repository, column storage EXTERNAL (no compression attempt)', (i) =>
        repos.checkpoints.save({ memberId: m0.id, epoch: i % 2, step: i, planOffset: i, weights }),
      );
      await measure(`checkpoint with Adam state: createBytesWriter, storage EXTERNAL`, (i) =>
        viaPool.checkpoints.save({
          memberId: m1.id,
          epoch: i % 2,
          step: i,
          planOffset: i,
          weights: adamBytes,
        }),
      );
    }
    await measure('prediction (test): repos.predictions.save (repository)', (i) =>
      repos.predictions.save({ memberId: m0.id, split: 'test', round: i % 2, probabilities, numClasses: 10 }),
    );
    await measure('prediction (test): prisma upsert, select { round }', (i) => {
      const bytes = new Uint8Array(probabilities.buffer.slice(0));
      const values = { probabilities: bytes, rows: 10_000, numClasses: 10 };
      return prisma!.prediction.upsert({
        where: { memberId_split_round: { memberId: m1.id, split: 'test', round: i % 2 } },
        create: { memberId: m1.id, split: 'test', round: i % 2, ...values },
        update: values,
        select: { round: true },
      });
    });
  } finally {
    await writer?.close();
    await prisma?.$disconnect();
    await embedded?.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
