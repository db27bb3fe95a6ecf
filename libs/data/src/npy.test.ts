import { describe, expect, it } from 'vitest';
import { npyValues, parseNpy } from './npy';

/** A .npy v1 file: magic, version 1.0, u16 header length, the header padded with spaces and a newline to 64 bytes. */
function npy(descr: string, shape: string, data: Uint8Array, fortran = 'False'): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  header = header.padEnd(64 - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

describe('parseNpy', () => {
  it('reads float32, uint8 and int32 arrays in C order; refuses big-endian ones', () => {
    const f = Float32Array.of(0.5, -1, 3, 4, 5, 6);
    const x = parseNpy(npy('<f4', '(2, 3)', new Uint8Array(f.buffer)), 'x.npy');
    expect({ dtype: x.dtype, shape: x.shape, values: npyValues(x) }).toEqual({
      dtype: 'f4',
      shape: [2, 3],
      values: f,
    });
    const y = parseNpy(npy('|u1', '(3,)', Uint8Array.of(0, 128, 255)), 'y.npy');
    expect(Array.from(npyValues(y))).toEqual([0, 128, 255]);
    const le = new Uint8Array(Int32Array.of(-7, 9).buffer);
    expect(Array.from(npyValues(parseNpy(npy('<i4', '(2,)', le), 'z.npy')))).toEqual([-7, 9]);
    expect(() => parseNpy(npy('>i4', '(2,)', le), 'w.npy')).toThrow("w.npy: dtype '>i4' is not supported");
  });

  it('refuses what it cannot read, naming the file', () => {
    expect(() => parseNpy(Uint8Array.of(1, 2, 3), 'a.npy')).toThrow('a.npy: not a .npy file');
    expect(() => parseNpy(npy('<f4', '(2, 3)', new Uint8Array(20)), 'b.npy')).toThrow(
      "b.npy: truncated: shape (2, 3) of '<f4' needs 24 data bytes, the file has 20",
    );
    expect(() => parseNpy(npy('<c8', '(1,)', new Uint8Array(8)), 'c.npy')).toThrow(
      "dtype '<c8' is not supported",
    );
    expect(() => parseNpy(npy('<f4', '(1,)', new Uint8Array(4), 'True'), 'd.npy')).toThrow(
      'fortran_order is True',
    );
  });
});
