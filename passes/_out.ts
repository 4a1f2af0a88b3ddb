/**
 * A growable output buffer for the passes that rewrite code bytes (`dce`, the panic byte engine):
 * bytes and unsigned LEB128 appended in place, the result a view without a copy.
 * @module
 */

/** A growable output buffer. */
export class Out {
  buf: Uint8Array;
  len = 0;
  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(Math.max(size, 16));
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  copy(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /**
   * Appends `src[from, to)`. Short ranges (most runs between two immediates) are copied byte by
   * byte: a `subarray` view per range would be an allocation per instruction run.
   */
  range(src: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    this.ensure(n);
    if (n > 64) {
      this.buf.set(src.subarray(from, to), this.len);
      this.len += n;
      return;
    }
    const buf = this.buf;
    let len = this.len;
    for (let i = from; i < to; i++) buf[len++] = src[i];
    this.len = len;
  }
  u32(v: number): void {
    this.ensure(5);
    do {
      let byte = v & 0x7f;
      v >>>= 7;
      if (v !== 0) byte |= 0x80;
      this.buf[this.len++] = byte;
    } while (v !== 0);
  }
  /** The bytes written (a view: no copy). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/**
 * A code section payload copied into an {@linkcode Out} with some bodies written anew: the body
 * count first (`count`), then, before each body the caller writes (its size first), the untouched
 * bytes since the last one as one raw run, size prefixes included; `finish` copies the rest.
 * `moved(from, to, at)` hears where each run of payload bytes [from, to) went (for relocations).
 *
 * @example Replace the second of three bodies
 * ```ts
 * import assert from "node:assert";
 * import { CodeRuns, Out } from "./_out.ts";
 * // three bodies: (func) (func nop) (func)
 * const payload = new Uint8Array([3, 2, 0, 0x0b, 3, 0, 0x01, 0x0b, 2, 0, 0x0b]);
 * const bodies = [2, 5, 9].map((at) => ({ offset: at, body: payload.subarray(at, at + (at === 5 ? 3 : 2)) }));
 * const out = new Out();
 * const runs = new CodeRuns(out, payload, bodies, 3);
 * runs.skip(1);
 * out.u32(2);
 * out.copy(new Uint8Array([0, 0x0b]));
 * runs.finish();
 * assert.deepStrictEqual([...out.result()], [3, 2, 0, 0x0b, 2, 0, 0x0b, 2, 0, 0x0b]);
 * ```
 */
export class CodeRuns {
  /** Payload bytes before this are written (or replaced). */
  #copied: number;
  constructor(
    readonly out: Out,
    readonly payload: Uint8Array,
    readonly bodies: readonly { body: Uint8Array }[],
    count: number,
    readonly moved?: (from: number, to: number, at: number) => void,
  ) {
    out.u32(count);
    let end = 0;
    while (payload[end] & 0x80) end++;
    this.#copied = end + 1; // the old count is replaced by `count`
  }

  /** Where `body` (a view of the payload) starts in it. */
  #at(body: Uint8Array): number {
    return body.byteOffset - this.payload.byteOffset;
  }

  #copy(to: number): void {
    const from = this.#copied;
    if (to <= from) return;
    this.moved?.(from, to, this.out.len);
    this.out.range(this.payload, from, to);
  }

  /**
   * Copies the untouched bytes up to body `i`'s size prefix (where the previous body ends), and
   * leaves body `i`, size included, to the caller. Bodies go in ascending order.
   */
  skip(i: number): void {
    const previous = i > 0 ? this.bodies[i - 1].body : undefined;
    if (previous) this.#copy(this.#at(previous) + previous.length);
    const body = this.bodies[i].body;
    this.#copied = this.#at(body) + body.length;
  }

  /** Copies the bytes after the last body written anew. */
  finish(): void {
    this.#copy(this.payload.length);
  }
}
