/**
 * The relocatable writer: turns a plain module (as wabt.js encoded it) plus what the rwat
 * annotations say into an object file, with a `linking` section (version 2, symbol table) and
 * `reloc.CODE` (5-byte padded LEB immediates), as tool-conventions Linking.md describes.
 * @module
 */
import { ByteWriter } from "../wasm/bytes.ts";
import { AssemblerBug } from "../errors.ts";
import {
  encodeLinking,
  encodeRelocs,
  type Relocation,
  RelocType,
  SymbolFlags,
  type SymbolInfo,
  SymbolKind,
} from "../wasm/linking.ts";
import { SectionId, WasmModule } from "../wasm/module.ts";
import { readCode, readExports, readImports } from "../wasm/types.ts";
import { type IndexImmediate, padBody, type Patch, scanBody } from "../wasm/code.ts";
import type { Item, ItemKind, RwatInfo } from "./rwat.ts";

const KIND: Partial<Record<ItemKind, number>> = {
  func: SymbolKind.function,
  table: SymbolKind.table,
  global: SymbolKind.global,
};

const SYMBOL_TABLE = 8;

/** The symbol table built for an object, and where each item's symbol is. */
export interface ObjectSymbols {
  symbols: SymbolInfo[];
  byItem: Map<string, number>;
}

const key = (kind: string, index: number) => `${kind}:${index}`;

/** One symbol per function, table and global; imports undefined, the rest defined. */
export function buildSymbols(items: Item[]): ObjectSymbols {
  const symbols: SymbolInfo[] = [];
  const byItem = new Map<string, number>();
  for (const kind of ["func", "table", "global"] as const) {
    for (const item of items.filter((i) => i.kind === kind)) {
      const sym = item.sym;
      let flags = sym?.flags ?? 0;
      let name: string | undefined;
      if (item.import) {
        flags |= SymbolFlags.undefined;
        const wanted = sym ? sym.name ?? item.id : undefined;
        if (wanted !== undefined && wanted !== item.import.name) {
          flags |= SymbolFlags.explicitName;
          name = wanted;
        }
      } else if (sym) {
        name = sym.name ?? item.id;
      } else {
        flags |= SymbolFlags.local;
        name = item.id ?? `${kind}${item.index}`;
      }
      byItem.set(key(kind, item.index), symbols.length);
      symbols.push({ kind: KIND[kind]!, flags, name, index: item.index });
    }
  }
  return { symbols, byItem };
}

/** Builds the object from wabt's binary `plain` and the annotation info. */
export function buildObject(plain: Uint8Array, info: RwatInfo): Uint8Array {
  const m = WasmModule.parse(plain);
  const imports = readImports(m);
  for (const kind of ["func", "table", "global", "memory", "tag"] as const) {
    const fromText = info.items.filter((i) => i.kind === kind && i.import).length;
    const fromBinary = imports.filter((i) => i.kind === kind).length;
    if (fromText !== fromBinary) {
      throw new AssemblerBug(
        `${fromText} ${kind} imports in the text, ${fromBinary} in the binary`,
      );
    }
  }
  const { symbols, byItem } = buildSymbols(info.items);
  // Exports stay in the object (LLVM writes `export_name` the same way); their symbols must be
  // global and kept, so the linker exports them under the export's name.
  for (const e of readExports(m)) {
    const s = byItem.get(key(e.kind, e.index));
    if (s === undefined) continue;
    const sym = symbols[s];
    if (sym.flags & SymbolFlags.local) {
      sym.flags = (sym.flags & ~SymbolFlags.local) | SymbolFlags.hidden;
    }
    sym.flags |= SymbolFlags.exported | SymbolFlags.noStrip;
  }
  const symbolOf = (kind: string, index: number) => {
    const s = byItem.get(key(kind, index));
    if (s === undefined) throw new AssemblerBug(`no symbol for ${kind} ${index}`);
    return s;
  };
  const patchOf = (imm: IndexImmediate): Patch => {
    switch (imm.kind) {
      case "func":
        return {
          immediate: imm,
          type: RelocType.FUNCTION_INDEX_LEB,
          index: symbolOf("func", imm.value),
        };
      case "table":
        return {
          immediate: imm,
          type: RelocType.TABLE_NUMBER_LEB,
          index: symbolOf("table", imm.value),
        };
      case "global":
        return {
          immediate: imm,
          type: RelocType.GLOBAL_INDEX_LEB,
          index: symbolOf("global", imm.value),
        };
      case "type":
        return { immediate: imm, type: RelocType.TYPE_INDEX_LEB, index: imm.value };
    }
  };

  const entries: Relocation[] = [];
  const code = m.section(SectionId.code);
  if (code) {
    const bodies = readCode(m);
    if (bodies.length !== info.bodies.length) {
      throw new AssemblerBug(
        `${info.bodies.length} bodies in the text, ${bodies.length} in the binary`,
      );
    }
    const w = new ByteWriter().u32(bodies.length);
    bodies.forEach(({ body }, f) => {
      const scan = scanBody(body);
      const text = info.bodies[f];
      if (scan.instructions.length !== text.length) {
        throw new AssemblerBug(
          `function ${f}: ${text.length} indexed instructions in the text, ${scan.instructions.length} in the binary`,
        );
      }
      const patches: Patch[] = [];
      scan.instructions.forEach((instr, i) => {
        if (instr.name !== text[i].name) {
          throw new AssemblerBug(
            `function ${f}: \`${text[i].name}\` in the text is \`${instr.name}\` in the binary`,
          );
        }
        if (text[i].reloc) { for (const imm of instr.immediates) patches.push(patchOf(imm)); }
      });
      for (const imm of scan.blockTypes) patches.push(patchOf(imm));
      const padded = padBody(body, patches);
      w.u32(padded.body.length);
      const start = w.length;
      w.bytes(padded.body);
      patches.forEach((p, i) =>
        entries.push({ type: p.type, offset: start + padded.offsets[i], index: p.index })
      );
    });
    m.setPayload(code, w.finish());
  }
  // Declarative element segments only exist to make `ref.func` validate; objects have none.
  m.sections = m.sections.filter((s) => s.id !== SectionId.element);
  m.addCustomSection(
    "linking",
    encodeLinking({
      version: 2,
      symbols,
      segments: [],
      initFuncs: [],
      subsections: [{ type: SYMBOL_TABLE, payload: new Uint8Array() }],
    }),
  );
  if (entries.length) {
    entries.sort((a, b) => a.offset - b.offset);
    const target = m.sections.findIndex((s) => s.id === SectionId.code);
    m.addCustomSection("reloc.CODE", encodeRelocs({ target, entries }));
  }
  return m.toBytes();
}
