// The few pieces of the Postgres frontend/backend protocol (v3) that PgliteServer needs.

export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
export const SYNC = Buffer.from([0x53, 0, 0, 0, 4]); // 'S', length 4

/** Frontend messages after which the client waits for the server: a batch ends there. */
export const BATCH_END = new Set(['S', 'Q', 'H', 'p', 'F', 'c', 'f']);
/** Batch ends after which the session is back at ReadyForQuery (unless a transaction is open). */
export const CYCLE_END = new Set(['S', 'Q', 'p', 'F', 'startup']);

/** A FATAL ErrorResponse message. */
export function errorResponse(sqlstate: string, message: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from('SFATAL\0VFATAL\0', 'utf8'),
    Buffer.from(`C${sqlstate}\0M${message}\0\0`, 'utf8'),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}
