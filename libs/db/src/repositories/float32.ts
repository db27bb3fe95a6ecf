/**
 * Float32Array ⇄ bytes, little-endian (the wire format of predictions): bit-exact, including -0,
 * subnormals and NaN payloads.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function float32ToBytes(values: Float32Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(values.length * 4);
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return bytes;
}

export function bytesToFloat32(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  if (bytes.byteLength % 4 !== 0)
    throw new Error(`${bytes.byteLength} bytes is not a whole number of float32 values`);
  // Copy into a fresh, aligned buffer: the driver's Buffer may sit at any offset of a shared pool.
  const copy = new Uint8Array(bytes);
  if (LITTLE_ENDIAN) return new Float32Array(copy.buffer);
  const view = new DataView(copy.buffer);
  return Float32Array.from({ length: copy.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
