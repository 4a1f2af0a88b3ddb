/**
 * Passes on `ar` archives (`.a`, `.rlib`) before the link: each WebAssembly object member goes
 * through the pipeline (strip-custom-sections with its relocation fixups, link-time panic, ...),
 * other members (`lib.rmeta`, bitcode) are kept byte for byte, and the symbol table is rebuilt
 * from the members' `linking` sections.
 * @module
 */
import { type ArchiveSymbol, isArchive, readArchive, writeArchive } from "./wasm/archive.ts";
import { readLinking, SymbolFlags, SymbolKind } from "./wasm/linking.ts";
import { WasmModule } from "./wasm/module.ts";
import type { Pass } from "./passes/types.ts";
import { type PipelineOptions, type PipelineReport, runPipeline } from "./pipeline.ts";
import { UsageError } from "./errors.ts";

/** One member in the report. */
export interface MemberRun {
  /** The member's name. */
  name: string;
  /** Bytes before. */
  inputBytes: number;
  /** Bytes after. */
  outputBytes: number;
  /** The pipeline's report for a Wasm object; absent for members that are kept as they are. */
  report?: PipelineReport;
}

/** The result of {@linkcode runArchivePipeline}. */
export interface ArchiveResult {
  /** The new archive. */
  bytes: Uint8Array;
  /** Every member, in order. */
  members: MemberRun[];
  /** Size of the archive before. */
  inputBytes: number;
  /** Size of the archive after. */
  outputBytes: number;
  /** Symbols in the rebuilt symbol table. */
  symbols: number;
}

const isWasm = (b: Uint8Array) =>
  b.length >= 8 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d;

/**
 * Runs `passes` over every WebAssembly member of an archive and writes a new archive.
 *
 * @example Strip the DWARF of every object in an archive
 * ```ts
 * import assert from "node:assert";
 * import { readArchive, writeArchive } from "./wasm/archive.ts";
 * import { runArchivePipeline } from "./archive_pipeline.ts";
 * import { stripCustomSections } from "./passes/strip_custom_sections.ts";
 * const object = await Deno.readFile(new URL("./tests/fixtures/c_objects/util.o", import.meta.url));
 * const input = writeArchive([
 *   { name: "util.o", data: object },
 *   { name: "lib.rmeta", data: new TextEncoder().encode("rust metadata") },
 * ]);
 * const result = await runArchivePipeline(input, [stripCustomSections({ remove: ["producers"] })]);
 * const { members, symbols } = readArchive(result.bytes);
 * assert.deepStrictEqual(members.map((m) => m.name), ["util.o", "lib.rmeta"]);
 * assert.ok(symbols!.length > 0 && symbols!.every((s) => s.member === 0));
 * ```
 */
export async function runArchivePipeline(
  input: Uint8Array,
  passes: Pass[],
  options: PipelineOptions = {},
): Promise<ArchiveResult> {
  const archive = readArchive(input, options.file);
  const ir = passes.find((p) => p.level === "ir");
  if (ir) {
    throw new UsageError(
      `pass "${ir.name}" works on binaryen IR, which needs a linked module; archives take ` +
        `section-level passes (strip-custom-sections, panic in trap mode)`,
      2,
    );
  }
  const members: MemberRun[] = [];
  const out: { name: string; data: Uint8Array }[] = [];
  const symbols: ArchiveSymbol[] = [];
  for (const m of archive.members) {
    if (!isWasm(m.data)) {
      out.push({ name: m.name, data: m.data });
      members.push({ name: m.name, inputBytes: m.data.length, outputBytes: m.data.length });
      continue;
    }
    const file = `${options.file ?? "archive"}(${m.name})`;
    const result = await runPipeline(m.data, passes, { ...options, file, output: undefined });
    const data = result.bytes;
    for (const name of definedSymbols(WasmModule.parse(data, { file }))) {
      symbols.push({ name, member: out.length });
    }
    out.push({ name: m.name, data });
    members.push({
      name: m.name,
      inputBytes: m.data.length,
      outputBytes: data.length,
      report: result.report,
    });
  }
  const bytes = writeArchive(out, symbols);
  return {
    bytes,
    members,
    inputBytes: input.length,
    outputBytes: bytes.length,
    symbols: symbols.length,
  };
}

/** Names of the symbols an object defines for other objects (what `ar s` indexes). */
function definedSymbols(m: WasmModule): string[] {
  const linking = readLinking(m);
  if (!linking) return [];
  return linking.symbols.filter((s) =>
    s.name !== undefined && s.kind !== SymbolKind.section &&
    !(s.flags & (SymbolFlags.undefined | SymbolFlags.local))
  ).map((s) => s.name!);
}

/** True when the file starts with the `ar` header (reads 8 bytes). */
export function isArchiveFile(path: string): Promise<boolean> {
  // Only a regular file is opened: a folder fails to read, and a FIFO would block the open. The
  // normal read reports what is wrong with any other path. Synchronous calls: 8 bytes are read.
  let f: Deno.FsFile | undefined;
  try {
    if (!Deno.statSync(path).isFile) return Promise.resolve(false);
    f = Deno.openSync(path);
    const head = new Uint8Array(8);
    return Promise.resolve(f.readSync(head) === 8 && isArchive(head));
  } catch {
    return Promise.resolve(false);
  } finally {
    f?.close();
  }
}

/** The report `opt` prints for an archive: a table, or JSON. */
export function formatArchiveReport(r: ArchiveResult, format: string): string {
  if (format === "json") {
    return JSON.stringify({ ...r, bytes: undefined }, (_k, v) => v, 2);
  }
  const lines = r.members.map((m) =>
    `  ${m.name.padEnd(48)} ${String(m.inputBytes).padStart(10)} -> ${
      String(m.outputBytes).padStart(10)
    }${m.report ? "" : "  (kept: not a WebAssembly object)"}`
  );
  return [
    `archive: ${r.inputBytes} -> ${r.outputBytes} bytes, ${r.members.length} member(s), ` +
    `${r.symbols} symbol(s) indexed`,
    ...lines,
  ].join("\n");
}
