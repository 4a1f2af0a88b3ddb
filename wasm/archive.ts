/**
 * Unix `ar` archives (`.a`, `.rlib`): read once, members as zero-copy views of the input. Reads
 * the GNU and BSD forms (GNU `/` and `/SYM64/` symbol tables and the `//` long-name table; BSD
 * `#1/len` names and `__.SYMDEF` tables) and writes the GNU form with a symbol table.
 * @module
 */
import { WasmParseError } from "./errors.ts";

/** The 8-byte global header of an archive. */
export const AR_MAGIC: Uint8Array = new TextEncoder().encode("!<arch>\n");

/** True when `bytes` start with the `ar` global header. */
export function isArchive(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && AR_MAGIC.every((b, i) => bytes[i] === b);
}

/** One member of an archive. */
export interface ArchiveMember {
  /** The member's file name (long and BSD names resolved, GNU's trailing `/` removed). */
  name: string;
  /** The member's contents: a view of the archive bytes. */
  data: Uint8Array;
  /** Offset of the member's 60-byte header in the archive. */
  headerOffset: number;
}

/** One entry of the archive's symbol table: a symbol and the member that defines it. */
export interface ArchiveSymbol {
  /** The symbol name. */
  name: string;
  /** Index into {@linkcode Archive.members}. */
  member: number;
}

/** A parsed archive. */
export interface Archive {
  /** The file members in order (symbol and name tables excluded). */
  members: ArchiveMember[];
  /** The symbol index, when the archive has one. */
  symbols?: ArchiveSymbol[];
}

const HEADER = 60;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

function field(bytes: Uint8Array, at: number, len: number): string {
  return latin1.decode(bytes.subarray(at, at + len)).trimEnd();
}

function fail(message: string, offset: number, file?: string): never {
  throw new WasmParseError(`${message}; the archive is corrupt, rebuild it`, offset, file);
}

/**
 * Reads an archive. Member data are views of `bytes` (no copies).
 *
 * @example Round trip through the writer
 * ```ts
 * import { readArchive, writeArchive } from "./archive.ts";
 * import assert from "node:assert";
 * const bytes = writeArchive([{ name: "a-very-long-member-name.o", data: new Uint8Array([1, 2, 3]) }]);
 * const { members } = readArchive(bytes);
 * assert.strictEqual(members[0].name, "a-very-long-member-name.o");
 * assert.deepStrictEqual([...members[0].data], [1, 2, 3]);
 * ```
 */
export function readArchive(bytes: Uint8Array, file?: string): Archive {
  if (!isArchive(bytes)) fail("not an ar archive (no !<arch> header)", 0, file);
  const members: ArchiveMember[] = [];
  let longNames: Uint8Array | undefined;
  let symtab: { kind: "gnu" | "gnu64" | "bsd"; data: Uint8Array } | undefined;
  let pos = 8;
  while (pos < bytes.length) {
    if (bytes.length - pos === 1 && bytes[pos] === 0x0a) break; // trailing pad
    if (pos + HEADER > bytes.length) {
      fail(`truncated member header (${bytes.length - pos} bytes left, need 60)`, pos, file);
    }
    if (bytes[pos + 58] !== 0x60 || bytes[pos + 59] !== 0x0a) {
      fail('member header does not end with "`\\n"', pos + 58, file);
    }
    const rawName = field(bytes, pos, 16);
    const sizeText = field(bytes, pos + 48, 10);
    if (!/^\d+$/.test(sizeText)) fail(`invalid member size "${sizeText}"`, pos + 48, file);
    let size = Number(sizeText);
    let start = pos + HEADER;
    if (start + size > bytes.length) {
      fail(
        `member "${rawName}" of ${size} bytes runs past the end of the file`,
        pos,
        file,
      );
    }
    let name: string;
    if (rawName.startsWith("#1/")) {
      const len = Number(rawName.slice(3));
      if (!Number.isInteger(len) || len > size) {
        fail(`invalid BSD name length "${rawName}"`, pos, file);
      }
      name = utf8.decode(bytes.subarray(start, start + len)).replace(/\0+$/, "");
      start += len;
      size -= len;
    } else if (rawName === "/" || rawName === "/SYM64/") {
      symtab = {
        kind: rawName === "/" ? "gnu" : "gnu64",
        data: bytes.subarray(start, start + size),
      };
      name = "";
    } else if (rawName === "//") {
      longNames = bytes.subarray(start, start + size);
      name = "";
    } else if (/^\/\d+$/.test(rawName)) {
      const at = Number(rawName.slice(1));
      if (!longNames || at >= longNames.length) {
        fail(`long name offset ${at} is outside the name table`, pos, file);
      }
      let end = at;
      while (end < longNames.length && longNames[end] !== 0x0a) end++;
      name = utf8.decode(longNames.subarray(at, end)).replace(/\/$/, "");
    } else {
      name = rawName.endsWith("/") ? rawName.slice(0, -1) : rawName;
    }
    const data = bytes.subarray(start, start + size);
    if (name === "__.SYMDEF" || name === "__.SYMDEF SORTED" || name === "__.SYMDEF_64") {
      symtab = { kind: "bsd", data };
    } else if (name !== "") {
      members.push({ name, data, headerOffset: pos });
    }
    pos = start + size;
    if (pos % 2 === 1) pos++; // members are 2-byte aligned
  }
  const archive: Archive = { members };
  if (symtab) archive.symbols = readSymbols(symtab.kind, symtab.data, members, file);
  return archive;
}

function readSymbols(
  kind: "gnu" | "gnu64" | "bsd",
  data: Uint8Array,
  members: ArchiveMember[],
  file?: string,
): ArchiveSymbol[] {
  const byOffset = new Map(members.map((m, i) => [m.headerOffset, i]));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: ArchiveSymbol[] = [];
  const member = (offset: number) => {
    const index = byOffset.get(offset);
    if (index === undefined) fail(`symbol table points at offset ${offset}, not a member`, 8, file);
    return index;
  };
  if (kind === "bsd") {
    const rangesBytes = view.getUint32(0, true);
    const stringsAt = 4 + rangesBytes + 4;
    for (let p = 4; p < 4 + rangesBytes; p += 8) {
      const strx = view.getUint32(p, true);
      const offset = view.getUint32(p + 4, true);
      let end = stringsAt + strx;
      while (end < data.length && data[end] !== 0) end++;
      out.push({ name: utf8.decode(data.subarray(stringsAt + strx, end)), member: member(offset) });
    }
    return out;
  }
  const wide = kind === "gnu64" ? 8 : 4;
  const read = (p: number) => wide === 8 ? Number(view.getBigUint64(p)) : view.getUint32(p);
  const count = read(0);
  let names = wide + count * wide;
  if (names > data.length) fail(`symbol table of ${count} entries is truncated`, 8, file);
  for (let i = 0; i < count; i++) {
    let end = names;
    while (end < data.length && data[end] !== 0) end++;
    out.push({
      name: utf8.decode(data.subarray(names, end)),
      member: member(read(wide + i * wide)),
    });
    names = end + 1;
  }
  return out;
}

/** A member to write. */
export interface NewMember {
  /** File name (any length; long names go to the `//` table). */
  name: string;
  /** Contents. */
  data: Uint8Array;
}

function header(name: string, size: number): string {
  return name.padEnd(16) + "0".padEnd(12) + "0".padEnd(6) + "0".padEnd(6) + "644".padEnd(8) +
    String(size).padEnd(10) + "`\n";
}

/**
 * Writes a GNU-format archive, with a symbol table when `symbols` is given (each symbol names a
 * member index). Deterministic: zero timestamps and ids, mode 644.
 */
export function writeArchive(members: NewMember[], symbols?: ArchiveSymbol[]): Uint8Array {
  const enc = new TextEncoder();
  // Long-name table.
  let longText = "";
  const memberNames = members.map((m) => {
    if (enc.encode(m.name).length <= 15 && !m.name.includes("/")) return `${m.name}/`;
    const at = enc.encode(longText).length;
    longText += `${m.name}/\n`;
    return `/${at}`;
  });
  const longBytes = enc.encode(longText);
  const pad = (n: number) => n + (n % 2);
  // Symbol table size.
  const symNames = (symbols ?? []).map((s) => enc.encode(s.name));
  const symSize = symbols
    ? 4 + 4 * symbols.length + symNames.reduce((n, b) => n + b.length + 1, 0)
    : 0;
  let pos = 8;
  if (symbols) pos += HEADER + pad(symSize);
  if (longBytes.length) pos += HEADER + pad(longBytes.length);
  const offsets = members.map((m) => {
    const at = pos;
    pos += HEADER + pad(m.data.length);
    return at;
  });
  const out = new Uint8Array(pos);
  out.set(AR_MAGIC, 0);
  let w = 8;
  const put = (name: string, data: Uint8Array) => {
    out.set(enc.encode(header(name, data.length)), w);
    out.set(data, w + HEADER);
    w += HEADER + data.length;
    if (w % 2 === 1) out[w++] = 0x0a;
  };
  if (symbols) {
    const table = new Uint8Array(symSize);
    const view = new DataView(table.buffer);
    view.setUint32(0, symbols.length);
    let p = 4 + 4 * symbols.length;
    symbols.forEach((s, i) => {
      view.setUint32(4 + 4 * i, offsets[s.member]);
      table.set(symNames[i], p);
      p += symNames[i].length + 1;
    });
    put("/", table);
  }
  if (longBytes.length) put("//", longBytes);
  members.forEach((m, i) => put(memberNames[i], m.data));
  return out;
}
