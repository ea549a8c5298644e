/** A data problem located precisely enough to fix by hand: file, line (1-based) and field. */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${field === undefined ? '' : `${field}: `}${reason}`);
    this.name = 'DataError';
  }
}

/** What a reader does on a bad row or file: stop at the first, or count and go on. */
export interface BadRowPolicy {
  skipBadRows?: boolean;
}
