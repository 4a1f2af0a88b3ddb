/**
 * The `chromium` engine: the job's files (engines.ts) are served on 127.0.0.1 from a random port,
 * headless Chromium (a fresh profile) opens the page, and the page runs the harness, posting each
 * piece of output back in order (`/report`) and then the result (`/finished`). Chromium is
 * stopped as soon as the result is in.
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import type { EngineChoice, EngineJob } from "./engines.ts";
import { writeJob } from "./engines.ts";
import type { RunResult } from "./harness.js";

/** The page: imports the harness and the glue, runs, and posts everything back in order. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>linkpass run</title>
<script type="module">
let queue = Promise.resolve();
const post = (path, body) =>
  (queue = queue.then(() => fetch(path, { method: "POST", body: JSON.stringify(body) })).catch(() => {}));
try {
  const { run } = await import("./harness.mjs");
  const { JsBindgen } = await import("./glue.mjs");
  const data = await (await fetch("./run-data.json")).json();
  const module = await WebAssembly.compileStreaming(fetch("./module.wasm"));
  const result = await run(module, JsBindgen, data, (stream, text) => post("/report", { stream, text }));
  await post("/finished", result);
} catch (e) {
  await post("/finished", { status: 1, error: "the page failed: " + e });
}
</script>
`;

const FILES: Record<string, string> = {
  "/harness.mjs": "text/javascript; charset=utf-8",
  "/glue.mjs": "text/javascript; charset=utf-8",
  "/module.wasm": "application/wasm",
  "/run-data.json": "application/json",
};

/** The flags Chromium runs with (plus a fresh `--user-data-dir` and the page's URL). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

function findChromium(engine: EngineChoice): string {
  if (engine.path) return engine.path;
  for (const name of ["chromium", "chromium-browser", "google-chrome", "chrome"]) {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      if (!dir) continue;
      try {
        if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
      } catch { /* next */ }
    }
  }
  throw new UsageError(
    "Cannot run the chromium engine: no chromium on PATH; install it or set JBG_TEST_CHROMIUM_PATH=/path/to/chromium",
  );
}

/** Runs the job in headless Chromium; the harness's output reaches `onOutput` in order. */
export async function runInChromium(
  engine: EngineChoice,
  job: EngineJob,
  onOutput: (stream: "stdout" | "stderr", text: string) => void,
  timeoutMs = 120_000,
): Promise<RunResult> {
  const binary = findChromium(engine);
  const dir = await writeJob(job);
  const profile = await Deno.makeTempDir({ prefix: "linkpass_chromium_" });
  let finish!: (result: RunResult) => void;
  const finished = new Promise<RunResult>((resolve) => (finish = resolve));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === "/report") {
        const { stream, text } = await req.json();
        onOutput(stream === "stderr" ? "stderr" : "stdout", String(text));
        return new Response(null, { status: 204 });
      }
      if (req.method === "POST" && path === "/finished") {
        finish(await req.json());
        return new Response(null, { status: 204 });
      }
      if (path === "/") {
        return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      const type = FILES[path];
      if (!type) return new Response("not found", { status: 404 });
      return new Response(await Deno.readFile(join(dir, path.slice(1))), {
        headers: { "content-type": type, "cache-control": "no-store" },
      });
    },
  );
  let child: Deno.ChildProcess | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    try {
      child = new Deno.Command(binary, {
        args: [
          ...CHROMIUM_FLAGS,
          `--user-data-dir=${profile}`,
          `http://127.0.0.1:${server.addr.port}/`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new UsageError(`Cannot run the chromium engine: "${binary}" not found`);
    }
    const stderr = new Response(child.stderr).text();
    const exited = child.status.then(async (s) => ({ exited: s.code, stderr: await stderr }));
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([finished, exited, timedOut]);
    if (outcome === "timeout") {
      throw new UsageError(
        `Chromium did not finish the run within ${timeoutMs / 1000} s ("${binary}")`,
      );
    }
    if ("exited" in outcome) {
      const last = outcome.stderr.trim().split("\n").at(-1) ?? "";
      throw new UsageError(
        `Chromium ("${binary}") exited with code ${outcome.exited} before the run finished${
          last ? `: ${last}` : ""
        }`,
      );
    }
    return outcome;
  } finally {
    clearTimeout(timer);
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const killer = setTimeout(() => {
        try {
          child!.kill("SIGKILL");
        } catch { /* gone */ }
      }, 3000);
      await child.status;
      clearTimeout(killer);
      await child.stderr.cancel().catch(() => {});
    }
    await server.shutdown();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
