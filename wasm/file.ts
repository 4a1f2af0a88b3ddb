/**
 * Reading modules from files without reading what no pass looks at: the section table and every
 * standard section are read at once, custom sections (DWARF is often most of a file) only when a
 * pass or the writer touches them.
 * @module
 */
import { readU32 } from "./leb128.ts";
import { type ReadOptions, WasmModule } from "./module.ts";

function readAt(file: Deno.FsFile, buffer: Uint8Array, start: number, end: number): void {
  file.seekSync(start, Deno.SeekMode.Start);
  let pos = start;
  while (pos < end) {
    const n = file.readSync(buffer.subarray(pos, end));
    if (n === null) throw new Deno.errors.UnexpectedEof(`unexpected end of file at ${pos}`);
    pos += n;
  }
}

/**
 * Reads a module or object file lazily: custom section contents are read from the file on first
 * use (the file is reopened for that, and must not change in between).
 *
 * @example Read a module from a file
 * ```ts
 * import assert from "node:assert";
 * import { readModuleFile } from "./file.ts";
 * const m = await readModuleFile(new URL("../examples/demo/app.wasm", import.meta.url).pathname);
 * assert.ok(m.customSections().length > 0);
 * ```
 */
export function readModuleFile(path: string, options: ReadOptions = {}): Promise<WasmModule> {
  // Read synchronously: a module is read in a few calls, and async file calls cost more to start.
  try {
    return Promise.resolve(readLazily(path, options));
  } catch (e) {
    return Promise.reject(e);
  }
}

function readLazily(path: string, options: ReadOptions): WasmModule {
  using file = Deno.openSync(path, { read: true });
  const stat = file.statSync();
  const size = stat.size;
  const buffer = new Uint8Array(size);
  const readAll = () => {
    readAt(file, buffer, 0, size);
    return WasmModule.parse(buffer, { file: options.file ?? path });
  };
  if (size < 8) return readAll();
  readAt(file, buffer, 0, 8);
  if (buffer[0] !== 0 || buffer[1] !== 0x61 || buffer[2] !== 0x73 || buffer[3] !== 0x6d) {
    return readAll();
  }
  // Scan the section table; anything unexpected falls back to a plain full read, whose parser
  // then reports the problem with its usual message.
  const lazy: [number, number][] = [];
  let pos = 8;
  try {
    while (pos < size) {
      const headEnd = Math.min(size, pos + 16);
      readAt(file, buffer, pos, headEnd);
      const id = buffer[pos];
      const len = readU32(buffer.subarray(0, headEnd), pos + 1);
      const payloadStart = pos + 1 + len.length;
      const end = payloadStart + len.value;
      if (end > size || id > 13) return readAll();
      if (id === 0) {
        const nameLen = readU32(buffer.subarray(0, headEnd), payloadStart);
        const nameEnd = payloadStart + nameLen.length + nameLen.value;
        if (nameEnd > end) return readAll();
        if (nameEnd > headEnd) readAt(file, buffer, headEnd, nameEnd);
        if (end > Math.max(nameEnd, headEnd)) lazy.push([Math.max(nameEnd, headEnd), end]);
      } else if (end > headEnd) {
        readAt(file, buffer, headEnd, end);
      }
      pos = end;
    }
  } catch {
    return readAll();
  }
  const loadCustom = (start: number, end: number) => {
    using again = Deno.openSync(path, { read: true });
    const now = again.statSync();
    if (now.size !== size || now.mtime?.getTime() !== stat.mtime?.getTime()) {
      throw new Deno.errors.Interrupted(`"${path}" changed while it was being read`);
    }
    for (const [a, b] of lazy) {
      if (b > start && a < end) readAt(again, buffer, Math.max(a, start), Math.min(b, end));
    }
  };
  return WasmModule.parse(buffer, { file: options.file ?? path, loadCustom });
}
