/**
 * Where a panic happened, for the `panic` pass's hook mode: the `core::panic::Location` a root
 * receives (checked against constant call-site operands), and the hook body that reports it.
 * @module
 */
import type { DataImage, LocationRecord, RangeSet } from "./_panic_data.ts";
import type { RootRule } from "./_panic_roots.ts";
import type { Binaryen, BinaryenModule } from "./types.ts";

/** Evidence from direct call sites of one root, per parameter index. */
export interface CallSites {
  count: number;
  /** Constant operands per parameter index. */
  constants: Map<number, number[]>;
}

/** The Location parameter of a root, checked against constant operands at its call sites. */
export function locationParam(
  rule: RootRule,
  params: string[],
  sites: CallSites | undefined,
  image: DataImage,
  inner: Set<number> | undefined,
): { index?: number; constant?: LocationRecord; note: string; records: LocationRecord[] } {
  const records: LocationRecord[] = [];
  if (rule.location.kind === "none") return { note: `trap: ${rule.location.why}`, records };
  // A root that link-time optimization specialized for one caller has lost its Location
  // parameter; its body then passes one constant Location on to the next root.
  const innerRecords = [...inner ?? []].map((c) => image.location(c));
  const specialized = innerRecords.length === 1 && innerRecords[0] ? innerRecords[0] : undefined;
  const viaBody = () =>
    specialized
      ? {
        constant: specialized,
        note: `the constant Location its body passes on (${specialized.file}:${specialized.line})`,
        records: [specialized],
      }
      : undefined;
  // Link-time optimization drops and reorders parameters, so the signature alone proves nothing:
  // the last parameter counts as the Location only when call sites pass constants that are one.
  const index = params.length - 1;
  if (index < 0 || params[index] !== "i32") {
    return viaBody() ?? { note: "trap: the last parameter is not a 32-bit pointer", records };
  }
  const constants = sites?.constants.get(index) ?? [];
  if (constants.length === 0) {
    return viaBody() ??
      { note: "trap: no call site passes a constant Location to check against", records };
  }
  for (const c of constants) {
    const rec = image.location(c);
    if (!rec) {
      return viaBody() ?? {
        note: `trap: a call site passes 0x${c.toString(16)} last, which is not a Location`,
        records: [],
      };
    }
    records.push(rec);
  }
  return {
    index,
    note: `parameter ${index}, checked at ${constants.length} call site(s)`,
    records,
  };
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Adds (pointer, length) constant pairs at root call sites that read as UTF-8 text. */
export function collectMessages(
  sites: CallSites | undefined,
  image: DataImage,
  used: { has(value: number): boolean },
  into: RangeSet,
): void {
  if (!sites) return;
  for (const [k, ptrs] of sites.constants) {
    const lens = sites.constants.get(k + 1);
    if (!lens || lens.length !== ptrs.length) continue;
    ptrs.forEach((ptr, j) => {
      const len = lens[j];
      if (used.has(ptr) || len === 0 || len > 65536) return;
      const bytes = image.bytes(ptr, len);
      if (!bytes) return;
      try {
        strictUtf8.decode(bytes);
        into.add(ptr, len);
      } catch { /* not text */ }
    });
  }
}

export interface Hook {
  module: string;
  name: string;
  hasMemory: boolean;
  body(locationParam: number): number;
  constantBody(location: LocationRecord): number;
  remove(): void;
}

export function prepareHook(
  ir: BinaryenModule,
  binaryen: Binaryen,
  options: { hookModule?: string; hookName?: string },
): Hook {
  const module = options.hookModule ?? "linkpass";
  const name = options.hookName ?? "panic";
  let internal = "linkpass$panic_hook";
  while (ir.getFunction(internal)) internal += "_";
  const i32 = binaryen.i32;
  ir.addFunctionImport(internal, module, name, binaryen.createType([i32, i32, i32, i32]), 0);
  return {
    module,
    name,
    // The Location is read from memory 0 (binaryen's default when no memory name is given).
    hasMemory: ir.hasMemory() && !ir.getMemoryInfo().is64,
    body(p) {
      const field = (offset: number) => ir.i32.load(offset, 4, ir.local.get(p, i32));
      return ir.block(null, [
        ir.call(internal, [field(0), field(4), field(8), field(12)], binaryen.none),
        ir.unreachable(),
      ], binaryen.unreachable);
    },
    constantBody(l) {
      const args = [l.filePtr, l.fileLen, l.line, l.col].map((v) => ir.i32.const(v | 0));
      return ir.block(
        null,
        [ir.call(internal, args, binaryen.none), ir.unreachable()],
        binaryen.unreachable,
      );
    },
    remove() {
      ir.removeFunction(internal);
    },
  };
}
