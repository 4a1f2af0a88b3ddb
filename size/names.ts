/**
 * Display names of items: demangled Rust/C++ paths without build hashes, and the crate (or Go
 * package, or C file-less "(C)" group) and module path a name belongs to, for grouping.
 * @module
 */

/** A demangler: returns its input unchanged when it cannot demangle it. */
export type Demangle = (name: string) => string;

/** True for Rust (legacy `_ZN…E`, v0 `_R…`) and Itanium C++ (`_Z…`) mangled names. */
export function isMangled(name: string): boolean {
  return /^_{1,2}(Z[A-Za-z0-9_]|R[A-Z_a-z0-9])/.test(name);
}

/**
 * The readable form of a symbol name: demangled when mangled, without the `::h…` hash of legacy
 * Rust names, `[…]` crate disambiguators and `.llvm.…` suffixes.
 */
export function displayName(raw: string, demangle?: Demangle): string {
  let s = demangle && isMangled(raw) ? demangle(raw) : raw;
  s = s.replace(/\.llvm\.\d+$/, "").replace(/::h[0-9a-f]{16}(_\d+)?$/, "");
  if (s.includes("[")) s = s.replace(/([A-Za-z0-9_])\[[0-9a-f]{1,16}\]/g, "$1");
  return s;
}

/** Where a name belongs: its crate (or package) and module path (without the item's own name). */
export interface NamePath {
  /** Crate, Go package or C++ namespace; "" when the name has none. */
  crate: string;
  /** Module path below the crate, `::`-joined ("" at the crate root). */
  module: string;
}

/** Splits a path at `::` outside `<...>` and `(...)`. */
function segments(path: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === "<" || c === "(") depth++;
    else if ((c === ">" && path[i - 1] !== "-") || c === ")") depth = Math.max(0, depth - 1);
    else if (c === ":" && path[i + 1] === ":" && depth === 0) {
      out.push(path.slice(start, i));
      start = i + 2;
      i++;
    }
  }
  out.push(path.slice(start));
  return out;
}

/**
 * The crate and module of a display name. Rust trait impls (`<a::B as c::D>::f`) belong to the
 * self type's path; Go names (`path/to/pkg.(*T).f`) to their package; plain C names to none.
 *
 * @example Rust, a trait impl, Go and C
 * ```ts
 * import { namePath } from "./names.ts";
 * import assert from "node:assert";
 * assert.deepStrictEqual(namePath("core::fmt::write"), { crate: "core", module: "fmt" });
 * assert.deepStrictEqual(
 *   namePath("<alloc::string::String as core::fmt::Write>::write_str"),
 *   { crate: "alloc", module: "string::String" },
 * );
 * assert.deepStrictEqual(
 *   namePath("github.com/evanw/esbuild/internal/js_parser.(*parser).parseStmt"),
 *   { crate: "github.com/evanw/esbuild/internal/js_parser", module: "" },
 * );
 * assert.deepStrictEqual(namePath("memcpy"), { crate: "", module: "" });
 * ```
 */
export function namePath(name: string): NamePath {
  let path = name;
  if (path.startsWith("<")) {
    // `<T as Trait>::f` or `<T>::f`: the self type decides where it lives.
    let depth = 0;
    let end = path.length;
    for (let i = 0; i < path.length; i++) {
      if (path[i] === "<") depth++;
      else if (path[i] === ">" && path[i - 1] !== "-" && --depth === 0) {
        end = i;
        break;
      }
    }
    const inner = path.slice(1, end);
    const as = inner.indexOf(" as ");
    const self = (as >= 0 ? inner.slice(0, as) : inner).replace(/^(&(mut )?|\*(const|mut) )+/, "");
    // A primitive or built-in self type (`char`, `[T]`, `&str`) has no crate: use the trait's.
    path = self.includes("::") ? self : as >= 0 ? inner.slice(as + 4) : "core::primitive";
    path += "::_";
  }
  if (path.includes("::")) {
    const parts = segments(path);
    const clean = (s: string) => s.replace(/<.*$/s, "");
    return {
      crate: clean(parts[0]),
      module: parts.slice(1, -1).map(clean).filter((s) => s && s !== "_").join("::"),
    };
  }
  // Go: the package path runs to the first "." after the last "/".
  const slash = path.lastIndexOf("/");
  const dot = path.indexOf(".", slash + 1);
  if (dot > 0 && !path.startsWith(".") && /^[\w./-]+$/.test(path.slice(0, dot))) {
    return { crate: path.slice(0, dot), module: "" };
  }
  return { crate: "", module: "" };
}
