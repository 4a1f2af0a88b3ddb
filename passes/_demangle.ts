/**
 * Rust symbol names in every style a `name` section carries, reduced to one canonical path:
 * legacy mangled (`_ZN4core9panicking9panic_fmt17h…E`), v0 mangled (`_RNvNtCs…_4core9panicking9panic_fmt`),
 * demangled with a hash suffix (`core::panicking::panic_fmt::h0123456789abcdef`) and the crate-hash
 * style (`core[9fdf64a6790eadef]::panicking::panic_fmt`) all become `core::panicking::panic_fmt`.
 *
 * Mangled names are demangled by `gecko-profiler-demangle` (the Firefox profiler's build of the
 * `rustc-demangle` crate), loaded on first use.
 * @module
 */

import { importDemangler } from "../deps/gecko_profiler_demangle.ts";

type DemangleFn = (name: string) => string;

let demanglerPromise: Promise<DemangleFn> | undefined;

/** Loads the demangler once (a small Wasm module). */
export function loadDemangler(): Promise<DemangleFn> {
  demanglerPromise ??= importDemangler();
  return demanglerPromise;
}

/** True for names in a Rust mangling (legacy `_ZN…E` or v0 `_R…`, with or without `__` prefix). */
export function isMangled(name: string): boolean {
  return /^_{1,2}(ZN.*E(\.llvm\.\d+)?|R[A-Z_a-z0-9].*)$/.test(name);
}

/**
 * Removes what varies between builds from a demangled path: the `::h…` hash of legacy names,
 * `[…]` crate disambiguators, `.llvm.…` suffixes and trailing generic arguments (`::<&str>`).
 */
export function normalizePath(path: string): string {
  let p = path.replace(/\.llvm\.\d+$/, "");
  p = p.replace(/::h[0-9a-f]{16}$/, "");
  p = p.replace(/([A-Za-z0-9_])\[[0-9a-f]{1,16}\]/g, "$1");
  // Generic arguments of the final segment: `begin_panic::<&str>`.
  if (p.endsWith(">")) {
    let depth = 0;
    for (let i = p.length - 1; i >= 0; i--) {
      if (p[i] === ">") depth++;
      else if (p[i] === "<") depth--;
      if (depth === 0) {
        if (p.slice(i - 2, i) === "::") p = p.slice(0, i - 2);
        break;
      }
    }
  }
  return p;
}

/**
 * Returns the canonical Rust path of a symbol name in any style.
 *
 * @example Four spellings of one function
 * ```ts
 * import { canonicalPath, loadDemangler } from "./_demangle.ts";
 * import assert from "node:assert";
 * const demangle = await loadDemangler();
 * for (const name of [
 *   "_ZN4core9panicking9panic_fmt17h9ec1c8305a7da9aeE",
 *   "_RNvNtCsgEmfK2I1SDS_4core9panicking9panic_fmt",
 *   "core::panicking::panic_fmt::h9ec1c8305a7da9ae",
 *   "core[9fdf64a6790eadef]::panicking::panic_fmt",
 * ]) assert.strictEqual(canonicalPath(name, demangle), "core::panicking::panic_fmt");
 * ```
 */
export function canonicalPath(name: string, demangle: DemangleFn): string {
  return normalizePath(isMangled(name) ? demangle(name) : name);
}
