/**
 * Makes the GPU kit (bench/gpu/README.md): everything a bare GPU machine needs to train with
 * `--backend webgpu`, in one folder of at most 64 MiB — it cannot install anything there.
 *
 *   npx tsx bench/gpu/prepare.ts [--out .gpu-kit] [--no-debs] [--no-node]
 *
 * - app/cli/src/chorus.mjs: the CLI bundled by esbuild (at the depth of apps/cli/src/main.ts, which
 *   reads the version from ../../../package.json), its lazy imports (Prisma's side) in chunks beside
 *   it; bench.mjs: bench/gpu/measure.ts bundled;
 * - node_modules/: tfjs core, layers, cpu, wasm, webgpu and npm `webgpu` (linux-x64 only), trimmed
 *   to what their `main` needs, plus their small runtime dependencies;
 * - debs/: the Vulkan and EGL loaders (`apt-get download`; --no-debs leaves them out);
 * - node.xz: this Node binary, compressed, for an image without Node (--no-node leaves it out);
 * - run.sh: the device-side entry (bench/gpu/run.sh).
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const has = (name: string): boolean => args.includes(`--${name}`);
const outIndex = args.indexOf('--out');
const KIT = resolve(ROOT, outIndex >= 0 ? (args[outIndex + 1] ?? '.gpu-kit') : '.gpu-kit');
const LIMIT = 64 * 1024 * 1024;

/** Kept as files in the kit's node_modules (not bundled): one tfjs engine, wasm files, dawn.node. */
const EXTERNAL_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
  'webgpu',
];
/** Never on the training path; left out of the bundle (imported lazily where used). */
const LEFT_OUT = [
  '@prisma/client',
  '@prisma/adapter-pg',
  '@prisma/*',
  'pg',
  '@electric-sql/*',
  'next',
  'react',
  'react-dom',
  'playwright-core',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];

const require = createRequire(join(ROOT, 'libs/models/package.json'));
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

function copyPackage(name: string, files: (dir: string) => string[]): void {
  const from = packageDir(name);
  const to = join(KIT, 'node_modules', name);
  for (const file of ['package.json', ...files(from)]) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    copyFileSync(join(from, file), join(to, file));
  }
}

/** A small runtime dependency, whole (its maps and type declarations left out), and its own. */
function copyDependency(name: string, seen: Set<string>): void {
  if (seen.has(name) || name.startsWith('@types/') || name === '@webgpu/types') return;
  seen.add(name);
  const from = packageDir(name);
  cpSync(from, join(KIT, 'node_modules', name), {
    recursive: true,
    filter: (src) => !/\.(map|d\.ts|md)$/.test(src) && !src.includes(`${name}/node_modules`),
  });
  const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies ?? {})) copyDependency(dep, seen);
}

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

async function main(): Promise<void> {
  rmSync(KIT, { recursive: true, force: true });
  mkdirSync(KIT, { recursive: true });
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(
    join(KIT, 'package.json'),
    `${JSON.stringify({ name: 'chorus-gpu-kit', version, private: true, type: 'module' }, null, 2)}\n`,
  );

  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: 'node20',
    external: [...EXTERNAL_PACKAGES, ...LEFT_OUT],
    // Bundled CommonJS (commander, pino…) calls require(): give the ES module one.
    banner: {
      js: "import { createRequire as __chorusRequire } from 'node:module'; const require = __chorusRequire(import.meta.url);",
    },
    logLevel: 'warning' as const,
  };
  // Code splitting keeps what the CLI imports lazily (the coordinator, the dashboard: Prisma, pg) in
  // chunks of their own, so `chorus train` and `chorus worker` never load them.
  await build({
    ...common,
    entryPoints: { chorus: join(ROOT, 'apps/cli/src/main.ts') },
    splitting: true,
    outdir: join(KIT, 'app/cli/src'),
    outExtension: { '.js': '.mjs' },
  });
  await build({
    ...common,
    entryPoints: [join(ROOT, 'bench/gpu/measure.ts')],
    outfile: join(KIT, 'bench.mjs'),
  });

  for (const name of EXTERNAL_PACKAGES.filter((p) => p.startsWith('@tensorflow/'))) {
    copyPackage(name, (dir) => {
      const main = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string }).main;
      // The wasm backend loads its .wasm files beside its main file (threads are not used in Node).
      const wasm = readdirSync(join(dir, 'dist')).filter(
        (f) => f.endsWith('.wasm') && !f.includes('threaded'),
      );
      return [main, ...wasm.map((f) => `dist/${f}`)];
    });
  }
  copyPackage('webgpu', (dir) => [
    'index.js',
    ...readdirSync(join(dir, 'dist/linux-x64')).map((f) => `dist/linux-x64/${f}`),
  ]);
  const seen = new Set<string>();
  for (const name of EXTERNAL_PACKAGES) {
    const pkg = JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (!EXTERNAL_PACKAGES.includes(dep)) copyDependency(dep, seen);
    }
  }

  if (!has('no-debs')) {
    // The loaders dawn.node opens (libvulkan.so.1, libEGL.so) and what they need; the GPU machine's
    // driver mount brings the ICDs. As in the device README's recipe.
    const debs = join(KIT, 'debs');
    const lists = join(KIT, '.apt-lists');
    mkdirSync(debs, { recursive: true });
    mkdirSync(join(lists, 'partial'), { recursive: true });
    const apt = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
    execFileSync('apt-get', [...apt, 'update', '-qq'], { stdio: 'inherit' });
    const packages = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];
    execFileSync('apt-get', [...apt, 'download', ...packages], { cwd: debs, stdio: 'inherit' });
    rmSync(lists, { recursive: true, force: true });
  }
  if (!has('no-node')) {
    execFileSync('sh', ['-c', `xz -T0 -6 -c "${process.execPath}" > "${join(KIT, 'node.xz')}"`], {
      stdio: 'inherit',
    });
  }
  copyFileSync(join(ROOT, 'bench/gpu/run.sh'), join(KIT, 'run.sh'));
  chmodSync(join(KIT, 'run.sh'), 0o755);

  const total = sizeOf(KIT);
  for (const entry of readdirSync(KIT)) {
    console.log(`${(sizeOf(join(KIT, entry)) / 2 ** 20).toFixed(1).padStart(6)} MiB  ${entry}`);
  }
  console.log(`${(total / 2 ** 20).toFixed(1).padStart(6)} MiB  ${relative(ROOT, KIT)}/ (limit 64 MiB)`);
  if (total > LIMIT)
    throw new Error(`the kit is ${(total / 2 ** 20).toFixed(1)} MiB, over the 64 MiB a device run carries`);
  if (!existsSync(join(KIT, 'node_modules/webgpu/dist/linux-x64/dawn.node')))
    throw new Error('dawn.node missing');
}

await main();
