/**
 * Which Rust functions are panic roots: functions that never return and start (or carry) a panic.
 * Matching is on the canonical path from `_demangle.ts`, so every symbol style matches alike.
 * Functions that return normally are never roots, whatever their names contain
 * (`std::panicking::panicking()` is a query, `std::panicking::panic_count::increase` returns).
 * @module
 */

/** Where a root's `&core::panic::Location` parameter is, when it has one. */
export type LocationParam =
  /** Never located by signature (e.g. it receives a `PanicInfo`, whose layout varies). */
  | { kind: "none"; why: string }
  /**
   * The last parameter in the source signature (`#[track_caller]` appends it). Link-time
   * optimization may drop parameters, so the pass checks it against constant call-site operands.
   */
  | { kind: "last" };

/** One rule of the root table. */
export interface RootRule {
  /** Anchored pattern over the canonical path. */
  pattern: RegExp;
  /** Short label for reports. */
  label: string;
  location: LocationParam;
}

const last = (): LocationParam => ({ kind: "last" });
const none = (why: string): LocationParam => ({ kind: "none", why });
const RUSTC = "(?:__rustc::)?";

/** The root table, most specific first. */
export const ROOT_RULES: RootRule[] = [
  {
    pattern: new RegExp(`^${RUSTC}rust_begin_unwind$`),
    label: "rust_begin_unwind",
    location: none("it receives a PanicInfo, whose layout differs between Rust versions"),
  },
  {
    pattern: new RegExp(`^${RUSTC}__rust_start_panic$`),
    label: "__rust_start_panic",
    location: none("it receives the panic payload, not a Location"),
  },
  {
    pattern: new RegExp(`^(?:${RUSTC}|std::panicking::)rust_panic$`),
    label: "rust_panic",
    location: none("it receives the panic payload, not a Location"),
  },
  {
    pattern: /^std::panicking::(?:rust_panic_with_hook|panic_with_hook)$/,
    label: "std::panicking::rust_panic_with_hook",
    location: none("its Location is not its last parameter and its signature changed over time"),
  },
  {
    pattern: /^std::(?:panicking|panic)::resume_unwind$/,
    label: "std::panic::resume_unwind",
    location: none("it receives the panic payload, not a Location"),
  },
  {
    pattern: new RegExp(`^${RUSTC}__rust_drop_panic$`),
    label: "__rust_drop_panic",
    location: none("it receives nothing"),
  },
  {
    pattern: /^std::panicking::begin_panic$/,
    label: "std::panicking::begin_panic",
    location: last(),
  },
  {
    pattern: /^std::panicking::begin_panic_(?:fmt|handler)$/,
    label: "std::panicking::begin_panic_*",
    location: none("it receives formatting arguments or a PanicInfo"),
  },
  {
    pattern:
      /^core::panicking::(?:panic_nounwind\w*|panic_cannot_unwind|panic_in_cleanup)(?:::runtime|::compiletime)?$/,
    label: "core::panicking::panic_nounwind*",
    location: none("non-unwinding panics carry no Location"),
  },
  {
    pattern:
      /^core::panicking::(?:panic_const::panic_const_\w+|panic\w*|assert_failed\w*|assert_matches_failed|unreachable_display|const_panic_fmt)$/,
    label: "core::panicking::*",
    location: last(),
  },
  {
    pattern: /^core::option::unwrap_failed$/,
    label: "core::option::unwrap_failed",
    location: last(),
  },
  {
    pattern: /^core::option::expect_failed$/,
    label: "core::option::expect_failed",
    location: last(),
  },
  {
    pattern: /^core::result::unwrap_failed$/,
    label: "core::result::unwrap_failed",
    location: last(),
  },
  {
    pattern: /^core::cell::panic_already_(?:mutably_)?borrowed$/,
    label: "core::cell::panic_already_borrowed",
    location: last(),
  },
  {
    pattern:
      /^(?:core::num::overflow_panic::\w+|core::num::from_ascii_radix_panic|core::cell::lazy::panic_poisoned|std::sync::(?:lazy_lock|once_lock)::panic_poisoned|std::thread::local::panic_access_error)$/,
    label: "core::num::overflow_panic::* and other panic helpers",
    location: last(),
  },
  // Index failures: #[track_caller] (a trailing Location) only in newer versions, hence the
  // parameter counts (index, len[, loc]).
  {
    pattern:
      /^core::slice::index::(?:slice_\w+_fail|slice_index_fail|slice_\w+_fail_rt|slice_\w+_fail_ct)$/,
    label: "core::slice::index::*_fail",
    location: last(),
  },
  {
    pattern: /^core::str::(?:slice_error_fail\w*|str_index_overflow_fail)$/,
    label: "core::str::*_fail",
    location: last(),
  },
  {
    pattern: /^core::slice::<impl \[T\]>::copy_from_slice::len_mismatch_fail(?:::runtime)?$/,
    label: "core::slice::copy_from_slice::len_mismatch_fail",
    location: last(),
  },
  {
    pattern: /^alloc::raw_vec::(?:capacity_overflow|handle_error)$/,
    label: "alloc::raw_vec::capacity_overflow",
    location: none("capacity overflow carries a Location only in some versions"),
  },
  {
    pattern:
      /^(?:alloc::alloc::handle_alloc_error(?:::rt_error|::ct_error)?|std::alloc::rust_oom|(?:__rustc::)?__rg_oom|(?:__rustc::)?__rust_alloc_error_handler|(?:__rustc::)?__rdl_alloc_error_handler)$/,
    label: "handle_alloc_error",
    location: none("allocation failures receive a Layout, not a Location"),
  },
];

/** Cheap pre-filter on raw names: every root's last path segment contains one of these. */
export const ROOT_HINT = /panic|fail|overflow|alloc_error|rg_oom|unwind|unreachable|borrowed/;

/** Returns the rule that makes `path` a root, or undefined. */
export function matchRoot(path: string): RootRule | undefined {
  return ROOT_RULES.find((r) => r.pattern.test(path));
}
