/**
 * Decoding of the `js_bindgen.import` / `js_bindgen.embed` records of a linked module (layout in
 * FORMATS.md): u32-framed records of `module`, `name`, the required embeds and a JS snippet.
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import type { Section, WasmModule } from "../wasm/module.ts";

/** Section holding import snippets. */
export const IMPORT_SECTION = "js_bindgen.import";
/** Section holding embed snippets. */
export const EMBED_SECTION = "js_bindgen.embed";

/** A `module`/`name` pair (an import, or an embed). */
export interface JsName {
  /** The import module (or the embed's namespace). */
  module: string;
  /** The import name (or the embed's name). */
  name: string;
}

/** One decoded import or embed record. */
export interface JsRecord extends JsName {
  /** Which section it came from. */
  kind: "import" | "embed";
  /** Embeds the snippet uses (entries with an empty module are dropped, as FORMATS.md says). */
  embeds: JsName[];
  /** The JS expression. */
  text: string;
  /** File offset of the record's length prefix (for messages; -1 for rebuilt sections). */
  offset: number;
  /** Where the record came from, for messages (`record 2 of "lib.rlib(a.o)"`), when known. */
  where?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads every import and embed record of `module`, in section order. */
export function readJsRecords(module: WasmModule): JsRecord[] {
  const out: JsRecord[] = [];
  for (const section of module.customSections()) {
    const kind = section.name === IMPORT_SECTION
      ? "import"
      : section.name === EMBED_SECTION
      ? "embed"
      : undefined;
    if (kind) out.push(...decodeSection(section, kind));
  }
  return out;
}

/** Splits and decodes one section; malformed bytes throw a WasmParseError at their offset. */
export function decodeSection(section: Section, kind: "import" | "embed"): JsRecord[] {
  const payload = section.payload;
  const base = section.payloadOffset < 0 ? 0 : section.payloadOffset;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: JsRecord[] = [];
  let pos = 0;
  while (pos < payload.length) {
    const start = pos;
    const fail = (what: string, at: number): never => {
      throw new WasmParseError(
        `malformed record in section "${section.name}": ${what}; rebuild the crate that embeds it with a matching js-bindgen/linkpass version`,
        base + at,
      );
    };
    if (payload.length - pos < 4) {
      fail(`${payload.length - pos} bytes left over after the last whole record`, pos);
    }
    const len = view.getUint32(pos, true);
    pos += 4;
    const end = pos + len;
    if (end > payload.length) {
      fail(`a record of ${len} bytes runs past the end of the section`, start);
    }
    const str = (what: string): string => {
      if (end - pos < 2) fail(`the record ends inside the length of its ${what}`, pos);
      const n = view.getUint16(pos, true);
      pos += 2;
      if (end - pos < n) fail(`the ${what} (${n} bytes) runs past the end of the record`, pos - 2);
      try {
        return utf8.decode(payload.subarray(pos, pos + n));
      } catch {
        return fail(`the ${what} is not valid UTF-8`, pos);
      } finally {
        pos += n;
      }
    };
    const module = str("module name");
    const name = str("name");
    if (pos >= end) fail("the record ends before its embed count", pos);
    const count = payload[pos++];
    const embeds: JsName[] = [];
    for (let i = 0; i < count; i++) {
      const e = { module: str("embed module name"), name: str("embed name") };
      if (e.module !== "") embeds.push(e);
    }
    let text: string;
    try {
      text = utf8.decode(payload.subarray(pos, end));
    } catch {
      text = fail("the JS text is not valid UTF-8", pos);
    }
    out.push({
      kind,
      module,
      name,
      embeds,
      text,
      offset: section.payloadOffset < 0 ? -1 : base + start,
    });
    pos = end;
  }
  return out;
}

/**
 * Encodes one record with its u32 length prefix (the inverse of {@linkcode decodeSection}; for
 * tests and tools that build sections).
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert";
 * import { encodeJsRecord } from "./records.ts";
 * const bytes = encodeJsRecord({ module: "m", name: "f", embeds: [], text: "() => 1" });
 * assert.ok(bytes.length === 4 + 2 + 1 + 2 + 1 + 1 + 7);
 * ```
 */
export function encodeJsRecord(
  record: JsName & { embeds?: JsName[]; text: string },
): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const str = (s: string) => {
    const b = enc.encode(s);
    if (b.length > 0xffff) {
      throw new RangeError(`"${s.slice(0, 20)}..." is longer than 65535 bytes`);
    }
    parts.push(b.length & 0xff, b.length >> 8, ...b);
  };
  str(record.module);
  str(record.name);
  const embeds = record.embeds ?? [];
  if (embeds.length > 255) throw new RangeError("a record can name at most 255 embeds");
  parts.push(embeds.length);
  for (const e of embeds) {
    str(e.module);
    str(e.name);
  }
  const text = enc.encode(record.text);
  const out = new Uint8Array(4 + parts.length + text.length);
  new DataView(out.buffer).setUint32(0, parts.length + text.length, true);
  out.set(parts, 4);
  out.set(text, 4 + parts.length);
  return out;
}
