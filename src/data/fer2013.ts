import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { DataError, type BadRowPolicy } from './errors.js';
import { FACE_PIXELS, type FaceSet } from './faces.js';
import { NUM_CLASSES } from './labels.js';

export const FER_SPLITS = ['Training', 'PublicTest', 'PrivateTest'] as const;
export type FerSplit = (typeof FER_SPLITS)[number];
/** Split name for rows of a file that has no Usage column. */
export const UNSPLIT = 'Unsplit';

export interface FerReadResult {
  file: string;
  /** Splits in order of first appearance. */
  splits: Map<string, FaceSet>;
  rows: number;
  /** Bad rows met in skip mode (empty otherwise: the first one throws). */
  badRows: DataError[];
}

const COMMA = 0x2c;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const DIGIT_0 = 0x30;

/**
 * Streams a fer2013.csv (plain or gzip, detected by its magic bytes) into one compact
 * FaceSet per Usage split. Columns are found by name, so the test-only variant without
 * `emotion` (labels become -1) and files without `Usage` (split "Unsplit") read too.
 */
export async function readFer2013(file: string, policy: BadRowPolicy = {}): Promise<FerReadResult> {
  const stream = await openMaybeGzip(file);
  const parser = new FerCsvParser(file, policy.skipBadRows ?? false);
  let lineStart = 1;
  try {
    let pending: Buffer | undefined;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
        parser.line(buf, start, nl);
        start = nl + 1;
      }
      pending = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
      lineStart = parser.lineNumber + 1;
    }
    if (pending) parser.line(pending, 0, pending.length);
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const reason = code.startsWith('Z_') || /unexpected end of file|incorrect header/i.test(String(err))
      ? `gzip stream is corrupt or truncated (${(err as Error).message})`
      : (err as Error).message;
    throw new DataError(file, lineStart, undefined, reason);
  } finally {
    stream.destroy();
  }
  return parser.finish();
}

async function openMaybeGzip(file: string): Promise<Readable> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new DataError(file, undefined, undefined, `cannot open: ${err.code ?? err.message}`);
  });
  const magic = Buffer.alloc(2);
  await handle.read(magic, 0, 2, 0);
  await handle.close();
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return raw;
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

/** Appends faces without knowing the final count; doubles its buffers as it grows. */
class FaceSetBuilder {
  count = 0;
  private pixels = new Uint8Array(1024 * FACE_PIXELS);
  private labels = new Int8Array(1024);

  /** Room for one more face; returns its pixel offset. Commit with `commit(label)`. */
  reserve(): Uint8Array {
    if (this.count === this.labels.length) {
      const pixels = new Uint8Array(this.pixels.length * 2);
      pixels.set(this.pixels);
      this.pixels = pixels;
      const labels = new Int8Array(this.labels.length * 2);
      labels.set(this.labels);
      this.labels = labels;
    }
    return this.pixels.subarray(this.count * FACE_PIXELS, (this.count + 1) * FACE_PIXELS);
  }

  commit(label: number): void {
    this.labels[this.count++] = label;
  }

  build(): FaceSet {
    return {
      count: this.count,
      pixels: this.pixels.slice(0, this.count * FACE_PIXELS),
      labels: this.labels.slice(0, this.count),
    };
  }
}

interface Columns {
  count: number;
  emotion: number;
  pixels: number;
  usage: number;
}

class FerCsvParser {
  lineNumber = 0;
  private columns: Columns | undefined;
  private readonly builders = new Map<string, FaceSetBuilder>();
  private readonly badRows: DataError[] = [];
  private rows = 0;
  /** Field boundaries of the current line, reused to avoid allocation per row. */
  private readonly fieldStart: number[] = [];
  private readonly fieldEnd: number[] = [];

  constructor(
    private readonly file: string,
    private readonly skipBadRows: boolean,
  ) {}

  line(buf: Buffer, start: number, end: number): void {
    this.lineNumber++;
    if (end > start && buf[end - 1] === CR) end--;
    if (end === start) return;
    if (!this.columns) {
      this.columns = this.header(buf.toString('latin1', start, end));
      return;
    }
    try {
      this.row(buf, start, end);
    } catch (err) {
      if (!(err instanceof DataError) || !this.skipBadRows) throw err;
      this.badRows.push(err);
    }
  }

  finish(): FerReadResult {
    if (!this.columns) throw new DataError(this.file, 1, undefined, 'file is empty: expected the header emotion,pixels,Usage');
    const splits = new Map<string, FaceSet>();
    for (const [name, builder] of this.builders) splits.set(name, builder.build());
    return { file: this.file, splits, rows: this.rows, badRows: this.badRows };
  }

  private header(text: string): Columns {
    const names = text.split(',').map((name) => name.trim().replace(/^"|"$/g, '').toLowerCase());
    const find = (name: string): number => names.indexOf(name);
    const columns = { count: names.length, emotion: find('emotion'), pixels: find('pixels'), usage: find('usage') };
    if (columns.pixels < 0) {
      throw new DataError(this.file, 1, 'header', `no "pixels" column in "${text.slice(0, 80)}" (expected emotion,pixels,Usage)`);
    }
    return columns;
  }

  private fail(field: string, reason: string): never {
    throw new DataError(this.file, this.lineNumber, field, reason);
  }

  private row(buf: Buffer, start: number, end: number): void {
    const columns = this.columns as Columns;
    let fields = 0;
    let fieldStart = start;
    for (let i = start; i <= end; i++) {
      if (i === end || buf[i] === COMMA) {
        if (fields < columns.count) {
          let a = fieldStart;
          let b = i;
          if (b - a >= 2 && buf[a] === QUOTE && buf[b - 1] === QUOTE) {
            a++;
            b--;
          }
          this.fieldStart[fields] = a;
          this.fieldEnd[fields] = b;
        }
        fields++;
        fieldStart = i + 1;
      }
    }
    if (fields !== columns.count) this.fail('row', `has ${fields} columns, expected ${columns.count}`);

    const label = columns.emotion < 0 ? -1 : this.label(buf, columns.emotion);
    const split = columns.usage < 0 ? UNSPLIT : this.usage(buf, columns.usage);
    let builder = this.builders.get(split);
    if (!builder) {
      builder = new FaceSetBuilder();
      this.builders.set(split, builder);
    }
    this.pixels(buf, this.fieldStart[columns.pixels] as number, this.fieldEnd[columns.pixels] as number, builder.reserve());
    builder.commit(label);
    this.rows++;
  }

  private label(buf: Buffer, column: number): number {
    const text = buf.toString('latin1', this.fieldStart[column], this.fieldEnd[column]).trim();
    const value = Number(text);
    if (text === '' || !Number.isInteger(value) || value < 0 || value >= NUM_CLASSES) {
      this.fail('emotion', `label "${text}" is not an integer 0-${NUM_CLASSES - 1}`);
    }
    return value;
  }

  private usage(buf: Buffer, column: number): string {
    const text = buf.toString('latin1', this.fieldStart[column], this.fieldEnd[column]).trim();
    if (!(FER_SPLITS as readonly string[]).includes(text)) {
      this.fail('Usage', `unknown Usage "${text}" (expected ${FER_SPLITS.join(', ')})`);
    }
    return text;
  }

  /** Parses space-separated 0-255 integers straight into the face's pixel slot. */
  private pixels(buf: Buffer, start: number, end: number, out: Uint8Array): void {
    let count = 0;
    let value = 0;
    let digits = 0;
    for (let i = start; i <= end; i++) {
      const c = i === end ? SPACE : (buf[i] as number);
      const digit = c - DIGIT_0;
      if (digit >= 0 && digit <= 9) {
        value = value * 10 + digit;
        digits++;
      } else if (c === SPACE) {
        if (digits === 0) continue;
        if (value > 255) this.fail('pixels', `pixel ${count + 1} is ${value}, outside 0-255`);
        if (count < FACE_PIXELS) out[count] = value;
        count++;
        value = 0;
        digits = 0;
      } else {
        let tokenEnd = i;
        while (tokenEnd < end && buf[tokenEnd] !== SPACE) tokenEnd++;
        let tokenStart = i;
        while (tokenStart > start && buf[tokenStart - 1] !== SPACE) tokenStart--;
        this.fail('pixels', `pixel ${count + 1} "${buf.toString('latin1', tokenStart, tokenEnd)}" is not an integer 0-255`);
      }
    }
    if (count !== FACE_PIXELS) this.fail('pixels', `has ${count} pixels, expected ${FACE_PIXELS} (48x48)`);
  }
}
