/* @ts-self-types="./harness.d.ts" */
// @ts-check
/**
 * The runner's harness: runs a linked module (a binary's `main`/`_start`, or the tests the host
 * selected) with its glue class, and reports what libtest would print. Plain ES module with no
 * host API, so Deno (in process or as a subprocess), Node and a browser page run the very same
 * code and print the same bytes; `report(stream, text)` is how each of them prints.
 * @module
 */

/** Exit code of a trap or a failed test run: Rust's panic exit code. */
export const PANIC_EXIT_CODE = 101;

const CONSOLE_METHODS = ["log", "info", "debug", "warn", "error", "trace"];

/**
 * Formats a console argument the same way in every engine: strings as they are, errors as
 * `Name: message`, other values as JSON when they have a JSON form.
 * @param {unknown} value
 * @returns {string}
 */
export function formatValue(value) {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "function") return `[Function: ${value.name || "(anonymous)"}]`;
  if (value === undefined || typeof value === "symbol") return String(value);
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch { /* cycles: fall through */ }
  return String(value);
}

/**
 * `RuntimeError: unreachable` for traps, `Name: message` for other errors.
 * @param {unknown} e
 */
export function describeThrown(e) {
  if (e instanceof WebAssembly.RuntimeError) return `RuntimeError: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `uncaught exception: ${String(e)}`;
}

/**
 * The WebAssembly frames of a JS stack, as `  at name (wasm:0xOFFSET)`: the function's name and
 * its byte offset in the module are what every V8 embedder agrees on (the module URL, the
 * function index and a `module.` prefix on names differ between versions).
 * @param {unknown} error
 * @param {string} [moduleName] the name section's module name, stripped from function names
 * @returns {string[]}
 */
export function wasmFrames(error, moduleName) {
  const stack = error instanceof Error ? error.stack ?? "" : "";
  const out = [];
  for (const line of stack.split("\n")) {
    // `at NAME (URL:wasm-function[N]:0xOFF)`; URL is wasm://wasm/... or where it was fetched from.
    const m = /^\s*at (?:(.*) \()?\S*?:wasm-function\[\d+\]:(0x[0-9a-f]+)\)?$/.exec(line);
    if (!m) continue;
    let name = m[1] ?? "<unnamed>";
    if (moduleName && name.startsWith(`${moduleName}.`)) name = name.slice(moduleName.length + 1);
    out.push(`  at ${name} (wasm:${m[2]})`);
  }
  return out;
}

/**
 * The payload of a panic message as std's hook formats it: `panicked at 'MSG', file:1:2` (Rust
 * before 1.73) or `panicked at file:1:2:\nMSG` (later); other text is returned as it is.
 * @param {string} message
 */
export function panicPayload(message) {
  const old = /^panicked at '([\s\S]*)', [^\n]*:\d+:\d+$/.exec(message);
  if (old) return old[1];
  const now = /^panicked at [^\n]*:\d+:\d+:\n([\s\S]*)$/.exec(message);
  return now ? now[1] : message;
}

/**
 * The imports the glue (and the runner's own) do not provide, as `"module"/"name"`.
 * @param {WebAssembly.Module} module
 * @param {Record<string, Record<string, unknown>>} imports
 */
export function unprovidedImports(module, imports) {
  return WebAssembly.Module.imports(module).filter((i) => {
    const ns = Object.hasOwn(imports, i.module) ? imports[i.module] : undefined;
    return !ns || !Object.hasOwn(ns, i.name);
  }).map((i) => `"${i.module}"/"${i.name}"`);
}

/**
 * Writes C-style `argv` into fresh pages at the end of `memory` (the module's allocator only
 * grows memory past them) and returns `[argc, argv]`.
 * @param {WebAssembly.Memory} memory
 * @param {string[]} argv
 * @param {boolean} is64
 */
export function writeArgv(memory, argv, is64) {
  const enc = new TextEncoder();
  const strings = argv.map((a) => enc.encode(a + "\0"));
  const ptrSize = is64 ? 8 : 4;
  const tableSize = ptrSize * (argv.length + 1);
  const size = tableSize + strings.reduce((n, s) => n + s.length, 0);
  const pages = Math.ceil(size / 65536);
  /** @type {(delta: number | bigint) => number | bigint} */
  const grow = /** @type {never} */ (memory.grow.bind(memory));
  const base = Number(grow(is64 ? BigInt(pages) : pages)) * 65536;
  const view = new DataView(memory.buffer);
  let at = base + tableSize;
  strings.forEach((s, i) => {
    new Uint8Array(memory.buffer, at, s.length).set(s);
    if (is64) view.setBigUint64(base + i * 8, BigInt(at), true);
    else view.setUint32(base + i * 4, at, true);
    at += s.length;
  });
  return is64 ? [argv.length, BigInt(base)] : [argv.length, base];
}

/**
 * @typedef {{ kind: "binary", file: string, entry: string, params: string[], argv: string[],
 *   memory?: { module: string, name: string }, moduleName?: string }} BinaryRun
 * @typedef {{ name: string, export: string, ignore: boolean | string,
 *   shouldPanic: boolean | string, run: boolean }} TestEntry
 * @typedef {{ kind: "test", file: string, tests: TestEntry[], nocapture: boolean,
 *   filtered: number, moduleName?: string }} TestRun
 * @typedef {BinaryRun | TestRun} RunData
 * @typedef {(stream: "stdout" | "stderr", text: string) => void} Report
 * @typedef {{ status: number, error?: string }} RunResult
 */

/**
 * Console output of the module while it runs: captured (tests) or reported as it comes. A report
 * callback that itself logs (an embedder printing with console.log) reaches the real console.
 * @param {(stream: "stdout" | "stderr", text: string) => void} sink
 */
function interceptConsole(sink) {
  const c = /** @type {Record<string, (...data: unknown[]) => void>} */ (
    /** @type {unknown} */ (console)
  );
  const saved = CONSOLE_METHODS.map((m) => c[m]);
  let inSink = false;
  CONSOLE_METHODS.forEach((m, i) => {
    const stream = m === "warn" || m === "error" || m === "trace" ? "stderr" : "stdout";
    c[m] = (...data) => {
      if (inSink) return saved[i].apply(console, data);
      inSink = true;
      try {
        sink(stream, data.map(formatValue).join(" ") + "\n");
      } finally {
        inSink = false;
      }
    };
  });
  return () => CONSOLE_METHODS.forEach((m, i) => (c[m] = saved[i]));
}

/**
 * A fresh glue instance with the runner's `js_bindgen_test` imports (the panic message, as a
 * string or a pointer and length into the main memory).
 * @param {WebAssembly.Module} module
 * @param {any} JsBindgen
 * @param {RunData} data
 * @param {Record<string, Record<string, unknown>>} [imports]
 */
function prepare(module, JsBindgen, data, imports) {
  /** @type {{ message: string | undefined, glue: any }} */
  const state = { message: undefined, glue: new JsBindgen(module) };
  /** @param {unknown} ptr @param {unknown} len */
  const readString = (ptr, len) => {
    if (typeof ptr === "string") return ptr;
    const memory = mainMemory(state.glue, data);
    if (!memory) return String(ptr);
    return new TextDecoder().decode(
      new Uint8Array(memory.buffer, Number(ptr) >>> 0, Number(len) >>> 0),
    );
  };
  const provide = {
    set_message: (
      /** @type {unknown} */ p,
      /** @type {unknown} */ l,
    ) => (state.message = readString(p, l)),
    set_payload: (
      /** @type {unknown} */ p,
      /** @type {unknown} */ l,
    ) => (state.message ??= readString(p, l)),
  };
  const have = state.glue.importObject.js_bindgen_test;
  const missing = Object.fromEntries(
    Object.entries(provide).filter(([name]) => !have || !Object.hasOwn(have, name)),
  );
  if (Object.keys(missing).length) state.glue.extendImportObject({ js_bindgen_test: missing });
  if (imports) state.glue.extendImportObject(imports);
  return state;
}

/**
 * The main memory: the glue's (linkpass glue has a `memory` getter), else the import object's
 * entry for it (js-bindgen's glue), else the module's exported memory.
 * @param {any} glue
 * @param {RunData} data
 * @param {WebAssembly.Exports} [exports]
 * @returns {WebAssembly.Memory | undefined}
 */
function mainMemory(glue, data, exports) {
  if (glue.memory instanceof WebAssembly.Memory) return glue.memory;
  const m = data.kind === "binary" ? data.memory : undefined;
  try {
    const imported = m && glue.importObject[m.module]?.[m.name];
    if (imported instanceof WebAssembly.Memory) return imported;
  } catch { /* finished glue: no importObject any more */ }
  return exports?.memory instanceof WebAssembly.Memory ? exports.memory : undefined;
}

/**
 * Runs a binary or the selected tests. Returns the exit status, and an error message instead when
 * the module cannot be run at all (an import no JS provides, a missing test export).
 * @param {WebAssembly.Module} module
 * @param {any} JsBindgen the glue's class
 * @param {RunData} data
 * @param {Report} report
 * @param {Record<string, Record<string, unknown>>} [imports] more imports (in-process runs)
 * @returns {Promise<RunResult>}
 */
export async function run(module, JsBindgen, data, report, imports) {
  if (data.kind === "binary") return await runBinary(module, JsBindgen, data, report, imports);
  return await runTests(module, JsBindgen, data, report, imports);
}

/**
 * @param {WebAssembly.Module} module
 * @param {any} JsBindgen
 * @param {BinaryRun} data
 * @param {Report} report
 * @param {Record<string, Record<string, unknown>>} [imports]
 * @returns {Promise<RunResult>}
 */
async function runBinary(module, JsBindgen, data, report, imports) {
  const state = prepare(module, JsBindgen, data, imports);
  const missing = unprovidedImports(module, state.glue.importObject);
  if (missing.length) {
    return {
      status: 1,
      error: `Cannot run "${data.file}": no JS for the import${missing.length > 1 ? "s" : ""} ${
        missing.join(", ")
      }; embed a snippet for ${
        missing.length > 1 ? "them" : "it"
      } (js_bindgen.import) or pass it in the imports`,
    };
  }
  const restore = interceptConsole(report);
  try {
    const instance = await state.glue.instantiate();
    const exports = instance.exports;
    /** @type {unknown[]} */
    let args = [];
    if (data.params.length === 2) {
      const memory = mainMemory(state.glue, data, exports);
      if (!memory) {
        return { status: 1, error: `Cannot pass arguments to "${data.file}": it has no memory` };
      }
      args = writeArgv(memory, data.argv, data.params[1] === "i64");
      if (data.params[0] === "i64") args[0] = BigInt(/** @type {number} */ (args[0]));
    }
    let result;
    try {
      result = exports[data.entry](...args);
    } catch (e) {
      report("stderr", `error: "${data.file}" trapped: ${describeThrown(e)}\n`);
      const frames = wasmFrames(e, data.moduleName);
      if (frames.length) report("stderr", `wasm stack:\n${frames.join("\n")}\n`);
      return { status: PANIC_EXIT_CODE };
    }
    if (typeof result === "bigint") return { status: Number(BigInt.asIntN(32, result)) };
    return { status: typeof result === "number" ? result | 0 : 0 };
  } finally {
    restore();
  }
}

/**
 * @param {WebAssembly.Module} module
 * @param {any} JsBindgen
 * @param {TestRun} data
 * @param {Report} report
 * @param {Record<string, Record<string, unknown>>} [imports]
 * @returns {Promise<RunResult>}
 */
async function runTests(module, JsBindgen, data, report, imports) {
  const out = (/** @type {string} */ text) => report("stdout", text);
  const started = performance.now();
  const n = data.tests.length;
  out(`\nrunning ${n} test${n === 1 ? "" : "s"}\n`);
  let passed = 0;
  let ignored = 0;
  /** @type {{ name: string, output: string }[]} */
  const failures = [];
  for (const test of data.tests) {
    const label = `test ${test.name}${test.shouldPanic !== false ? " - should panic" : ""} ... `;
    if (!test.run) {
      ignored++;
      out(`${label}ignored${typeof test.ignore === "string" ? `, ${test.ignore}` : ""}\n`);
      continue;
    }
    if (data.nocapture) out(label);
    const result = await runOne(module, JsBindgen, data, test, report, imports);
    if ("error" in result) return { status: 1, error: result.error };
    if (!data.nocapture) out(label);
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
    }. ${passed} passed; ${failures.length} failed; ${ignored} ignored; 0 measured; ${data.filtered} filtered out; finished in ${secs}s\n\n`,
  );
  return { status: failures.length ? PANIC_EXIT_CODE : 0 };
}

/**
 * Runs one test in a fresh instance, capturing its console output unless `nocapture`.
 * @param {WebAssembly.Module} module
 * @param {any} JsBindgen
 * @param {TestRun} data
 * @param {TestEntry} test
 * @param {Report} report
 * @param {Record<string, Record<string, unknown>>} [imports]
 * @returns {Promise<{ ok: boolean, output: string } | { error: string }>}
 */
async function runOne(module, JsBindgen, data, test, report, imports) {
  const state = prepare(module, JsBindgen, data, imports);
  const missing = unprovidedImports(module, state.glue.importObject);
  if (missing.length) {
    return {
      error: `Cannot run the tests of "${data.file}": no JS for ${
        missing.join(", ")
      }; embed a snippet (js_bindgen.import) for it`,
    };
  }
  let captured = "";
  const restore = interceptConsole(
    data.nocapture ? report : (_stream, text) => (captured += text),
  );
  /** @type {unknown} */
  let thrown;
  let panicked = false;
  try {
    const instance = await state.glue.instantiate();
    const fn = instance.exports[test.export];
    if (typeof fn !== "function") {
      return {
        error:
          `Cannot run test "${test.name}": "${data.file}" does not export "${test.export}"; export the test function under its record's name`,
      };
    }
    fn();
  } catch (e) {
    thrown = e;
    panicked = true;
  } finally {
    restore();
  }
  const message = state.message;
  const panicLines = () => {
    let text = message !== undefined
      ? `thread '${test.name}' ${
        message.startsWith("panicked at") ? message : `panicked: ${message}`
      }\n`
      : `thread '${test.name}' panicked: ${describeThrown(thrown)}\n`;
    const frames = wasmFrames(thrown, data.moduleName);
    if (message === undefined && frames.length) text += `wasm stack:\n${frames.join("\n")}\n`;
    return text;
  };
  if (test.shouldPanic === false) {
    return panicked
      ? { ok: false, output: captured + panicLines() }
      : { ok: true, output: captured };
  }
  if (!panicked) return { ok: false, output: `${captured}note: test did not panic as expected\n` };
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
