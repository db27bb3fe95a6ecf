import { parseIdx, parseNpyHeader } from '@chorus/data';
import { ChorusError } from '@chorus/protocol';
import { createChunkReader, openByteStream } from './byte-stream';
import type { InputBatch } from './input-source';

type ChunkReader = ReturnType<typeof createChunkReader>;

const bad = (message: string) => new ChorusError('invalid-input', message);

/** How a file's fixed-size rows are laid out after its header. */
interface Layout {
  shape: number[];
  width: number;
  valueAt: (view: DataView, offset: number) => number;
}

/**
 * The rows of an IDX (unsigned bytes) or `.npy` file (plain or gzipped): the header first, then
 * `batchSize` rows at a time, so that memory holds one batch whatever the file's size. A shape of
 * one dimension is one row.
 */
export async function* streamBinaryRows(
  path: string,
  format: 'idx' | 'npy',
  features: number,
  takes: string,
  batchSize: number,
): AsyncGenerator<InputBatch> {
  const reader = createChunkReader(await openByteStream(path));
  try {
    const layout = format === 'npy' ? await readNpyLayout(reader, path) : await readIdxLayout(reader, path);
    const { shape, width, valueAt } = layout;
    const count = shape.length <= 1 ? 1 : (shape[0] as number);
    const perRow = shape.length <= 1 ? (shape[0] ?? 1) : shape.slice(1).reduce((a, b) => a * b, 1);
    if (perRow !== features) {
      throw bad(`${path}: an array of shape (${shape.join(', ')}) has ${perRow} values a row; ${takes}`);
    }
    if (count === 0) throw bad(`${path}: the file holds no rows`);
    const rowBytes = features * width;
    for (let first = 0; first < count; first += batchSize) {
      const n = Math.min(batchSize, count - first);
      const bytes = await reader.read(n * rowBytes);
      if (bytes.length < n * rowBytes) {
        throw bad(
          `${path}: shape (${shape.join(', ')}) needs ${count * rowBytes} data bytes; the file ends in row ${first + Math.floor(bytes.length / rowBytes)}`,
        );
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const x = new Float32Array(n * features);
      for (let i = 0; i < x.length; i++) x[i] = valueAt(view, i * width);
      yield { x, n };
    }
    if ((await reader.read(1)).length > 0) {
      throw bad(`${path}: trailing bytes after the ${count} rows of shape (${shape.join(', ')})`);
    }
  } finally {
    reader.close();
  }
}

async function readNpyLayout(reader: ChunkReader, path: string): Promise<Layout> {
  // magic (6), version (2), header length: 2 bytes in version 1, 4 in versions 2 and 3
  let start = await reader.read(10);
  if ((start[6] ?? 1) >= 2) start = Buffer.concat([start, await reader.read(2)]);
  const length = start.length >= 12 ? start.readUInt32LE(8) : start.length >= 10 ? start.readUInt16LE(8) : 0;
  const bytes = Buffer.concat([start, await reader.read(length)]);
  return parseNpyHeader(bytes, path);
}

async function readIdxLayout(reader: ChunkReader, path: string): Promise<Layout> {
  const magic = await reader.read(4);
  const dims = magic[3] ?? 0;
  const headerBytes = Buffer.concat([magic, await reader.read(4 * dims)]);
  // parseIdx checks the header; given the header alone it sees zero data bytes and says the size.
  const size = Array.from({ length: dims }, (_, i) => headerBytes.readUInt32BE(4 + 4 * i));
  try {
    parseIdx(headerBytes, path);
  } catch (error) {
    const message = (error as Error).message;
    if (size.reduce((a, b) => a * b, 1) === 0 || !/truncated: dims/.test(message)) throw error;
  }
  return { shape: size, width: 1, valueAt: (view, offset) => view.getUint8(offset) };
}
