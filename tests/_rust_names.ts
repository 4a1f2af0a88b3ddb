/**
 * Rust symbol styles for tests and benches: rewrites the function names of a real module built by
 * rustc 1.63 (legacy mangling) into the spellings other toolchains emit: demangled with a hash
 * suffix, the crate-hash style (`core[…]::panicking::panic_fmt`, `__rustc[…]::rust_begin_unwind`)
 * and v0 mangling, using the real v0 symbols of rustup's stable std (fixtures/panic/v0_symbols.txt).
 * @module
 */
import { encodeNameMap, readNames } from "../wasm/custom.ts";
import { ByteReader, ByteWriter } from "../wasm/bytes.ts";
import { WasmModule } from "../wasm/module.ts";
import { canonicalPath, loadDemangler } from "../passes/_demangle.ts";
import { fixture } from "./_tools.ts";

/** Rewrites the function names of a module's name section. */
export function renameFunctions(bytes: Uint8Array, rename: (name: string) => string): Uint8Array {
  const m = WasmModule.parse(bytes);
  const section = m.section("name")!;
  const names = readNames(m)!.functions;
  const renamed = new Map([...names].map(([i, n]) => [i, rename(n)]));
  const r = new ByteReader(section.payload);
  const out = new ByteWriter();
  while (!r.done) {
    const id = r.u8();
    const body = r.take(r.u32());
    if (id === 1) out.bytes(encodeNameMap(1, renamed));
    else out.byte(id).sized(body);
  }
  m.setPayload(section, out.finish());
  return m.toBytes();
}

const BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Crate name → disambiguator (hex, as rustc-demangle prints it) from real v0 symbols. */
function crateHashes(v0: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const sym of v0) {
    for (const m of sym.matchAll(/Cs([0-9a-zA-Z]*)_(\d+)/g)) {
      const len = Number(m[2]);
      // An identifier that starts with "_" or a digit is preceded by a "_" separator.
      let start = m.index! + m[0].length;
      if (sym[start] === "_") start++;
      const crate = sym.slice(start, start + len);
      let value = 0n;
      for (const ch of m[1]) value = value * 62n + BigInt(BASE62.indexOf(ch));
      out.set(crate, (m[1] ? value + 1n : 0n).toString(16));
    }
  }
  return out;
}

export async function styles(): Promise<Record<string, (name: string) => string>> {
  const demangle = await loadDemangler();
  const v0 = (await Deno.readTextFile(fixture("panic/v0_symbols.txt"))).split("\n")
    .filter((l) => l.startsWith("_R"));
  const byPath = new Map<string, string>();
  for (const sym of v0) {
    if (!byPath.has(canonicalPath(sym, demangle))) byPath.set(canonicalPath(sym, demangle), sym);
  }
  const hashes = crateHashes(v0);
  const legacyHash = (name: string) => /17h([0-9a-f]{16})E/.exec(name)?.[1];
  const crateHash = (name: string) => {
    if (name === "rust_begin_unwind" || name === "rust_panic") {
      return `__rustc[${hashes.get("__rustc")}]::${name}`;
    }
    if (!name.startsWith("_ZN")) return name;
    return demangle(name).replace(
      /(^|[<\s(&*,])(core|alloc|std)::/g,
      (_m, pre, crate) => `${pre}${crate}[${hashes.get(crate)}]::`,
    );
  };
  return {
    "legacy mangled": (n) => n,
    "demangled with hash suffix": (n) => legacyHash(n) ? `${demangle(n)}::h${legacyHash(n)}` : n,
    "crate-hash": crateHash,
    "v0 mangled": (n) => {
      const path = canonicalPath(n, demangle);
      return byPath.get(path) ?? byPath.get(`__rustc::${path}`) ?? n;
    },
  };
}
