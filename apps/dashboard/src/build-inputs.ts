import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';

/**
 * What a Next build of an app depends on: its own sources and config, and the sources of every
 * workspace package it imports, found by reading the sources (the app's, then each imported
 * package's, transitively) rather than listed by hand, so a lib the app starts importing is part
 * of the build's key from then on.
 */

export interface AppLayout {
  /** The repository root: its package.json names the npm workspaces. */
  root: string;
  /** The app's folder (a workspace). */
  appDir: string;
}

export interface BuildInputs {
  /** Workspace packages the app imports, directly or through one another, by name (sorted). */
  packages: string[];
  /** Files and folders hashed, in order (folders recursively, tests left out). */
  roots: string[];
}

const SOURCE = /\.(?:[cm]?[jt]sx?)$/;
const TEST = /\.test\.[cm]?[jt]sx?$/;
const SKIPPED_DIRS = new Set(['node_modules', '.next', 'dist']);

/** The app's build inputs: its src, config and package.json, and each imported package's src and package.json. */
export function buildInputs(layout: AppLayout): BuildInputs {
  const workspaces = workspacePackages(layout.root);
  const own = readName(layout.appDir);
  const reached = new Set<string>();
  const pending = [sourceRoots(layout.appDir)];
  while (pending.length > 0) {
    for (const file of sourceFiles(pending.pop() ?? [])) {
      const text = readFileSync(file, 'utf8');
      for (const [name, dir] of workspaces) {
        if (name === own || reached.has(name) || !names(text, name)) continue;
        reached.add(name);
        pending.push(sourceRoots(dir));
      }
    }
  }
  const packages = [...reached].sort();
  const roots = [
    join(layout.appDir, 'src'),
    join(layout.appDir, 'next.config.mjs'),
    join(layout.appDir, 'tsconfig.json'),
    join(layout.appDir, 'package.json'),
    ...packages.flatMap((name) => {
      const dir = workspaces.get(name) as string;
      return [join(dir, 'src'), join(dir, 'package.json')];
    }),
    join(layout.root, 'package-lock.json'),
  ];
  return { packages, roots };
}

/** sha256 over the build inputs' paths (relative to the root) and bytes. */
export function hashBuildInputs(layout: AppLayout): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles(buildInputs(layout).roots, () => true)) {
    hash.update(relative(layout.root, file));
    hash.update('\0');
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Whether `text` names package `name` in a string: `'name'` or `'name/…'` (import, export, require, import()). */
function names(text: string, name: string): boolean {
  return [`'${name}'`, `"${name}"`, `'${name}/`, `"${name}/`].some((quoted) => text.includes(quoted));
}

/** The npm workspaces of the root package.json (`dir/*` or `dir` entries): package name → folder. */
function workspacePackages(root: string): Map<string, string> {
  const manifest = readManifest(join(root, 'package.json'));
  const found = new Map<string, string>();
  for (const pattern of manifest.workspaces ?? []) {
    const dirs = pattern.endsWith('/*') ? listDirs(join(root, pattern.slice(0, -2))) : [join(root, pattern)];
    for (const dir of dirs) {
      const name = readName(dir);
      if (name !== undefined) found.set(name, dir);
    }
  }
  return found;
}

function listDirs(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(path, entry.name))
    .sort();
}

function readName(dir: string): string | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  return readManifest(file).name;
}

/** The fields of a package.json read here; one that holds them in another shape is an error naming the file and the field. */
const ManifestSchema = z.looseObject({
  name: z.string().optional(),
  workspaces: z.array(z.string()).optional(),
});

function readManifest(file: string): z.output<typeof ManifestSchema> {
  const parsed = ManifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new Error(`${file} is not a package.json this build understands: ${fields}`);
  }
  return parsed.data;
}

/** Where a package's imports are read from: its src (else the folder) and its top-level config files. */
function sourceRoots(dir: string): string[] {
  const src = join(dir, 'src');
  const top = readdirSync(dir)
    .filter((entry) => SOURCE.test(entry))
    .map((entry) => join(dir, entry));
  return [existsSync(src) ? src : dir, ...top];
}

/** Files under `roots` (sorted, recursively), without tests; only sources unless `keep` says otherwise. */
function sourceFiles(
  roots: readonly string[],
  keep: (path: string) => boolean = (p) => SOURCE.test(p),
): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) if (!SKIPPED_DIRS.has(entry)) walk(join(path, entry));
    } else if (!TEST.test(path) && keep(path)) files.push(path);
  };
  roots.forEach(walk);
  return files;
}
