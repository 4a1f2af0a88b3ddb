/**
 * LEB128 encoding and decoding, including the 5- and 10-byte padded forms that relocatable
 * objects use for patchable immediates.
 * @module
 */
import { WasmParseError } from "./errors.ts";

/** A decoded value and the number of bytes it took. */
export interface Decoded<T> {
  /** The decoded value. */
  value: T;
  /** How many bytes the encoding took. */
  length: number;
}

function truncated(offset: number): WasmParseError {
  return new WasmParseError("Unexpected end of input inside a LEB128 number", offset);
}

/**
 * Decodes an unsigned LEB128 number of at most `bits` bits (32 for u32).
 *
 * @example Decode a padded u32
 * ```ts
 * import { readU32 } from "./leb128.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual(readU32(new Uint8Array([0x85, 0x80, 0x80, 0x80, 0x00]), 0), { value: 5, length: 5 });
 * ```
 */
export function readU32(bytes: Uint8Array, offset: number): Decoded<number> {
  let result = 0;
  let shift = 0;
  let pos = offset;
  for (;;) {
    if (pos >= bytes.length) throw truncated(pos);
    const byte = bytes[pos++];
    if (shift === 28) {
      if (byte & 0x80) throw new WasmParseError("LEB128 u32 is longer than 5 bytes", offset);
      if (byte & 0x70) throw new WasmParseError("LEB128 u32 does not fit in 32 bits", offset);
    }
    result |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) return { value: result >>> 0, length: pos - offset };
    shift += 7;
  }
}

/** Decodes a signed LEB128 i32. */
export function readS32(bytes: Uint8Array, offset: number): Decoded<number> {
  let result = 0;
  let shift = 0;
  let pos = offset;
  let byte: number;
  for (;;) {
    if (pos >= bytes.length) throw truncated(pos);
    byte = bytes[pos++];
    if (shift === 28) {
      if (byte & 0x80) throw new WasmParseError("LEB128 s32 is longer than 5 bytes", offset);
      const top = byte & 0x78;
      if (top !== 0 && top !== 0x78) {
        throw new WasmParseError("LEB128 s32 does not fit in 32 bits", offset);
      }
    }
    result |= (byte & 0x7f) << shift;
    shift += 7;
    if (!(byte & 0x80)) break;
  }
  if (shift < 32 && (byte & 0x40)) result |= -1 << shift;
  return { value: result | 0, length: pos - offset };
}

function readBig(
  bytes: Uint8Array,
  offset: number,
  signed: boolean,
  maxBytes: number,
): Decoded<bigint> {
  let result = 0n;
  let shift = 0n;
  let pos = offset;
  let byte = 0;
  for (let i = 0;; i++) {
    if (pos >= bytes.length) throw truncated(pos);
    if (i === maxBytes) {
      throw new WasmParseError(`LEB128 number is longer than ${maxBytes} bytes`, offset);
    }
    byte = bytes[pos++];
    result |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (!(byte & 0x80)) break;
  }
  if (signed) {
    if (byte & 0x40) result -= 1n << shift;
    result = BigInt.asIntN(64, result);
  } else if (result >= 1n << 64n) {
    throw new WasmParseError("LEB128 u64 does not fit in 64 bits", offset);
  }
  return { value: result, length: pos - offset };
}

/** Decodes an unsigned LEB128 u64 as a bigint. */
export function readU64(bytes: Uint8Array, offset: number): Decoded<bigint> {
  return readBig(bytes, offset, false, 10);
}

/** Decodes a signed LEB128 i64 as a bigint. */
export function readS64(bytes: Uint8Array, offset: number): Decoded<bigint> {
  return readBig(bytes, offset, true, 10);
}

/**
 * Encodes an unsigned number (u32 range, or u64 as a bigint). With `padTo`, pads to exactly that
 * many bytes (5 for u32, 10 for u64), as relocatable objects do.
 *
 * @example Minimal and padded
 * ```ts
 * import { encodeU32 } from "./leb128.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual([...encodeU32(624485)], [0xe5, 0x8e, 0x26]);
 * assert.deepStrictEqual([...encodeU32(1, 5)], [0x81, 0x80, 0x80, 0x80, 0x00]);
 * ```
 */
export function encodeU32(value: number, padTo = 0): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Cannot encode ${value} as u32`);
  }
  if (padTo === 0 && value < 0x80) return new Uint8Array([value]);
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0 || out.length + 1 < padTo) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  while (out.length < padTo) out.push(out.length + 1 < padTo ? 0x80 : 0x00);
  if (padTo && out.length > padTo) throw new RangeError(`Value does not fit in ${padTo} bytes`);
  return new Uint8Array(out);
}

/** Encodes an unsigned 64-bit value (optionally padded to `padTo` bytes). */
export function encodeU64(value: bigint, padTo = 0): Uint8Array {
  if (value < 0n || value >= 1n << 64n) throw new RangeError(`Cannot encode ${value} as u64`);
  return encodeUnsigned(value, padTo);
}

function encodeUnsigned(value: bigint, padTo: number): Uint8Array {
  const out: number[] = [];
  do {
    let byte = Number(value & 0x7fn);
    value >>= 7n;
    if (value !== 0n || out.length + 1 < padTo) byte |= 0x80;
    out.push(byte);
  } while (value !== 0n);
  while (out.length < padTo) out.push(out.length + 1 < padTo ? 0x80 : 0x00);
  if (padTo && out.length > padTo) throw new RangeError(`Value does not fit in ${padTo} bytes`);
  return new Uint8Array(out);
}

/** Encodes a signed value (number for i32, bigint for i64), optionally padded. */
export function encodeS32(value: number, padTo = 0): Uint8Array {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`Cannot encode ${value} as s32`);
  }
  return encodeSigned(BigInt(value), padTo);
}

/** Encodes a signed 64-bit value, optionally padded. */
export function encodeS64(value: bigint, padTo = 0): Uint8Array {
  if (value < -(1n << 63n) || value >= 1n << 63n) {
    throw new RangeError(`Cannot encode ${value} as s64`);
  }
  return encodeSigned(value, padTo);
}

function encodeSigned(value: bigint, padTo: number): Uint8Array {
  const out: number[] = [];
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && !(byte & 0x40)) || (value === -1n && (byte & 0x40));
    if (done && out.length + 1 >= padTo) {
      out.push(byte);
      break;
    }
    if (done) {
      // pad with sign-extension bytes
      out.push(byte | 0x80);
      const fill = value === -1n ? 0x7f : 0x00;
      while (out.length + 1 < padTo) out.push(fill | 0x80);
      out.push(fill);
      break;
    }
    out.push(byte | 0x80);
  }
  if (padTo && out.length > padTo) throw new RangeError(`Value does not fit in ${padTo} bytes`);
  return new Uint8Array(out);
}
