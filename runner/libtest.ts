/**
 * The host side of running tests the way Rust's libtest does: the `js_bindgen.test` records, the
 * same arguments (a substring filter, `--exact`, `--ignored`, `--include-ignored`, `--nocapture`,
 * `--list`), and the selection the harness (harness.js) then runs in the chosen engine, each
 * test in a fresh instance.
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import type { WasmModule } from "../wasm/module.ts";
import { UsageError } from "../errors.ts";
import type { TestRun } from "./harness.js";

export { panicPayload } from "./harness.js";

/** The section listing the tests. */
export const TEST_SECTION = "js_bindgen.test";

/** A test flag: absent, present, or present with a reason. */
export type TestFlag = false | true | string;

/** One test record. */
export interface TestRecord {
  /** The exported function, `crate::path::name`. */
  export: string;
  /** The name shown: the export without the crate (`path::name`). */
  name: string;
  /** `#[ignore]`, with its reason when given. */
  ignore: TestFlag;
  /** `#[should_panic]`, with its expected text when given. */
  shouldPanic: TestFlag;
}

/** Decodes the `js_bindgen.test` records of a module (FORMATS.md). */
export function readTests(module: WasmModule): TestRecord[] {
  const out: TestRecord[] = [];
  for (const section of module.customSections(TEST_SECTION)) {
    const p = section.payload;
    const base = Math.max(0, section.payloadOffset);
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const fail = (what: string, at: number): never => {
      throw new WasmParseError(`malformed record in section "${TEST_SECTION}": ${what}`, base + at);
    };
    let pos = 0;
    while (pos < p.length) {
      if (p.length - pos < 4) fail(`${p.length - pos} bytes left over after the last record`, pos);
      const len = view.getUint32(pos, true);
      const start = pos;
      pos += 4;
      const end = pos + len;
      if (end > p.length) fail(`a record of ${len} bytes runs past the end of the section`, start);
      const flag = (what: string): TestFlag => {
        if (pos >= end) fail(`the record ends before its ${what} flag`, pos);
        const kind = p[pos++];
        if (kind === 0) return false;
        if (kind === 1) return true;
        if (kind !== 2) fail(`invalid ${what} flag ${kind} (expected 0, 1 or 2)`, pos - 1);
        if (end - pos < 2) fail(`the ${what} reason's length is cut off`, pos);
        const n = view.getUint16(pos, true);
        pos += 2;
        if (end - pos < n) fail(`the ${what} reason runs past the end of the record`, pos - 2);
        const reason = decode(p.subarray(pos, pos + n), () => fail(`invalid UTF-8`, pos));
        pos += n;
        return reason;
      };
      const ignore = flag("ignore");
      const shouldPanic = flag("should_panic");
      const name = decode(p.subarray(pos, end), () => fail("invalid UTF-8 in the test name", pos));
      if (!name) fail("empty test name", pos);
      const sep = name.indexOf("::");
      out.push({
        export: name,
        name: sep >= 0 ? name.slice(sep + 2) : name,
        ignore,
        shouldPanic,
      });
      pos = end;
    }
  }
  return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function decode(bytes: Uint8Array, bad: () => never): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bad();
  }
}

/** Parsed libtest arguments. */
export interface TestArgs {
  /** Name filters (substrings, or whole names with `--exact`). */
  filters: string[];
  /** `--exact`: filters match whole names. */
  exact: boolean;
  /** `--ignored`: run only the ignored tests. */
  ignored: boolean;
  /** `--include-ignored`: run ignored tests too. */
  includeIgnored: boolean;
  /** `--nocapture`: let test output through as it happens. */
  nocapture: boolean;
  /** `--list`: list the tests instead of running them. */
  list: boolean;
}

/** Parses libtest's command line (options it does not need, like `--test-threads`, are accepted). */
export function parseTestArgs(args: string[]): TestArgs {
  const out: TestArgs = {
    filters: [],
    exact: false,
    ignored: false,
    includeIgnored: false,
    nocapture: false,
    list: false,
  };
  const takesValue = new Set([
    "--test-threads",
    "--color",
    "--format",
    "--logfile",
    "--skip",
    "-Z",
  ]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--exact") out.exact = true;
    else if (a === "--ignored") out.ignored = true;
    else if (a === "--include-ignored") out.includeIgnored = true;
    else if (a === "--nocapture" || a === "--no-capture") out.nocapture = true;
    else if (a === "--list") out.list = true;
    else if (a === "--show-output" || a === "-q" || a === "--quiet") continue;
    else if (takesValue.has(a)) i++;
    else if ([...takesValue].some((o) => a.startsWith(`${o}=`))) continue;
    else if (a === "--") continue;
    else if (a.startsWith("-")) {
      throw new UsageError(
        `Unrecognized test option "${a}": the runner supports --exact, --ignored, --include-ignored, --nocapture, --list and name filters`,
        2,
      );
    } else out.filters.push(a);
  }
  return out;
}

/** What {@linkcode planTests} decided. */
export type TestPlan =
  /** Print `output` and exit 0 (`--list`, or no test selected). */
  | { kind: "done"; output: string }
  /** Run these tests in an engine. */
  | { kind: "run"; data: TestRun };

/**
 * Plans a test run from libtest's arguments: `--list` and an empty selection (also a harness with
 * no tests at all: `js_bindgen.is_test` without `js_bindgen.test`) are answered here, the rest is
 * run by the harness in the chosen engine.
 */
export function planTests(module: WasmModule, file: string, argv: string[]): TestPlan {
  const args = parseTestArgs(argv);
  const all = readTests(module);
  const matches = (t: TestRecord) =>
    !args.filters.length ||
    args.filters.some((f) => args.exact ? t.name === f : t.name.includes(f));
  const selected = all.filter((t) => matches(t) && (!args.ignored || t.ignore !== false));
  if (args.list) {
    return {
      kind: "done",
      output: selected.map((t) => `${t.name}: test\n`).join("") +
        `\n${selected.length} tests, 0 benchmarks\n`,
    };
  }
  const filtered = all.length - selected.length;
  if (!selected.length) {
    return {
      kind: "done",
      output:
        `\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; ${filtered} filtered out; finished in 0.00s\n\n`,
    };
  }
  return {
    kind: "run",
    data: {
      kind: "test",
      file,
      nocapture: args.nocapture,
      filtered,
      tests: selected.map((t) => ({
        name: t.name,
        export: t.export,
        ignore: t.ignore,
        shouldPanic: t.shouldPanic,
        run: !t.ignore || args.ignored || args.includeIgnored,
      })),
    },
  };
}
