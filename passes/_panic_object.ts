/**
 * The `panic` rewrite on relocatable objects, before the link: roots found by their symbol names
 * (the `linking` section's symbol table) get an `unreachable` body, calls to them become
 * `unreachable`, and the relocations of the code follow the bytes they patch; those of dropped
 * bytes (a root's old body, the constant operands of its calls) go. The linker's
 * `--gc-sections` then drops the data only panics used: Location records, file names, messages.
 * @module
 */
import { encodeRelocs, readLinking, readRelocs, SymbolKind } from "../wasm/linking.ts";
import { SectionId, type WasmModule } from "../wasm/module.ts";
import { type FunctionBody, readCode, readImports } from "../wasm/types.ts";
import { canonicalPath, isMangled, loadDemangler } from "./_demangle.ts";
import { rewriteOnBytes, whyBodyMayReturn } from "./_panic_bytes.ts";
import { matchRoot, ROOT_HINT, type RootRule } from "./_panic_roots.ts";
import { UsageError } from "../errors.ts";

/** A root found on bytes: function index, name, canonical path, the rule that matched. */
export interface ByteRoot {
  index: number;
  name: string;
  path: string;
  rule: RootRule;
}

/**
 * Roots among `names` (function index → symbol name): named like a panic root, defined, and
 * with a body that provably never returns (a call to a root counts as never returning, so a
 * handler that calls one, as `__rust_alloc_error_handler` calls `__rg_oom`, is a root too); the
 * others get a warning.
 */
export async function findRootsOnBytes(
  names: Map<number, string>,
  bodies: readonly FunctionBody[],
  imported: number,
  warn: (message: string) => void,
): Promise<ByteRoot[]> {
  const hinted = [...names].filter(([, name]) => ROOT_HINT.test(name)).sort((a, b) => a[0] - b[0]);
  // The demangler (a Wasm module) is loaded only when a name needs it.
  const demangle = hinted.some(([, name]) => isMangled(name))
    ? await loadDemangler()
    : (name: string) => name;
  const candidates: ByteRoot[] = [];
  for (const [index, name] of hinted) {
    const path = canonicalPath(name, demangle);
    const rule = matchRoot(path);
    if (rule) candidates.push({ index, name, path, rule });
  }
  const why = (c: ByteRoot, found: ReadonlySet<number>) =>
    c.index < imported
      ? "it is imported"
      : c.index - imported < bodies.length
      ? whyBodyMayReturn(bodies[c.index - imported].body, found)
      : "it has no body";
  // Until nothing changes: a candidate whose body returns only after calling a root is one.
  const found = new Set<number>();
  let left = candidates;
  for (let grew = true; grew;) {
    grew = false;
    const still: ByteRoot[] = [];
    for (const c of left) {
      if (why(c, found) !== undefined) still.push(c);
      else {
        found.add(c.index);
        grew = true;
      }
    }
    left = still;
  }
  for (const c of left) {
    warn(`"${c.name}" is named like a panic root but ${why(c, found)}; left alone`);
  }
  return candidates.filter((c) => found.has(c.index));
}

/** What {@linkcode panicObject} did. */
export interface ObjectPanicReport {
  /** Roots whose bodies became `unreachable`. */
  roots: { name: string; path: string }[];
  /** Calls to them that became `unreachable`. */
  callSitesRewritten: number;
  /** Code relocations dropped with the bytes they patched. */
  relocationsDropped: number;
  /** Code section payload bytes before. */
  codeBytesBefore: number;
  /** Code section payload bytes after. */
  codeBytesAfter: number;
  /** Warnings (names like roots whose bodies may return). */
  warnings: string[];
}

/**
 * Applies the trap-mode panic rewrite to a relocatable object, in place (see the module doc).
 * Only defined roots are rewritten, and only calls to them: a root defined in another object is
 * handled when that object goes through this function (link-time optimization puts every crate
 * in one object, so one call covers them all).
 *
 * @example Objects without panic roots come back unchanged
 * ```ts
 * import assert from "node:assert";
 * import { WasmModule } from "../wasm/module.ts";
 * import { panicObject } from "./_panic_object.ts";
 * const url = new URL("../tests/fixtures/c_objects/util.o", import.meta.url);
 * const m = WasmModule.parse(await Deno.readFile(url));
 * const report = await panicObject(m);
 * assert.strictEqual(report.roots.length, 0);
 * assert.ok(m.unchanged);
 * ```
 */
export async function panicObject(m: WasmModule): Promise<ObjectPanicReport> {
  const linking = readLinking(m);
  if (!linking) {
    throw new UsageError(
      "not a relocatable object (no linking section): run the panic pass on linked modules with " +
        "`opt --panic`",
    );
  }
  const imported = readImports(m).filter((i) => i.kind === "func").length;
  const names = new Map<number, string>();
  for (const sym of linking.symbols) {
    if (sym.kind !== SymbolKind.function || sym.name === undefined || sym.index === undefined) {
      continue;
    }
    if (sym.index >= imported) names.set(sym.index, sym.name);
  }
  const bodies = readCode(m);
  const warnings: string[] = [];
  const roots = await findRootsOnBytes(names, bodies, imported, (w) => warnings.push(w));
  const codeBytesBefore = m.section(SectionId.code)?.payload.length ?? 0;
  const report: ObjectPanicReport = {
    roots: roots.map((r) => ({ name: r.name, path: r.path })),
    callSitesRewritten: 0,
    relocationsDropped: 0,
    codeBytesBefore,
    codeBytesAfter: codeBytesBefore,
    warnings,
  };
  if (roots.length === 0) return report;
  const codeIndex = m.sections.findIndex((s) => s.id === SectionId.code);
  const relocSection = m.sections.find((s) =>
    s.id === 0 && s.name.startsWith("reloc.") && readRelocs(m, s).target === codeIndex
  );
  const moves: number[] = [];
  const rewrite = rewriteOnBytes(m, new Set(roots.map((r) => r.index)), moves);
  report.callSitesRewritten = rewrite.callSitesRewritten;
  report.codeBytesAfter = m.section(SectionId.code)!.payload.length;
  if (relocSection) {
    const relocs = readRelocs(m, relocSection);
    const kept = [];
    const count = moves.length / 3;
    for (const e of relocs.entries) {
      // moves are ordered by old offset: find the last one starting at or before e.offset
      let lo = 0, hi = count - 1, found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (moves[mid * 3] <= e.offset) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      const k = found * 3;
      if (found >= 0 && e.offset < moves[k + 1]) {
        kept.push({ ...e, offset: moves[k + 2] + (e.offset - moves[k]) });
      } else report.relocationsDropped++;
    }
    m.setPayload(relocSection, encodeRelocs({ target: relocs.target, entries: kept }));
  }
  return report;
}
