/**
 * Says what a file is when it is not a core WebAssembly module.
 * @module
 */

function hex(bytes: Uint8Array, n = 4): string {
  return [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

/**
 * Describes the kind of a non-Wasm file from its first bytes, e.g. "an ELF file", or undefined
 * when the bytes start like a WebAssembly binary.
 *
 * @example An ELF header
 * ```ts
 * import { describeForeignFile } from "./identify.ts";
 * import assert from "node:assert";
 * assert.match(describeForeignFile(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1]))!, /ELF/);
 * ```
 */
export function describeForeignFile(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, [0x00, 0x61, 0x73, 0x6d])) return undefined;
  const starts = bytes.length ? `starts with ${hex(bytes)}, ` : "";
  if (bytes.length === 0) return "an empty file";
  if (startsWith(bytes, [0x7f, 0x45, 0x4c, 0x46])) return `${starts}an ELF file`;
  const be32 = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(be32)) {
    return `${starts}a Mach-O file`;
  }
  if (be32 === 0xcafebabe) return `${starts}a Mach-O universal binary or Java class file`;
  if (startsWith(bytes, [0x4d, 0x5a])) return `${starts}a PE/COFF executable`;
  const machine = bytes[0] | (bytes[1] << 8);
  if ([0x8664, 0x014c, 0xaa64, 0x01c4].includes(machine) && bytes.length >= 20) {
    return `${starts}a COFF object file`;
  }
  if (startsWith(bytes, [0x21, 0x3c, 0x61, 0x72, 0x63, 0x68, 0x3e, 0x0a])) {
    return `${starts}an ar archive (.a/.rlib)`;
  }
  if (startsWith(bytes, [0x1f, 0x8b])) return `${starts}a gzip file`;
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return `${starts}a zip file`;
  const head = bytes.subarray(0, 512);
  const text = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 0x20 && b !== 0x7f));
  if (text) {
    const s = new TextDecoder().decode(head).trimStart();
    if (s.startsWith("(module") || s.startsWith("(component") || s.startsWith(";;")) {
      return "a text file that looks like WebAssembly text (WAT)";
    }
    return "a text file";
  }
  return `${starts}not a WebAssembly binary`;
}
