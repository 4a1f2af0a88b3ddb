/**
 * A cursor over a byte view that reports file offsets in its errors, and a growable writer.
 * @module
 */
import { WasmParseError } from "./errors.ts";
import {
  encodeS32,
  encodeS64,
  encodeU32,
  encodeU64,
  readS32,
  readS64,
  readU32,
  readU64,
} from "./leb128.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * A short all-ASCII name as a string, decoded in JS (most names are: Rust and C symbols), or
 * undefined for anything else, which goes to the UTF-8 decoder (a call into the runtime per name).
 */
function asciiString(b: Uint8Array): string | undefined {
  if (b.length > 1024) return undefined;
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) return undefined;
  return String.fromCharCode.apply(null, b as unknown as number[]);
}

/** Reads values from `bytes`; `base` is the file offset of `bytes[0]`, used in errors. */
export class ByteReader {
  /** Position of the cursor in `bytes`. */
  pos = 0;
  /** Reads `bytes`; `base` is the file offset of `bytes[0]`, used in error messages. */
  constructor(readonly bytes: Uint8Array, readonly base = 0) {}

  /** File offset of the cursor. */
  get offset(): number {
    return this.base + this.pos;
  }
  /** True when every byte was consumed. */
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }
  /** Throws a WasmParseError at the cursor (or at `at`, a position in this view). */
  fail(message: string, at = this.pos): never {
    throw new WasmParseError(message, this.base + at);
  }
  /** Runs a decoder at the cursor, advances past what it read, and rebases its error offsets. */
  private wrap<T>(fn: () => { value: T; length: number }): T {
    try {
      const { value, length } = fn();
      this.pos += length;
      return value;
    } catch (e) {
      if (e instanceof WasmParseError) {
        throw new WasmParseError(e.detail, e.offset + this.base);
      }
      throw e;
    }
  }
  /** Reads one byte. */
  u8(): number {
    if (this.pos >= this.bytes.length) this.fail("Unexpected end of section");
    return this.bytes[this.pos++];
  }
  /** Reads an unsigned LEB128 u32. */
  u32(): number {
    const b = this.bytes;
    let pos = this.pos;
    // Read in place (no result object); anything malformed goes to the checked decoder, which
    // names the problem.
    // Four groups fit in a small integer; the fifth adds its 4 bits by multiplication.
    let result = 0;
    for (let shift = 0; shift < 28 && pos < b.length; shift += 7) {
      const byte = b[pos++];
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.pos = pos;
        return result;
      }
    }
    if (pos < b.length && b[pos] <= 0x0f && pos - this.pos === 4) {
      this.pos = pos + 1;
      return result + b[pos] * 0x10000000;
    }
    return this.wrap(() => readU32(this.bytes, this.pos));
  }
  /** Reads a signed LEB128 i32. */
  s32(): number {
    return this.wrap(() => readS32(this.bytes, this.pos));
  }
  /** Reads an unsigned LEB128 u64 as a bigint. */
  u64(): bigint {
    return this.wrap(() => readU64(this.bytes, this.pos));
  }
  /** Reads a signed LEB128 i64 as a bigint. */
  s64(): bigint {
    return this.wrap(() => readS64(this.bytes, this.pos));
  }
  /** Reads a little-endian u16. */
  u16le(): number {
    const v = this.take(2);
    return v[0] | (v[1] << 8);
  }
  /** Reads a little-endian u32. */
  u32le(): number {
    const v = this.take(4);
    return (v[0] | (v[1] << 8) | (v[2] << 16) | (v[3] << 24)) >>> 0;
  }
  /** A zero-copy view of the next `n` bytes. */
  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.pos) {
      this.fail(
        `Length ${n} runs past the end of the section (${this.bytes.length - this.pos} bytes left)`,
      );
    }
    const view = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }
  /** Skips `n` bytes (what `take` does, without making a view). */
  skip(n: number): void {
    if (n > this.bytes.length - this.pos) {
      this.fail(
        `Length ${n} runs past the end of the section (${this.bytes.length - this.pos} bytes left)`,
      );
    }
    this.pos += n;
  }
  /** A length-prefixed UTF-8 name. */
  name(what = "name"): string {
    const start = this.pos;
    const len = this.u32();
    const raw = this.take(len);
    const ascii = asciiString(raw);
    if (ascii !== undefined) return ascii;
    try {
      return utf8.decode(raw);
    } catch {
      this.fail(`The ${what} is not valid UTF-8`, start);
    }
  }
  /** A vector's count; a count larger than the bytes left (each item takes one at least) fails. */
  count(): number {
    const count = this.u32();
    if (count > this.bytes.length - this.pos) {
      this.fail(`Vector count ${count} is larger than the bytes left in the section`);
    }
    return count;
  }
  /** A vector: count then `count` items read by `item`. */
  vec<T>(item: (index: number) => T): T[] {
    const count = this.count();
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item(i));
    return out;
  }
}

/** Decodes UTF-8 strictly, or returns undefined when the bytes are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** An append-only byte buffer with LEB128 helpers. */
export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private small: number[] = [];
  /** Number of bytes written so far. */
  length = 0;

  /** Moves buffered single bytes into a chunk. */
  private flush(): void {
    if (this.small.length) {
      this.chunks.push(new Uint8Array(this.small));
      this.small = [];
    }
  }
  /** Appends one byte (the low 8 bits of `b`). */
  byte(b: number): this {
    this.small.push(b & 0xff);
    this.length++;
    return this;
  }
  /** Appends bytes (large arrays are kept by reference until `finish`). */
  bytes(b: Uint8Array): this {
    if (b.length < 64) {
      for (let i = 0; i < b.length; i++) this.small.push(b[i]);
    } else {
      this.flush();
      this.chunks.push(b);
    }
    this.length += b.length;
    return this;
  }
  /** Appends an unsigned LEB128 u32, padded to `padTo` bytes when given. */
  u32(v: number, padTo = 0): this {
    if (padTo !== 0 || !(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) {
      return this.bytes(encodeU32(v, padTo));
    }
    // The common case without an array per number.
    do {
      const low = v % 128;
      v = Math.floor(v / 128);
      this.small.push(v === 0 ? low : low | 0x80);
      this.length++;
    } while (v !== 0);
    return this;
  }
  /** Appends a signed LEB128 i32, padded to `padTo` bytes when given. */
  s32(v: number, padTo = 0): this {
    return this.bytes(encodeS32(v, padTo));
  }
  /** Appends an unsigned LEB128 u64, padded to `padTo` bytes when given. */
  u64(v: bigint, padTo = 0): this {
    return this.bytes(encodeU64(v, padTo));
  }
  /** Appends a signed LEB128 i64, padded to `padTo` bytes when given. */
  s64(v: bigint, padTo = 0): this {
    return this.bytes(encodeS64(v, padTo));
  }
  /** Appends a little-endian u16. */
  u16le(v: number): this {
    return this.byte(v).byte(v >> 8);
  }
  /** Appends a little-endian u32. */
  u32le(v: number): this {
    return this.byte(v).byte(v >> 8).byte(v >> 16).byte(v >>> 24);
  }
  /** Appends a length-prefixed UTF-8 name. */
  name(s: string): this {
    const b = utf8Encoder.encode(s);
    return this.u32(b.length).bytes(b);
  }
  /** Length-prefixed bytes. */
  sized(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  /** Returns everything written as one array. */
  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.length);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}
