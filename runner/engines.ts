/**
 * The engines `linkpass run` runs a module in, all with the same harness (harness.js):
 * - `deno`: in this process (or, when `JBG_TEST_DENO_PATH` names a Deno, in that Deno);
 * - `node`: Node.js (`JBG_TEST_NODE_JS_PATH`, else `node` on PATH) runs the harness from a
 *   private directory;
 * - `chromium`: headless Chromium (`JBG_TEST_CHROMIUM_PATH`, else `chromium` on PATH) opens a page
 *   served on 127.0.0.1 that posts the harness's output back (chromium.ts).
 *
 * Choice: `--engine`, else js-bindgen's `JBG_TEST_RUNNER` (`deno`, `node-js`, `chrome-driver`,
 * and `engine`/`web-driver` for the first of each kind; also linkpass's names), else the one
 * engine whose `JBG_TEST_<ENGINE>_PATH` is set, else `deno`.
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import type { RunData, RunResult } from "./harness.js";

/** The engines. */
export const ENGINES = ["deno", "node", "chromium"] as const;
/** One of {@linkcode ENGINES}. */
export type EngineName = typeof ENGINES[number];

/** The engine to run in, and how it was chosen. */
export interface EngineChoice {
  /** The engine. */
  name: EngineName;
  /** The executable, when the engine is a process (from `JBG_TEST_*_PATH`, or PATH). */
  path?: string;
  /** Why: `--engine`, `JBG_TEST_RUNNER`, `JBG_TEST_..._PATH` or `default`. */
  source: string;
}

/** js-bindgen's runner names (and linkpass's) → engine. */
const RUNNER_NAMES: Record<string, EngineName> = {
  deno: "deno",
  engine: "deno",
  "node-js": "node",
  node: "node",
  "chrome-driver": "chromium",
  "web-driver": "chromium",
  chromium: "chromium",
  chrome: "chromium",
};

/** `JBG_TEST_<ENV>_PATH` of each engine (js-bindgen's spelling for Deno and Node). */
const PATH_VARS: Record<EngineName, string> = {
  deno: "JBG_TEST_DENO_PATH",
  node: "JBG_TEST_NODE_JS_PATH",
  chromium: "JBG_TEST_CHROMIUM_PATH",
};

/**
 * Chooses the engine (see the module documentation).
 *
 * @example js-bindgen's names work
 * ```ts
 * import assert from "node:assert";
 * import { chooseEngine } from "./engines.ts";
 * const env = (n: string) => ({ JBG_TEST_RUNNER: "node-js" } as Record<string, string>)[n];
 * assert.strictEqual(chooseEngine({ env }).name, "node");
 * assert.strictEqual(chooseEngine({ explicit: "chromium", env }).name, "chromium");
 * ```
 */
export function chooseEngine(
  options: { explicit?: string; env: (name: string) => string | undefined },
): EngineChoice {
  const { env } = options;
  const withPath = (name: EngineName, source: string): EngineChoice => {
    const path = env(PATH_VARS[name]);
    return path ? { name, path, source } : { name, source };
  };
  const supported = `${ENGINES.join(", ")} (js-bindgen's names: deno, node-js, chrome-driver)`;
  if (options.explicit !== undefined) {
    const name = RUNNER_NAMES[options.explicit];
    if (!name) {
      throw new UsageError(`Unknown engine "${options.explicit}": use ${supported}`, 2);
    }
    return withPath(name, "--engine");
  }
  const runner = env("JBG_TEST_RUNNER");
  if (runner !== undefined && runner !== "") {
    const name = RUNNER_NAMES[runner];
    if (!name) {
      throw new UsageError(
        `Unsupported JBG_TEST_RUNNER "${runner}": linkpass runs modules in ${supported}; unset it or pick one of those`,
        2,
      );
    }
    return withPath(name, "JBG_TEST_RUNNER");
  }
  const set = ENGINES.filter((e) => env(PATH_VARS[e]));
  if (set.length > 1) {
    throw new UsageError(
      `Found incompatible ${
        set.map((e) => PATH_VARS[e]).join(" and ")
      } environment variables: set JBG_TEST_RUNNER (or --engine) to choose`,
      2,
    );
  }
  if (set.length === 1) return withPath(set[0], PATH_VARS[set[0]]);
  return { name: "deno", source: "default" };
}

/** What a process engine needs: the module, its glue and what to run. */
export interface EngineJob {
  wasm: Uint8Array;
  glue: string;
  data: RunData;
}

/** The harness source, read once. */
let harnessText: string | undefined;
async function harness(): Promise<string> {
  return harnessText ??= await (await fetch(new URL("./harness.js", import.meta.url))).text();
}

/** The entry point Node (or a separate Deno) runs from the job's directory. */
const PROCESS_MAIN = `import { readFile, writeFile } from "node:fs/promises";
import { run } from "./harness.mjs";
import { JsBindgen } from "./glue.mjs";
const here = (name) => new URL(name, import.meta.url);
const data = JSON.parse(await readFile(here("run-data.json"), "utf8"));
const module = await WebAssembly.compile(await readFile(here("module.wasm")));
const encoder = new TextEncoder();
const write = globalThis.Deno
  ? (stream, text) => {
    const file = stream === "stdout" ? Deno.stdout : Deno.stderr;
    const bytes = encoder.encode(text);
    for (let n = 0; n < bytes.length;) n += file.writeSync(bytes.subarray(n));
  }
  : (stream, text) => (stream === "stdout" ? process.stdout : process.stderr).write(text);
const result = await run(module, JsBindgen, data, write);
await writeFile(here("result.json"), JSON.stringify(result));
if (globalThis.Deno) Deno.exit(result.status);
else process.exitCode = result.status;
`;

/**
 * Writes the job's files into a fresh directory: `harness.mjs`, `glue.mjs`, `module.wasm`,
 * `run-data.json` and `main.mjs`. The caller removes it.
 */
export async function writeJob(job: EngineJob): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_run_" });
  await Deno.writeTextFile(join(dir, "harness.mjs"), await harness());
  await Deno.writeTextFile(join(dir, "glue.mjs"), job.glue);
  await Deno.writeFile(join(dir, "module.wasm"), job.wasm);
  await Deno.writeTextFile(join(dir, "run-data.json"), JSON.stringify(job.data));
  await Deno.writeTextFile(join(dir, "main.mjs"), PROCESS_MAIN);
  return dir;
}

/** Forwards a process's output stream as text, chunk by chunk. */
async function forward(
  stream: ReadableStream<Uint8Array>,
  to: "stdout" | "stderr",
  onOutput: (stream: "stdout" | "stderr", text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) onOutput(to, text);
  }
  const rest = decoder.decode();
  if (rest) onOutput(to, rest);
}

/** Runs the job in Node, or in a Deno other than this one. */
export async function runInProcess(
  engine: EngineChoice,
  job: EngineJob,
  onOutput: (stream: "stdout" | "stderr", text: string) => void,
): Promise<RunResult> {
  const isDeno = engine.name === "deno";
  const command = engine.path ?? (isDeno ? Deno.execPath() : "node");
  const dir = await writeJob(job);
  try {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: isDeno
          ? [
            "run",
            "--no-config",
            "--no-lock",
            `--allow-read=${dir}`,
            `--allow-write=${dir}`,
            "main.mjs",
          ]
          : ["main.mjs"],
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new UsageError(
        `Cannot run the ${engine.name} engine: "${command}" not found; install it or set ${
          PATH_VARS[engine.name]
        }=/path/to/${isDeno ? "deno" : "node"}`,
      );
    }
    const [status] = await Promise.all([
      child.status,
      forward(child.stdout, "stdout", onOutput),
      forward(child.stderr, "stderr", onOutput),
    ]);
    let result: RunResult | undefined;
    try {
      result = JSON.parse(await Deno.readTextFile(join(dir, "result.json")));
    } catch { /* the harness did not finish */ }
    if (!result) {
      throw new UsageError(
        `The ${engine.name} engine ("${command}") stopped before the harness finished (exit code ${status.code})`,
      );
    }
    return result;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
