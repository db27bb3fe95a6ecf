export type DatasetErrorCode =
  /** The dataset or one of its files is not where it was looked for. */
  | 'missing'
  /** A file exists but its contents are malformed (bad magic, wrong size, bad CSV row). */
  | 'corrupt'
  /** A file is well-formed but uses a format variant we do not read (e.g. IDX float data). */
  | 'unsupported'
  /** The caller passed an argument that cannot work (bad fraction, batch size, member index). */
  | 'invalid';

export interface DatasetErrorDetails {
  /** The file the error is about, when there is one. */
  path?: string;
  /** 1-based line number in a text file, when known. */
  line?: number;
  cause?: unknown;
}

/** The one error type of @chorus/data; `code` says what kind of failure it is, the message what to do. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  readonly path: string | undefined;
  readonly line: number | undefined;

  constructor(code: DatasetErrorCode, message: string, details: DatasetErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.path = details.path;
    this.line = details.line;
  }
}

export function isDatasetError(e: unknown): e is DatasetError {
  return e instanceof DatasetError;
}
