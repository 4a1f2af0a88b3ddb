/**
 * The zero-copy module model: a WebAssembly binary as a list of sections, each a view of the
 * input, decoded only on demand and re-encoded only when changed.
 * @module
 */
import { ByteReader, decodeUtf8 } from "./bytes.ts";
import { NotWasmError, WasmParseError } from "./errors.ts";
import { describeForeignFile } from "./identify.ts";
import { encodeU32, readU32 } from "./leb128.ts";

/** Standard section ids. */
export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

const SECTION_NAMES = [
  "custom",
  "type",
  "import",
  "function",
  "table",
  "memory",
  "global",
  "export",
  "start",
  "element",
  "code",
  "data",
  "datacount",
  "tag",
];

/** Position of each standard section id in the order the binary format requires. */
const SECTION_ORDER: Record<number, number> = {
  1: 1,
  2: 2,
  3: 3,
  4: 4,
  5: 5,
  13: 6,
  6: 7,
  7: 8,
  8: 9,
  9: 10,
  12: 11,
  10: 12,
  11: 13,
};

/**
 * One section of a module. For a section read from a buffer, `payload` is a view of the input
 * until a pass assigns a new one; assigning `payload` (or `name`, `id`) marks the section changed
 * so it is re-encoded. A section a pass makes itself is a plain object without `raw`.
 */
export interface Section {
  /** Section id (0 for custom sections). */
  id: number;
  /** Name of a custom section, or the standard name ("type", "code", ...). */
  name: string;
  /** The section's payload (after the custom section's name for custom sections). */
  payload: Uint8Array;
  /** File offset of the payload in the original input (for error messages); -1 when new. */
  payloadOffset: number;
  /** The original bytes of the whole section (header included) while unchanged. */
  raw?: Uint8Array;
  /** Size of the whole original section while unchanged (known without loading it). */
  rawSize?: number;
}

/** Size of a section as encoded, header included, without loading a lazily read section. */
export function sectionByteLength(s: Section): number {
  if (s.rawSize !== undefined) return s.rawSize;
  if (s.raw) return s.raw.length;
  const nameLen = s.id === 0 ? new TextEncoder().encode(s.name).length : 0;
  const body = s.payload.length + (s.id === 0 ? nameLen + encodeU32(nameLen).length : 0);
  return 1 + encodeU32(body).length + body;
}

/**
 * Fills `bytes[start, end)` from the file on first use: lets a reader skip the contents of
 * custom sections that no pass looks at (see `readModuleFile`).
 */
export type LazyLoader = (start: number, end: number) => void;

/** Returns the display name of a section id. */
export function sectionName(id: number): string {
  return SECTION_NAMES[id] ?? `unknown(${id})`;
}

/** Options for {@linkcode readModule}. */
export interface ReadOptions {
  /** File name used in error messages. */
  file?: string;
  /**
   * For partially filled input: the header bytes of every section (id, size, custom name) are
   * present, standard sections are filled, and custom section contents are filled by this
   * function when first used.
   */
  loadCustom?: LazyLoader;
}

/**
 * A parsed module: header plus sections. Section payloads are views of the input buffer.
 *
 * @example Read and write back unchanged
 * ```ts
 * import { WasmModule } from "./module.ts";
 * import assert from "node:assert";
 * const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 4, 3, 0x61, 0x62, 0x63]);
 * const m = WasmModule.parse(bytes);
 * assert.strictEqual(m.sections[0].name, "abc");
 * assert.deepStrictEqual(m.toBytes(), bytes);
 * ```
 */
export class WasmModule {
  /** The sections in file order. Edit this array to add, drop or reorder sections. */
  sections: Section[];
  /** The input this module was read from. */
  readonly source: Uint8Array;
  /** File name, when known. */
  file?: string;

  private constructor(source: Uint8Array, sections: Section[], file?: string) {
    this.source = source;
    this.sections = sections;
    this.file = file;
  }

  /** Reads the header and the section table; contents are decoded later, on demand. */
  static parse(bytes: Uint8Array, options: ReadOptions = {}): WasmModule {
    const { file } = options;
    try {
      return new WasmModule(bytes, indexSections(bytes, options.loadCustom), file);
    } catch (e) {
      if (e instanceof WasmParseError) e.file ??= file;
      throw e;
    }
  }

  /** Makes an empty module (header only). */
  static empty(): WasmModule {
    return WasmModule.parse(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  }

  /** True for relocatable object files (those with a `linking` section). */
  get isRelocatable(): boolean {
    return this.sections.some((s) => s.id === 0 && s.name === "linking");
  }

  /** The first section with this id (or custom name). */
  section(idOrName: number | string): Section | undefined {
    return typeof idOrName === "number"
      ? this.sections.find((s) => s.id === idOrName && s.id !== 0)
      : this.sections.find((s) => s.id === 0 && s.name === idOrName);
  }

  /** All custom sections, optionally filtered by name. */
  customSections(name?: string): Section[] {
    return this.sections.filter((s) => s.id === 0 && (name === undefined || s.name === name));
  }

  /** A reader over a section's payload whose errors carry file offsets. */
  reader(section: Section): ByteReader {
    return new ByteReader(section.payload, Math.max(0, section.payloadOffset));
  }

  /** Replaces a section's payload (marks it changed); the same as assigning `payload`. */
  setPayload(section: Section, payload: Uint8Array): void {
    section.payload = payload;
    section.raw = undefined;
    section.rawSize = undefined;
    section.payloadOffset = -1;
  }

  /**
   * Replaces the payload of the standard section `id`, or inserts the section where the binary
   * format orders it (after any custom sections that follow its predecessor).
   */
  setSection(id: number, payload: Uint8Array): Section {
    const existing = this.section(id);
    if (existing) {
      this.setPayload(existing, payload);
      return existing;
    }
    const rank = SECTION_ORDER[id];
    if (rank === undefined || id === 0) throw new RangeError(`Not a standard section id: ${id}`);
    const section: Section = { id, name: sectionName(id), payload, payloadOffset: -1 };
    const after = this.sections.findIndex((s) => s.id !== 0 && SECTION_ORDER[s.id] > rank);
    if (after < 0) {
      // after the last standard section, before trailing custom sections
      let last = -1;
      this.sections.forEach((s, i) => {
        if (s.id !== 0) last = i;
      });
      this.sections.splice(last + 1, 0, section);
    } else this.sections.splice(after, 0, section);
    return section;
  }

  /** Adds a custom section (at the end, or before `before`). */
  addCustomSection(name: string, payload: Uint8Array, before?: Section): Section {
    const section: Section = { id: 0, name, payload, payloadOffset: -1 };
    const at = before ? this.sections.indexOf(before) : -1;
    if (at < 0) this.sections.push(section);
    else this.sections.splice(at, 0, section);
    return section;
  }

  /** True when no section was changed, added, dropped or moved since parsing. */
  get unchanged(): boolean {
    let pos = 8;
    for (const s of this.sections) {
      if (!s.raw || s.raw.buffer !== this.source.buffer) return false;
      if (s.raw.byteOffset - this.source.byteOffset !== pos) return false;
      pos += s.raw.length;
    }
    return pos === this.source.length;
  }

  /** The pieces of the output in order: raw views for untouched sections, new bytes otherwise. */
  chunks(): Uint8Array[] {
    const out: Uint8Array[] = [this.source.subarray(0, 8)];
    for (const s of this.sections) {
      if (s.raw) {
        out.push(s.raw);
        continue;
      }
      const name = s.id === 0 ? new TextEncoder().encode(s.name) : undefined;
      const nameLen = name ? encodeU32(name.length) : undefined;
      const size = s.payload.length + (name ? name.length + nameLen!.length : 0);
      out.push(new Uint8Array([s.id]), encodeU32(size));
      if (name) out.push(nameLen!, name);
      out.push(s.payload);
    }
    return out;
  }

  /** The encoded size in bytes, without encoding. */
  get byteLength(): number {
    return this.chunks().reduce((n, c) => n + c.length, 0);
  }

  /** Encodes the module. Returns the input itself when nothing changed. */
  toBytes(): Uint8Array {
    if (this.unchanged) return this.source;
    const chunks = this.chunks();
    let size = 0;
    for (const c of chunks) size += c.length;
    const out = new Uint8Array(size);
    let pos = 0;
    for (const c of chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}

/**
 * Joins `chunks` (a module's {@linkcode WasmModule.chunks}) into `target`, overwriting it, and
 * returns the joined bytes (a view of `target`); undefined, with `target` untouched, when they do
 * not fit or the join could overwrite a chunk before it is copied. Chunks may be views of
 * `target`'s own buffer (the untouched sections of the module read from it): each must then lie
 * at or after the place it is copied to, so copying in order never reads overwritten bytes. For a
 * caller that owns the input's buffer and is done with it: the output costs no new memory.
 *
 * @example Drop a section in place
 * ```ts
 * import assert from "node:assert";
 * import { joinInto, WasmModule } from "./module.ts";
 * const input = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 2, 1, 0x78, 5, 1, 0]);
 * const m = WasmModule.parse(input);
 * m.sections = m.sections.filter((s) => s.id !== 0); // the custom section "x"
 * const expected = m.toBytes();
 * const out = joinInto(m.chunks(), input)!;
 * assert.deepStrictEqual(out, expected);
 * assert.strictEqual(out.buffer, input.buffer);
 * ```
 */
export function joinInto(
  chunks: readonly Uint8Array[],
  target: Uint8Array,
): Uint8Array | undefined {
  let size = 0;
  for (const c of chunks) {
    if (c.buffer === target.buffer && c.byteOffset - target.byteOffset < size) return undefined;
    size += c.length;
  }
  if (size > target.length) return undefined;
  const whole = new Uint8Array(target.buffer as ArrayBuffer);
  let pos = 0;
  for (const c of chunks) {
    // copyWithin is a memmove: a chunk may overlap where it goes
    if (c.buffer === target.buffer) {
      whole.copyWithin(target.byteOffset + pos, c.byteOffset, c.byteOffset + c.length);
    } else target.set(c, pos);
    pos += c.length;
  }
  return target.subarray(0, size);
}

/**
 * A section read from a buffer. `payload` and `raw` are views of the input (filled by `load` on
 * first access for lazily read custom sections). Assigning `id`, `name` or `payload` marks the
 * section changed, so it is re-encoded instead of being copied raw: a pass can never write a
 * stale original by accident.
 */
class SourceSection implements Section {
  #id: number;
  #name: string;
  #payload: Uint8Array | undefined;
  /** Once changed, `raw` is whatever was assigned (normally undefined). */
  #raw: Uint8Array | undefined;
  #changed = false;
  #loaded: boolean;
  readonly #bytes: Uint8Array;
  readonly #start: number;
  readonly #end: number;
  readonly #load: LazyLoader | undefined;
  payloadOffset: number;
  rawSize?: number;

  constructor(
    id: number,
    name: string,
    bytes: Uint8Array,
    span: { start: number; payload: number; end: number },
    load?: LazyLoader,
  ) {
    this.#id = id;
    this.#name = name;
    this.#bytes = bytes;
    this.#start = span.start;
    this.#end = span.end;
    this.#load = load;
    this.#loaded = load === undefined;
    this.payloadOffset = span.payload;
    this.rawSize = span.end - span.start;
  }

  #ensure(): void {
    if (!this.#loaded) this.#load!(this.#start, this.#end);
    this.#loaded = true;
  }

  #touch(): void {
    if (!this.#changed) this.#payload ??= this.payload;
    this.#changed = true;
    this.#raw = undefined;
    this.rawSize = undefined;
    this.payloadOffset = -1;
  }

  get id(): number {
    return this.#id;
  }
  set id(v: number) {
    if (v === this.#id) return;
    this.#touch();
    this.#id = v;
  }

  get name(): string {
    return this.#name;
  }
  set name(v: string) {
    if (v === this.#name) return;
    this.#touch();
    this.#name = v;
  }

  get payload(): Uint8Array {
    if (this.#payload) return this.#payload;
    this.#ensure();
    return this.#payload = this.#bytes.subarray(this.payloadOffset, this.#end);
  }
  set payload(v: Uint8Array) {
    this.#touch();
    this.#payload = v;
  }

  get raw(): Uint8Array | undefined {
    if (this.#changed) return this.#raw;
    this.#ensure();
    return this.#raw ??= this.#bytes.subarray(this.#start, this.#end);
  }
  set raw(v: Uint8Array | undefined) {
    this.#touch();
    this.#raw = v;
  }

  /** Plain data for `console.log`, JSON and test assertions. */
  toJSON(): Record<string, unknown> {
    return { id: this.id, name: this.name, payloadOffset: this.payloadOffset, size: this.rawSize };
  }
}

/** Reads the header and the section table of `bytes`. */
function indexSections(bytes: Uint8Array, loadCustom?: LazyLoader): Section[] {
  const foreign = describeForeignFile(bytes);
  if (foreign) {
    const hint = foreign.includes("WAT")
      ? "assemble it first (wat2wasm, or `linkpass asm` for rwat fragments)"
      : foreign.includes("ar archive")
      ? "pass the archive to `linkpass link`, or one of its members"
      : "pass a WebAssembly module or object file (.wasm/.o, starting with 00 61 73 6d)";
    throw new NotWasmError(`not a WebAssembly module (${foreign}); ${hint}`);
  }
  if (bytes.length < 8) {
    throw new WasmParseError(
      `truncated WebAssembly header: ${bytes.length} bytes, need 8; the file was cut short, rebuild it`,
      bytes.length,
    );
  }
  const version = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  if (version === 0x0001000d || (bytes[4] === 0x0d && bytes[6] === 0x01)) {
    throw new NotWasmError(
      "a WebAssembly component, not a core module; linkpass works on core modules (pass the core module the component embeds)",
    );
  }
  if (version !== 1) {
    throw new WasmParseError(`unsupported WebAssembly version ${version >>> 0} (expected 1)`, 4);
  }
  const sections: Section[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos;
    const id = bytes[pos++];
    if (id > 13) {
      throw new WasmParseError(
        `unknown section id ${id}; the file is corrupt or uses a proposal linkpass does not know`,
        start,
      );
    }
    let size;
    try {
      size = readU32(bytes, pos);
    } catch (e) {
      if (e instanceof WasmParseError) {
        throw new WasmParseError(
          `invalid size of the ${
            sectionName(id)
          } section: ${e.detail}; the file is corrupt, rebuild it`,
          pos,
        );
      }
      throw e;
    }
    pos += size.length;
    const end = pos + size.value;
    if (end > bytes.length) {
      throw new WasmParseError(
        `invalid section size: the ${sectionName(id)} section's size 0x${
          size.value.toString(16)
        } runs past the end of the file (${
          bytes.length - pos
        } bytes left); the file is truncated or corrupt, rebuild it`,
        start,
      );
    }
    let name = sectionName(id);
    let payloadStart = pos;
    if (id === 0) {
      const r = new ByteReader(bytes.subarray(pos, end), pos);
      const nameStart = r.offset;
      const len = r.u32();
      const raw = r.take(len);
      const decoded = decodeUtf8(raw);
      if (decoded === undefined) {
        throw new WasmParseError(
          "custom section name is not valid UTF-8; the file is corrupt, rebuild it",
          nameStart,
        );
      }
      name = decoded;
      payloadStart = r.offset;
    }
    const span = { start, payload: payloadStart, end };
    sections.push(new SourceSection(id, name, bytes, span, id === 0 ? loadCustom : undefined));
    pos = end;
  }
  return sections;
}

/**
 * Reads a module or relocatable object: the header and section table now, contents on demand.
 *
 * @example Read a module
 * ```ts
 * import assert from "node:assert";
 * import { readModule } from "./module.ts";
 * const m = readModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
 * assert.strictEqual(m.sections.length, 0);
 * ```
 */
export function readModule(bytes: Uint8Array, options?: ReadOptions): WasmModule {
  return WasmModule.parse(bytes, options);
}
