import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { labelKey } from './csv-fields';
import { readCsvTable } from './csv-table';
import { loadCsvDataset } from './csv-dataset';
import { DatasetError } from './errors';
import { tempDir } from './test-helpers';

const { dir, cleanup } = tempDir('chorus-csv-table-');
afterAll(cleanup);

let files = 0;
function file(content: string | Uint8Array, name = `t${files++}.csv`): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** RFC 4180 quoting: in quotes, with every quote doubled. */
const quote = (field: string) => `"${field.replaceAll('"', '""')}"`;

async function failure(work: Promise<unknown>): Promise<DatasetError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof DatasetError) return e;
    throw e;
  }
  throw new Error('expected a DatasetError');
}

describe('readCsvTable reads RFC 4180 CSV', () => {
  it('quoted fields with commas, doubled quotes and line breaks; quoted numbers and header names', async () => {
    const text =
      '"sepal, length","width",species\n' +
      '5.1,"3.5","Iris-setosa"\n' +
      '"4.9",3.0,"Iris ""virginica"", tall"\n' +
      '6.2,2.9,"two\nlines"\n' +
      '7,3.2,Iris-setosa\n';
    const t = await readCsvTable(file(text));
    expect(t.header).toEqual(['sepal, length', 'width', 'species']);
    expect(t.count).toBe(4);
    expect(t.labelKeys).toEqual(['Iris-setosa', 'Iris "virginica", tall', 'two\nlines']);
    expect(Array.from(t.labels)).toEqual([0, 1, 2, 0]);
    expect(Array.from(t.x)).toEqual([5.1, 3.5, 4.9, 3, 6.2, 2.9, 7, 3.2].map(Math.fround));
  });

  it('CRLF line ends, a BOM before a quoted header, blanks around fields, blank lines', async () => {
    const text = '\ufeff"a","b","label"\r\n 1 , "2" ,"x"\r\n\r\n   \r\n3,4, y \r\n';
    const t = await readCsvTable(file(text));
    expect(t.header).toEqual(['a', 'b', 'label']);
    expect(Array.from(t.x)).toEqual([1, 2, 3, 4]);
    // Blanks outside quotes are not part of a field; inside quotes they are.
    expect(t.labelKeys).toEqual(['x', 'y']);
    const kept = await readCsvTable(file('a,label\n1," x "\n2,x\n'));
    expect(kept.labelKeys).toEqual([' x ', 'x']);
  });

  it('a quoted label column named by the header, gzipped, without a trailing line break', async () => {
    const p = file(gzipSync('"species","f"\n"a,b",1\n"c",2'), 'q.csv.gz');
    const t = await readCsvTable(p, { labelColumn: 'species' });
    expect(t.labelIndex).toBe(0);
    expect(t.labelKeys).toEqual(['a,b', 'c']);
    expect(Array.from(t.x)).toEqual([1, 2]);
  });

  it('streams a file of many 1 MiB chunks whose quoted fields straddle chunk ends, with progress', async () => {
    // 120,000 rows of ~40 bytes: about 5 MiB, so records are cut at chunk boundaries.
    const rows: string[] = ['f1,f2,label'];
    for (let i = 0; i < 120_000; i++) rows.push(`${i},"${(i % 97) / 4}","class, ${i % 3} ""q"""`);
    const seen: number[] = [];
    const t = await readCsvTable(file(`${rows.join('\r\n')}\r\n`), { onProgress: (p) => seen.push(p.rows) });
    expect(t.count).toBe(120_000);
    expect(t.labelKeys).toEqual(['class, 0 "q"', 'class, 1 "q"', 'class, 2 "q"']);
    for (const i of [0, 1, 54_321, 119_999]) {
      expect(t.x[2 * i]).toBe(i);
      expect(t.x[2 * i + 1]).toBe((i % 97) / 4);
      expect(t.labels[i]).toBe(i % 3);
    }
    expect(seen).toEqual([50_000, 100_000, 120_000]);
  });

  it('reads back any table written with RFC 4180 quoting (property)', async () => {
    // Labels: any text but blank; quoted, so commas, quotes, CR and LF may occur in them.
    const label = fc.string({
      minLength: 1,
      maxLength: 6,
      unit: fc.constantFrom('a', 'b', ',', '"', ' ', '\n', '\r\n', '7', '0', 'é'),
    });
    const value = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
    const table = fc.array(fc.tuple(value, value, label), { minLength: 1, maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(table, fc.boolean(), fc.boolean(), async (rows, crlf, bom) => {
        const eol = crlf ? '\r\n' : '\n';
        const text =
          (bom ? '\ufeff' : '') +
          ['x,y,label', ...rows.map(([a, b, l]) => `${a},${quote(String(b))},${quote(l)}`)].join(eol) +
          eol;
        const t = await readCsvTable(file(text));
        expect(t.count).toBe(rows.length);
        const keys = [...new Set(rows.map(([, , l]) => labelKey(l)))];
        expect(t.labelKeys).toEqual(keys);
        expect(Array.from(t.labels)).toEqual(rows.map(([, , l]) => keys.indexOf(labelKey(l))));
        // As written: String(-0) is "0".
        const f32 = (v: number) => Math.fround(Number(String(v)));
        expect(Array.from(t.x)).toEqual(rows.flatMap(([a, b]) => [f32(a), f32(b)]));
      }),
      { numRuns: 60 },
    );
  });
});

describe('readCsvTable refuses bad quoting and bad rows, naming file, line and column', () => {
  it('a quote inside an unquoted field', async () => {
    const p = file('a,b,label\n1,2,x\n3,4"5,y\n');
    const e = await failure(readCsvTable(p));
    expect(e.code).toBe('corrupt');
    expect(e.line).toBe(3);
    expect(e.message).toBe(
      `${p}:3: column 1 ("b"): a quote inside an unquoted field: quote the whole field and double its quotes ("a ""b"" c")`,
    );
  });

  it('text after a closing quote', async () => {
    const p = file('a,b,label\n1,"2"x,y\n');
    expect((await failure(readCsvTable(p))).message).toBe(
      `${p}:2: column 1 ("b"): text after the closing quote of a quoted field: a quote inside one is written twice ("a ""b"" c")`,
    );
  });

  it('a quoted field that is never closed, after blank lines', async () => {
    const p = file('a,b,label\n1,2,x\n\n\n3,4,"y\n5,6,z\n');
    const e = await failure(readCsvTable(p));
    expect(e.message).toBe(
      `${p}:5: a quoted field starting on this row is never closed (the file ends inside it)`,
    );
  });

  it('errors after a record with quoted line breaks name the right lines', async () => {
    // Line 2 holds a label over three lines (2–4); the ragged row is on line 5, the bad number on 6.
    const ragged = file('a,b,label\n1,2,"x\ny\nz"\n3,4\n');
    expect((await failure(readCsvTable(ragged))).message).toBe(
      `${ragged}:5: expected 3 columns (as on the first line), found 2`,
    );
    const text = file('a,b,label\n1,2,"x\ny\nz"\n3,4,w\n5,"six",w\n');
    expect((await failure(readCsvTable(text))).message).toBe(
      `${text}:6: column 1 ("b") is not a number: "six"`,
    );
    // A record that itself spans lines is named by its first line.
    const spanning = file('a,b,label\n1,2,x\n"3\nx",4,"w\nv"\n');
    expect((await failure(readCsvTable(spanning))).message).toBe(
      `${spanning}:3: column 0 ("a") is not a number: "3\nx"`,
    );
  });

  it('quoted empty and blank numbers, a quoted empty label, NaN in quotes', async () => {
    const empty = file('a,b,label\n1,"",x\n');
    expect((await failure(readCsvTable(empty))).message).toBe(`${empty}:2: column 1 ("b") is empty`);
    const blank = file('a,b,label\n1," ",x\n');
    expect((await failure(readCsvTable(blank))).message).toBe(`${blank}:2: column 1 ("b") is empty`);
    const noLabel = file('a,b,label\n1,2,""\n');
    expect((await failure(readCsvTable(noLabel))).message).toBe(
      `${noLabel}:2: column 2 ("label") (the label) is empty`,
    );
    const nan = file('a,b,label\r\n1,"NaN",x\r\n');
    expect((await failure(readCsvTable(nan))).message).toBe(
      `${nan}:2: column 1 ("b") is not a number: "NaN"`,
    );
  });

  it('a ragged row whose extra field is a quoted comma is still ragged; a quoted comma is not', async () => {
    const ok = await readCsvTable(file('a,b,label\n1,2,"x,y"\n3,4,z\n'));
    expect(ok.labelKeys).toEqual(['x,y', 'z']);
    const p = file('a,b,label\n1,2,x\n3,4,"y",""\n');
    expect((await failure(readCsvTable(p))).message).toBe(
      `${p}:3: expected 3 columns (as on the first line), found 4`,
    );
  });

  it('through loadCsvDataset: an Iris-like file with quoted class names', async () => {
    const names = ['Iris-setosa', 'Iris-versicolor', 'Iris-virginica'];
    const rows = Array.from({ length: 30 }, (_, i) => `${i / 10},${(i % 7) / 2},"${names[i % 3]}"`);
    const d = await loadCsvDataset({
      path: file(`"len","wid","species"\r\n${rows.join('\r\n')}\r\n`),
      normalize: 'none',
    });
    expect(d.classNames).toEqual(names);
    expect(d.train.count + d.test.count).toBe(30);
  });
});
