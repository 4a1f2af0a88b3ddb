/**
 * Running the tests of a module with a `js_bindgen.test` section the way Rust's libtest does:
 * the same arguments (a substring filter, `--exact`, `--ignored`, `--include-ignored`,
 * `--nocapture`, `--list`), the same output lines and summary, exit code 101 on failure.
 * Each test gets a fresh instance; its console output is captured and shown when it fails.
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import type { WasmModule } from "../wasm/module.ts";
import { UsageError } from "../errors.ts";
import {
  describeThrown,
  type LoadedModule,
  loadModule,
  PANIC_EXIT_CODE,
  type RunOptions,
  unprovidedImports,
  wasmFrames,
} from "./load.ts";

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

/** Runs the tests; returns 0 when all passed, 101 otherwise. */
export async function runTests(
  module: WasmModule,
  bytes: Uint8Array,
  options: RunOptions,
): Promise<number> {
  const file = options.file ?? "module.wasm";
  const out = (text: string) => options.onOutput?.("stdout", text);
  const args = parseTestArgs(options.args ?? []);
  const all = readTests(module);
  const matches = (t: TestRecord) =>
    !args.filters.length ||
    args.filters.some((f) => args.exact ? t.name === f : t.name.includes(f));
  const selected = all.filter((t) => matches(t) && (!args.ignored || t.ignore !== false));
  if (args.list) {
    for (const t of selected) out(`${t.name}: test\n`);
    out(`\n${selected.length} tests, 0 benchmarks\n`);
    return 0;
  }
  const loaded = await loadModule(module, bytes, file);
  const started = performance.now();
  out(`\nrunning ${selected.length} test${selected.length === 1 ? "" : "s"}\n`);
  let passed = 0;
  let ignored = 0;
  const failures: { name: string; output: string }[] = [];
  for (const test of selected) {
    const label = `test ${test.name}${test.shouldPanic !== false ? " - should panic" : ""} ... `;
    const run = !test.ignore || args.ignored || args.includeIgnored;
    if (!run) {
      ignored++;
      out(`${label}ignored${typeof test.ignore === "string" ? `, ${test.ignore}` : ""}\n`);
      continue;
    }
    if (args.nocapture) out(label);
    const result = await runOne(loaded, test, file, args.nocapture, options.imports);
    if (!args.nocapture) out(label);
    if (result.ok) {
      passed++;
      out("ok\n");
    } else {
      failures.push({ name: test.name, output: result.output });
      out("FAILED\n");
    }
  }
  if (failures.length) {
    out("\nfailures:\n\n");
    for (const f of failures) out(`---- ${f.name} stdout ----\n${f.output}\n`);
    out("\nfailures:\n");
    for (const f of failures) out(`    ${f.name}\n`);
  }
  const secs = ((performance.now() - started) / 1000).toFixed(2);
  out(
    `\ntest result: ${
      failures.length ? "FAILED" : "ok"
    }. ${passed} passed; ${failures.length} failed; ${ignored} ignored; 0 measured; ${
      all.length - selected.length
    } filtered out; finished in ${secs}s\n\n`,
  );
  return failures.length ? PANIC_EXIT_CODE : 0;
}

const CONSOLE_METHODS = ["log", "info", "debug", "warn", "error", "trace"] as const;

/** Runs one test in a fresh instance, capturing console output unless `nocapture`. */
async function runOne(
  loaded: LoadedModule,
  test: TestRecord,
  file: string,
  nocapture: boolean,
  extra?: WebAssembly.Imports,
): Promise<{ ok: boolean; output: string }> {
  let captured = "";
  let message: string | undefined;
  const glue = new loaded.JsBindgen(loaded.compiled);
  const readString = (ptr: unknown, len: unknown) => {
    if (typeof ptr === "string") return ptr;
    const memory = glue.memory;
    if (!memory) return String(ptr);
    return new TextDecoder().decode(
      new Uint8Array(memory.buffer, Number(ptr) >>> 0, Number(len) >>> 0),
    );
  };
  glue.extendImportObject({
    js_bindgen_test: {
      set_message: (ptr: unknown, len: unknown) => (message = readString(ptr, len)),
      set_payload: (ptr: unknown, len: unknown) => (message ??= readString(ptr, len)),
    },
  });
  if (extra) glue.extendImportObject(extra);
  const missing = unprovidedImports(loaded.compiled, glue.importObject);
  if (missing.length) {
    throw new UsageError(
      `Cannot run the tests of "${file}": no JS for ${
        missing.join(", ")
      }; embed a snippet (js_bindgen.import) for it`,
    );
  }
  const saved = CONSOLE_METHODS.map((m) => console[m]);
  if (!nocapture) {
    for (const m of CONSOLE_METHODS) {
      console[m] = (...data: unknown[]) => {
        captured += data.map((d) => typeof d === "string" ? d : Deno.inspect(d)).join(" ") + "\n";
      };
    }
  }
  let thrown: unknown;
  let panicked = false;
  try {
    const { exports } = await glue.instantiate();
    const fn = exports[test.export];
    if (typeof fn !== "function") {
      throw new UsageError(
        `Cannot run test "${test.name}": "${file}" does not export "${test.export}"; export the test function under its record's name`,
      );
    }
    (fn as () => unknown)();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    thrown = e;
    panicked = true;
  } finally {
    CONSOLE_METHODS.forEach((m, i) => (console[m] = saved[i] as typeof console.log));
  }
  const panicLines = () => {
    let text = message !== undefined
      ? `thread '${test.name}' ${
        message.startsWith("panicked at") ? message : `panicked: ${message}`
      }\n`
      : `thread '${test.name}' panicked: ${describeThrown(thrown)}\n`;
    const frames = wasmFrames(thrown);
    if (message === undefined && frames.length) text += `wasm stack:\n${frames.join("\n")}\n`;
    return text;
  };
  if (test.shouldPanic === false) {
    return panicked
      ? { ok: false, output: captured + panicLines() }
      : { ok: true, output: captured };
  }
  if (!panicked) {
    return { ok: false, output: `${captured}note: test did not panic as expected\n` };
  }
  const text = message !== undefined ? panicPayload(message) : describeThrown(thrown);
  if (typeof test.shouldPanic === "string" && !text.includes(test.shouldPanic)) {
    return {
      ok: false,
      output:
        `${captured}${panicLines()}note: panic did not contain expected string\n      panic message: \`${
          JSON.stringify(text)
        }\`,\n expected substring: \`${JSON.stringify(test.shouldPanic)}\`\n`,
    };
  }
  return { ok: true, output: captured };
}

/**
 * The payload of a panic message as std's hook formats it: `panicked at 'MSG', file:1:2` (Rust
 * before 1.73) or `panicked at file:1:2:\nMSG` (later); other text is returned as it is.
 */
export function panicPayload(message: string): string {
  const old = /^panicked at '([\s\S]*)', [^\n]*:\d+:\d+$/.exec(message);
  if (old) return old[1];
  const now = /^panicked at [^\n]*:\d+:\d+:\n([\s\S]*)$/.exec(message);
  return now ? now[1] : message;
}
