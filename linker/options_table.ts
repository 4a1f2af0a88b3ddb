/**
 * The option table of wasm-ld (the `-flavor wasm` driver of LLD), written from the facts of lld's
 * `wasm/Options.td`: each option's spelling, the dashes it accepts, and its kind. Aliases name the
 * option they stand for, so callers ask for one canonical name.
 * @module
 */

/**
 * How an option takes its value, as in LLVM's OptTable:
 * - `flag`: no value (`--gc-sections`)
 * - `joined`: the value is glued on (`--export=foo`, `-O2`)
 * - `separate`: the value is the next argument (`--export foo`)
 * - `joined-or-separate`: either (`-ofoo.wasm` or `-o foo.wasm`)
 * - `comma-joined`: glued on and split at commas (`--features=a,b`)
 */
export type OptionKind = "flag" | "joined" | "separate" | "joined-or-separate" | "comma-joined";

/** One spelling of an option. */
export interface OptionSpec {
  /** The canonical option this spelling stands for (an alias names its target). */
  id: string;
  /** The name after the dashes, including a trailing `=` for joined forms. */
  name: string;
  /** Accepted dash prefixes. */
  prefixes: readonly ("-" | "--")[];
  /** Where the value comes from. */
  kind: OptionKind;
}

const ONE_OR_TWO = ["--", "-"] as const;
const TWO = ["--"] as const;
const ONE = ["-"] as const;

const table: OptionSpec[] = [];

function add(id: string, name: string, prefixes: readonly ("-" | "--")[], kind: OptionKind) {
  table.push({ id, name, prefixes, kind });
}
/** `F<>`: a flag with one or two dashes. */
const f = (name: string, id = name) => add(id, name, ONE_OR_TWO, "flag");
/** `FF<>`: a flag with two dashes only. */
const ff = (name: string, id = name) => add(id, name, TWO, "flag");
/** `J<>`: joined, one or two dashes. */
const j = (name: string, id = name.replace(/=$/, "")) => add(id, name, ONE_OR_TWO, "joined");
/** `JJ<>`: joined, two dashes only. */
const jj = (name: string, id = name.replace(/=$/, "")) => add(id, name, TWO, "joined");
/** `Eq<>`: separate and `name=` joined, one or two dashes. */
const eq = (name: string) => {
  add(name, name, ONE_OR_TWO, "separate");
  add(name, `${name}=`, ONE_OR_TWO, "joined");
};
/** `EEq<>`: separate and `name=` joined, two dashes only. */
const eeq = (name: string) => {
  add(name, name, TWO, "separate");
  add(name, `${name}=`, TWO, "joined");
};
/** `B<>`: a flag and its `no-` negation, one or two dashes. */
const b = (name: string) => {
  f(name);
  f(`no-${name}`);
};
/** `BB<>`: a flag and its `no-` negation, two dashes only. */
const bb = (name: string) => {
  ff(name);
  ff(`no-${name}`);
};
const js = (name: string, id = name) => add(id, name, ONE, "joined-or-separate");

// Shared with the ELF linker.
f("Bsymbolic");
f("Bdynamic");
f("Bstatic");
f("build-id");
j("build-id=");
b("color-diagnostics");
j("color-diagnostics=");
f("compress-relocations");
b("demangle");
f("emit-relocs");
f("error-unresolved-symbols");
b("export-dynamic");
f("end-lib");
add("entry", "entry", ONE_OR_TWO, "separate");
eeq("error-limit");
f("fatal-warnings");
b("gc-sections");
bb("merge-data-segments");
f("help");
js("l", "library");
js("L", "library-path");
js("m");
eq("mllvm");
eq("Map");
f("no-fatal-warnings");
js("o");
js("O");
b("pie");
b("print-gc-sections");
f("print-map");
f("relocatable");
eeq("reproduce");
eq("rsp-quoting");
f("shared");
f("start-lib");
f("strip-all");
f("strip-debug");
eq("threads");
f("trace");
eq("trace-symbol");
eq("undefined");
eq("unresolved-symbols");
add("v", "v", ONE, "flag");
f("verbose");
f("version");
f("warn-unresolved-symbols");
eq("wrap");
js("z");

// Unique to wasm.
f("allow-undefined");
f("import-undefined");
j("allow-undefined-file=");
add("allow-undefined-file", "allow-undefined-file", ONE, "separate");
eq("export");
eq("export-if-defined");
ff("export-all");
ff("export-table");
ff("growable-table");
jj("global-base=");
eq("keep-section");
ff("import-memory");
jj("import-memory=", "import-memory-with-name");
ff("export-memory");
jj("export-memory=", "export-memory-with-name");
ff("shared-memory");
eq("soname");
ff("import-table");
jj("initial-heap=");
jj("initial-memory=");
jj("max-memory=");
ff("no-growable-memory");
ff("no-entry");
ff("stack-first");
jj("table-base=");
b("whole-archive");
jj("why-extract=");
bb("check-features");
add("features", "features=", ONE_OR_TWO, "comma-joined");
add("extra-features", "extra-features=", ONE_OR_TWO, "comma-joined");

// Aliases.
js("e", "entry");
j("entry=", "entry");
f("call_shared", "Bdynamic");
f("dy", "Bdynamic");
f("dn", "Bstatic");
f("non_shared", "Bstatic");
f("static", "Bstatic");
add("export-dynamic", "E", ONE, "flag");
add("initial-memory", "i", ONE, "flag");
add("library", "library", ONE_OR_TWO, "separate");
add("library", "library=", ONE_OR_TWO, "joined");
add("library-path", "library-path", ONE_OR_TWO, "separate");
add("library-path", "library-path=", ONE_OR_TWO, "joined");
add("print-map", "M", ONE, "flag");
add("relocatable", "r", ONE, "flag");
add("strip-all", "s", ONE, "flag");
add("strip-debug", "S", ONE, "flag");
add("trace", "t", ONE, "flag");
js("y", "trace-symbol");
js("u", "undefined");

// Newer than the table above (LLD 17-22 `--help`).
b("allow-multiple-definition");
ff("no-shlib-sigcheck");
ff("no-stack-first");
f("noinhibit-exec");
jj("page-size=");
eq("rpath");
add("v", "V", ONE, "flag");

// LTO.
jj("lto-O");
jj("lto-CGO");
jj("lto-partitions=");
f("disable-verify");
f("save-temps");
jj("thinlto-cache-dir=");
eeq("thinlto-cache-policy");
jj("thinlto-jobs=");
ff("lto-debug-pass-manager");
ff("experimental-pic");

// The LLD driver's flavor selector (handled by the `lld` multiplexer before wasm-ld's table).
add("flavor", "flavor", ONE, "separate");

/** Every wasm-ld option spelling. */
export const WASM_LD_OPTIONS: readonly OptionSpec[] = table;

/**
 * linkpass's own options, accepted on the linker command line next to wasm-ld's and never
 * forwarded to the real linker.
 */
export const LINKPASS_OPTIONS: readonly OptionSpec[] = [
  { id: "linkpass-linker", name: "linker", prefixes: TWO, kind: "separate" },
  { id: "linkpass-linker", name: "linker=", prefixes: TWO, kind: "joined" },
  // js-bindgen's own option (its linker takes it with one or two dashes): a `--web` module has
  // no js_bindgen.is_compat and no js_bindgen.is_test.
  { id: "linkpass-web", name: "web", prefixes: ONE_OR_TWO, kind: "flag" },
  { id: "linkpass-no-glue", name: "no-glue", prefixes: TWO, kind: "flag" },
];
