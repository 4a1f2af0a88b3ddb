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
