/**
 * The initial memory image of a module (its active data segments) and what panics leave in it:
 * `core::panic::Location` records, the file names they point to, and panic messages.
 * @module
 */
import { readS32 } from "../wasm/leb128.ts";
import type { WasmModule } from "../wasm/module.ts";
import { readData } from "../wasm/types.ts";

/** A `core::panic::Location` as read from the data segments (wasm32 layout). */
export interface LocationRecord {
  /** Address of the record. */
  address: number;
  filePtr: number;
  fileLen: number;
  file: string;
  line: number;
  col: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Size of a Location on wasm32: file pointer, file length, line, column (4 bytes each). */
export const LOCATION_BYTES = 16;

/** Active data segments with constant offsets, as address ranges. */
export class DataImage {
  readonly segments: { start: number; bytes: Uint8Array }[] = [];

  constructor(module: WasmModule) {
    for (const s of readData(module)) {
      if (s.mode !== "active" || s.memory !== 0 || !s.offset || s.offset[0] !== 0x41) continue;
      const start = readS32(s.offset, 1).value >>> 0;
      this.segments.push({ start, bytes: s.data });
    }
  }

  /** The addresses the segments cover, from the lowest start to the highest end ([0, 0) if none). */
  get span(): [number, number] {
    if (this.segments.length === 0) return [0, 0];
    let low = Infinity, high = 0;
    for (const s of this.segments) {
      low = Math.min(low, s.start);
      high = Math.max(high, s.start + s.bytes.length);
    }
    return [low, high];
  }

  /** The segment holding all of [address, address + length), or undefined. */
  #segment(address: number, length: number): { start: number; bytes: Uint8Array } | undefined {
    const segments = this.segments;
    for (let i = 0; i < segments.length; i++) {
      const at = address - segments[i].start;
      if (at >= 0 && at + length <= segments[i].bytes.length) return segments[i];
    }
    return undefined;
  }

  /** The bytes at [address, address + length), or undefined when not all inside one segment. */
  bytes(address: number, length: number): Uint8Array | undefined {
    const s = this.#segment(address, length);
    return s?.bytes.subarray(address - s.start, address - s.start + length);
  }

  u32(address: number): number | undefined {
    const s = this.#segment(address, 4);
    if (!s) return undefined;
    const b = s.bytes, at = address - s.start;
    return (b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24) >>> 0;
  }

  /**
   * Reads a Location at `address`, or undefined when the bytes there do not look like one: the
   * file name must lie in the data, be UTF-8 without control characters, and line and column
   * must be plausible.
   */
  location(address: number): LocationRecord | undefined {
    if (!this.#segment(address, LOCATION_BYTES)) return undefined;
    const filePtr = this.u32(address)!, fileLen = this.u32(address + 4)!;
    const line = this.u32(address + 8)!, col = this.u32(address + 12)!;
    if (fileLen === 0 || fileLen > 4096 || line === 0 || line > 10_000_000) return undefined;
    if (col === 0 || col > 100_000) return undefined;
    const file = this.#fileName(filePtr, fileLen);
    return file === undefined ? undefined : { address, filePtr, fileLen, file, line, col };
  }

  /** File names by (pointer, length): many Locations share one. */
  readonly #files = new Map<number, string | undefined>();

  /** The file name at `ptr`: UTF-8 without control characters, or undefined. */
  #fileName(ptr: number, length: number): string | undefined {
    const key = ptr * 4097 + length; // length ≤ 4096
    if (this.#files.has(key)) return this.#files.get(key);
    const name = this.bytes(ptr, length);
    let file: string | undefined;
    try {
      file = name && utf8.decode(name);
    } catch {
      file = undefined;
    }
    // deno-lint-ignore no-control-regex
    if (file !== undefined && /[\u0000-\u001f]/.test(file)) file = undefined;
    this.#files.set(key, file);
    return file;
  }
}

/** Byte ranges, merged, to count bytes without counting overlaps twice. */
export class RangeSet {
  private ranges: [number, number][] = [];
  add(start: number, length: number): void {
    if (length > 0) this.ranges.push([start, start + length]);
  }
  get bytes(): number {
    const sorted = [...this.ranges].sort((a, b) => a[0] - b[0]);
    let total = 0, end = -1;
    for (const [s, e] of sorted) {
      if (e <= end) continue;
      total += e - Math.max(s, end);
      end = e;
    }
    return total;
  }
}
