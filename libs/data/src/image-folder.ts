import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { classLabelsOf, type ClassLabels } from './class-labels';
import { DatasetError } from './errors';
import { checkReadablePath, type ReadLimits } from './io';

/** File name endings read as images (case-insensitive); other files in a class folder are skipped. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** One image file and the index of its class. */
export interface ImageFile {
  path: string;
  label: number;
}

/**
 * The files of an image-folder dataset (README "Your own data", images): `DIR/<class>/*.png|jpg|jpeg`
 * (layout `classes`: the test split is held out later), or `DIR/train/<class>/…` and
 * `DIR/test/<class>/…` (layout `split`), chosen by whether DIR holds a `train` folder. Classes are
 * the training folder names in class-labels.ts order (numeric when all are integers, else sorted by
 * code units); files within a class are sorted by name, so the order never depends on the disk.
 */
export interface ImageFolder {
  layout: 'classes' | 'split';
  classes: ClassLabels;
  train: ImageFile[];
  /** Only for the `split` layout. */
  test?: ImageFile[];
}

export async function scanImageFolder(dir: string, limits?: ReadLimits): Promise<ImageFolder> {
  const entries = await listDir(dir, limits, 'an images dataset is a directory of class folders');
  const hasTrain = entries.some((e) => e.name === 'train' && e.dir);
  if (!hasTrain) {
    const found = await scanClasses(dir, entries, limits);
    const classes = classLabelsOf(found.map((c) => c.name), `${dir}: class folders`);
    return { layout: 'classes', classes, train: filesOf(found, classes) };
  }
  const testDir = join(dir, 'test');
  if (!entries.some((e) => e.name === 'test' && e.dir)) {
    throw new DatasetError(
      'missing',
      `${dir}: has a train/ folder but no test/ folder (give both, or put the class folders directly in ${dir} and hold out --test-fraction)`,
      { path: testDir },
    );
  }
  const trainDir = join(dir, 'train');
  const train = await scanClasses(trainDir, await listDir(trainDir, limits, 'a folder of class folders'), limits);
  const test = await scanClasses(testDir, await listDir(testDir, limits, 'a folder of class folders'), limits);
  const classes = classLabelsOf(train.map((c) => c.name), `${trainDir}: class folders`);
  for (const c of test) {
    if (!classes.index.has(c.name)) {
      throw new DatasetError(
        'corrupt',
        `${join(testDir, c.name)}: class "${c.name}" has no folder in ${trainDir} (the classes are ${classes.names.join(', ')})`,
        { path: join(testDir, c.name) },
      );
    }
  }
  return { layout: 'split', classes, train: filesOf(train, classes), test: filesOf(test, classes) };
}

interface Entry {
  name: string;
  dir: boolean;
}

interface ClassFiles {
  name: string;
  files: string[];
}

async function listDir(dir: string, limits: ReadLimits | undefined, what: string): Promise<Entry[]> {
  try {
    if (limits) await checkReadablePath(dir, limits, { directory: true });
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => !e.name.startsWith('.'))
      .map((e) => ({ name: e.name, dir: e.isDirectory() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError('missing', `${dir}: not found (${what})`, { path: dir, cause: e });
    if (code === 'ENOTDIR') throw new DatasetError('invalid', `${dir}: not a directory (${what})`, { path: dir, cause: e });
    throw new DatasetError('invalid', `${dir}: cannot read (${code ?? String(e)})`, { path: dir, cause: e });
  }
}

const isImage = (name: string): boolean => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());

async function scanClasses(dir: string, entries: Entry[], limits: ReadLimits | undefined): Promise<ClassFiles[]> {
  const folders = entries.filter((e) => e.dir);
  if (folders.length === 0) {
    const loose = entries.filter((e) => isImage(e.name)).length;
    throw new DatasetError(
      'missing',
      `${dir}: no class folders${loose > 0 ? ` (${loose} images lie directly in it)` : ''}: put each class's images in ${dir}/<class>/ (${IMAGE_EXTENSIONS.join(', ')})`,
      { path: dir },
    );
  }
  const out: ClassFiles[] = [];
  for (const folder of folders) {
    const path = join(dir, folder.name);
    const files = (await listDir(path, limits, 'a class folder'))
      .filter((e) => !e.dir && isImage(e.name))
      .map((e) => join(path, e.name));
    if (files.length === 0) {
      throw new DatasetError('corrupt', `${path}: empty class folder (no ${IMAGE_EXTENSIONS.join(', ')} files)`, { path });
    }
    out.push({ name: folder.name, files });
  }
  return out;
}

function filesOf(found: ClassFiles[], classes: ClassLabels): ImageFile[] {
  const byLabel = [...found].sort((a, b) => (classes.index.get(a.name) as number) - (classes.index.get(b.name) as number));
  return byLabel.flatMap((c) => c.files.map((path) => ({ path, label: classes.index.get(c.name) as number })));
}
