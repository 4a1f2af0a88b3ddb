/**
 * Guards that stop a link early with a clear message: the marker libraries a crate asks for so
 * that a plain linker fails, inputs that are not WebAssembly, another linker flavor, and format
 * versions this linkpass does not know.
 * @module
 */
import { UsageError } from "../errors.ts";
import { describeForeignFile } from "../wasm/identify.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { hasOption, type LinkArgs, optionValues } from "./args.ts";

/**
 * Libraries that only exist to make a plain linker fail: a crate asks for one with
 * `#[link(name = "...", kind = "static", modifiers = "-bundle")] extern "C" {}`. linkpass drops
 * them from the command line; any other linker reports `unable to find library -l<name>`.
 */
export const MARKER_LIBRARIES: readonly string[] = [
  "linkpass-needs-linkpass-ld",
  "js-bindgen-needs-js-bindgen-ld",
];

/** The custom section holding format-version records. */
export const FORMAT_SECTION = "linkpass.format";

/** Format versions of the `js_bindgen.*` and `linkpass.*` records this linkpass understands. */
export const SUPPORTED_FORMAT_VERSIONS: readonly number[] = [1];

/** A format-version record: which crate, which version. */
export interface FormatRecord {
  /** The crate that embeds the record. */
  crate: string;
  /** The format version the crate's records follow. */
  version: number;
}

/** The one-line fix for rustc taking the linker for another flavor. */
const FLAVOR_FIX =
  'add "-C linker-flavor=wasm-ld" to the rustflags of the wasm targets (or install the shim under a name ending in "-wasm-ld")';

/**
 * Refuses command lines made for another linker flavor: `-flavor gnu` (or any flavor but wasm),
 * and GNU ld's `-shared` without `--experimental-pic` (what rustc 1.63 passes for a cdylib when
 * it takes a linker named `*-ld` for a GNU ld; LLD would answer with one `recompile with -fPIC`
 * error per relocation).
 */
export function checkFlavor(parsed: LinkArgs): void {
  for (const flavor of optionValues(parsed, "flavor")) {
    if (flavor !== "wasm") {
      throw new UsageError(
        `linkpass-ld links WebAssembly, but it was called with "-flavor ${flavor}" (rustc took it for another kind of linker): ${FLAVOR_FIX}, and set it as the linker of the wasm32/wasm64 targets only`,
        2,
      );
    }
  }
  if (hasOption(parsed, "shared") && !hasOption(parsed, "experimental-pic")) {
    throw new UsageError(
      `linkpass-ld got GNU ld arguments ("-shared" without "--experimental-pic"): rustc took it for a GNU ld because its name ends in "-ld"; ${FLAVOR_FIX}`,
      2,
    );
  }
}

/**
 * Says why `bytes` cannot be a linker input, or undefined when they can: a native object file or
 * executable (ELF, Mach-O, COFF) means a native build reached this linker.
 */
export function foreignObject(bytes: Uint8Array): string | undefined {
  const kind = describeForeignFile(bytes);
  if (!kind) return undefined;
  if (/ELF|Mach-O|PE\/COFF|COFF object/.test(kind)) return kind;
  return undefined;
}

/** Throws the guard error for a native object among the inputs. */
export function refuseForeign(where: string, kind: string): never {
  throw new UsageError(
    `Cannot link "${where}": it is not WebAssembly (${kind}); linkpass-ld links wasm32/wasm64 objects only, so this native build is using the wrong linker: set linkpass-ld for the wasm targets only`,
    2,
  );
}

/** True for LLVM bitcode (raw or in its wrapper), which wasm-ld links through LTO. */
export function isBitcode(bytes: Uint8Array): boolean {
  return (bytes[0] === 0x42 && bytes[1] === 0x43 && bytes[2] === 0xc0 && bytes[3] === 0xde) ||
    (bytes[0] === 0xde && bytes[1] === 0xc0 && bytes[2] === 0x17 && bytes[3] === 0x0b);
}

/**
 * Splits a `js_bindgen.*`-style section payload into records (u32 little-endian length, then
 * that many bytes). `offset` is the payload's file offset, for messages.
 */
export function splitRecords(payload: Uint8Array, section: string, offset = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let pos = 0;
  while (pos < payload.length) {
    if (payload.length - pos < 4) {
      throw new WasmParseError(
        `section "${section}" ends with ${payload.length - pos} bytes that are not a whole record`,
        offset + pos,
      );
    }
    const len = view.getUint32(pos, true);
    if (pos + 4 + len > payload.length) {
      throw new WasmParseError(
        `a record of ${len} bytes in section "${section}" runs past the end of the section`,
        offset + pos,
      );
    }
    out.push(payload.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  return out;
}

/**
 * Decodes a format-version record: `u16 len, crate name (UTF-8); u16 version` (little-endian).
 *
 * @example Round trip a record
 * ```ts
 * import { decodeFormatRecord, encodeFormatRecord } from "./guards.ts";
 * import assert from "node:assert";
 * const record = encodeFormatRecord({ crate: "js-sys", version: 1 });
 * assert.deepStrictEqual(decodeFormatRecord(record), { crate: "js-sys", version: 1 });
 * ```
 */
export function decodeFormatRecord(record: Uint8Array, offset = 0): FormatRecord {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const bad = () => {
    throw new WasmParseError(
      `a "${FORMAT_SECTION}" record must be a u16-prefixed crate name and a u16 version, got ${record.length} bytes`,
      offset,
    );
  };
  if (record.length < 2) bad();
  const len = view.getUint16(0, true);
  if (record.length !== 2 + len + 2) bad();
  const crate = new TextDecoder().decode(record.subarray(2, 2 + len));
  return { crate, version: view.getUint16(2 + len, true) };
}

/** Encodes a format-version record (what a crate embeds; see {@linkcode decodeFormatRecord}). */
export function encodeFormatRecord(record: FormatRecord): Uint8Array {
  const name = new TextEncoder().encode(record.crate);
  const out = new Uint8Array(2 + name.length + 2);
  const view = new DataView(out.buffer);
  view.setUint16(0, name.length, true);
  out.set(name, 2);
  view.setUint16(2 + name.length, record.version, true);
  return out;
}

/** Refuses format versions this linkpass does not support, naming every crate at once. */
export function checkFormatVersions(records: (FormatRecord & { from: string })[]): void {
  const bad = records.filter((r) => !SUPPORTED_FORMAT_VERSIONS.includes(r.version));
  if (!bad.length) return;
  const seen = new Set<string>();
  const list = bad.filter((r) => {
    const k = `${r.crate}@${r.version}`;
    return !seen.has(k) && seen.add(k);
  }).map((r) => `crate "${r.crate}" (in ${r.from}) uses format version ${r.version}`);
  throw new UsageError(
    `Unsupported linkpass format: ${list.join("; ")}; this linkpass supports version${
      SUPPORTED_FORMAT_VERSIONS.length > 1 ? "s" : ""
    } ${
      SUPPORTED_FORMAT_VERSIONS.join(", ")
    }: upgrade linkpass or use a matching version of the crate`,
  );
}
