/**
 * Scanning linker inputs: objects and archive members are read once (members are views of the
 * archive bytes) for their embedded WAT fragments and format-version records; archives with
 * members the linker rejects get a cleaned copy.
 * @module
 */
import { decodeSection, EMBED_SECTION, IMPORT_SECTION } from "../glue/records.ts";
import { type Archive, readArchive, writeArchive } from "../wasm/archive.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";
import type { InputScan } from "./cache.ts";
import {
  decodeFormatRecord,
  foreignObject,
  FORMAT_SECTION,
  isBitcode,
  refuseForeign,
  splitRecords,
} from "./guards.ts";

/** The custom section holding WAT fragments. */
export const WAT_SECTION = "js_bindgen.wat";

const isWasm = (b: Uint8Array) => b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;

/** One object (a file or an archive member) with where it came from. */
export interface ObjectInput {
  /** The file the object is in. */
  file: string;
  /** The archive member name, for members. */
  member?: string;
  bytes: Uint8Array;
}

/** Result of scanning one input file. */
export interface ScanResult {
  scan: InputScan;
  /** The cleaned archive, when members had to be dropped. */
  cleaned?: Uint8Array;
  /** The Wasm objects inside (for `check`, which also reads their JS records). */
  objects: ObjectInput[];
}

function scanObject(obj: ObjectInput, scan: InputScan, js: boolean): void {
  const where = obj.member ? `${obj.file}(${obj.member})` : obj.file;
  let module: WasmModule;
  try {
    module = WasmModule.parse(obj.bytes, { file: where });
  } catch (e) {
    if (e instanceof WasmParseError) e.file = where;
    throw e;
  }
  if (scan.memory64 === undefined) {
    // wasm64 objects import a 64-bit env.__linear_memory (target detection when -m is absent).
    const memory = readImports(module).find((i) => i.kind === "memory");
    if (memory?.kind === "memory") scan.memory64 = memory.memory.is64;
  }
  for (const section of module.customSections()) {
    if (js && (section.name === IMPORT_SECTION || section.name === EMBED_SECTION)) {
      const kind = section.name === IMPORT_SECTION ? "import" : "embed";
      let records;
      try {
        records = decodeSection(section, kind);
      } catch (e) {
        if (e instanceof WasmParseError) e.file = where;
        throw e;
      }
      for (const { module, name, embeds, text } of records) {
        const record = scan.js.filter((r) => r.kind === kind && r.member === obj.member).length + 1;
        scan.js.push({ kind, module, name, embeds, text, member: obj.member, record });
      }
      continue;
    }
    if (section.name !== WAT_SECTION && section.name !== FORMAT_SECTION) continue;
    let records: Uint8Array[];
    try {
      records = splitRecords(section.payload, section.name, section.payloadOffset);
    } catch (e) {
      if (e instanceof WasmParseError) e.file = where;
      throw e;
    }
    records.forEach((record, i) => {
      if (section.name === WAT_SECTION) {
        const text = new TextDecoder("utf-8", { fatal: true });
        let fragment: string;
        try {
          fragment = text.decode(record);
        } catch {
          throw new WasmParseError(
            `WAT fragment ${i} in section "${WAT_SECTION}" is not valid UTF-8`,
            section.payloadOffset,
            where,
          );
        }
        scan.fragments.push({ member: obj.member, record: i + 1, text: fragment });
      } else {
        let decoded;
        try {
          decoded = decodeFormatRecord(record, section.payloadOffset);
        } catch (e) {
          if (e instanceof WasmParseError) e.file = where;
          throw e;
        }
        scan.versions.push({ member: obj.member, ...decoded });
      }
    });
  }
}

/**
 * Scans one linker input. Throws the guard error for native objects, a WasmParseError for a
 * broken Wasm object; non-object archive members (`lib.rmeta`) are dropped into a cleaned copy.
 */
export function scanInput(
  file: string,
  bytes: Uint8Array,
  /** `js: false` leaves the JS records out (`check` decodes them itself, reporting each error). */
  options: { js?: boolean } = {},
): ScanResult {
  const js = options.js ?? true;
  const scan: InputScan = { fragments: [], versions: [], js: [], dropped: [], bitcode: [] };
  const objects: ObjectInput[] = [];
  if (bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === "!<arch>\n") {
    const archive: Archive = readArchive(bytes, file);
    const kept: number[] = [];
    archive.members.forEach((m, i) => {
      if (isWasm(m.data)) {
        kept.push(i);
        const obj = { file, member: m.name, bytes: m.data };
        objects.push(obj);
        scanObject(obj, scan, js);
      } else if (isBitcode(m.data)) {
        kept.push(i);
        scan.bitcode.push(m.name);
      } else {
        const foreign = foreignObject(m.data);
        if (foreign) refuseForeign(`${file}(${m.name})`, foreign);
        scan.dropped.push(m.name);
      }
    });
    let cleaned: Uint8Array | undefined;
    if (scan.dropped.length) {
      const remap = new Map(kept.map((old, i) => [old, i]));
      const symbols = archive.symbols
        ?.filter((s) => remap.has(s.member))
        .map((s) => ({ name: s.name, member: remap.get(s.member)! }));
      cleaned = writeArchive(kept.map((i) => archive.members[i]), symbols);
    }
    return { scan, cleaned, objects };
  }
  if (isBitcode(bytes)) {
    scan.bitcode.push(file);
    return { scan, objects };
  }
  if (bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === "!<thin>\n") {
    // A thin archive names its members' files; the linker reads them, unscanned.
    scan.unscanned = true;
    return { scan, objects };
  }
  const foreign = foreignObject(bytes);
  if (foreign) refuseForeign(file, foreign);
  const obj = { file, bytes };
  objects.push(obj);
  scanObject(obj, scan, js);
  return { scan, objects };
}
