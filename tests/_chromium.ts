/**
 * Headless Chromium (Debian's `chromium`) for the browser tests: the same flags as the `chromium`
 * engine (runner/chromium.ts), a directory served on 127.0.0.1, and a page's `--dump-dom` output.
 * @module
 */
import { extname, join } from "node:path";
import { CHROMIUM_FLAGS } from "../runner/chromium.ts";
import { tool } from "./_tools.ts";

export const CHROMIUM = tool("chromium") ?? tool("/usr/bin/chromium");

/** Chromium's arguments: the engine's flags, a profile directory, then `extra`. */
export function chromiumArgs(profile: string, ...extra: string[]): string[] {
  return [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...extra];
}

/** A fresh profile directory for one Chromium run. */
export function makeProfile(): Promise<string> {
  return Deno.makeTempDir({ prefix: "linkpass_chromium_" });
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

/**
 * Loads `dir/index.html` from a server on 127.0.0.1 with `--dump-dom` and returns the text of
 * the page's `<pre id="out" data-done="1">` (as dumped, HTML-escaped); throws when the page did
 * not finish. Each requested path goes to `onRequest`.
 */
export async function dumpDom(dir: string, options: {
  budgetMs: number;
  flags?: string[];
  onRequest?: (path: string) => void;
}): Promise<string> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname.replace(/^\/$/, "/index.html");
    options.onRequest?.(path);
    try {
      const body = await Deno.readFile(join(dir, path.slice(1).replace(/\.\.+/g, "")));
      return new Response(body, {
        headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream" },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const profile = await makeProfile();
  try {
    const out = await new Deno.Command(CHROMIUM!, {
      args: chromiumArgs(
        profile,
        ...options.flags ?? [],
        `--virtual-time-budget=${options.budgetMs}`,
        "--dump-dom",
        `http://127.0.0.1:${server.addr.port}/`,
      ),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dom = new TextDecoder().decode(out.stdout);
    const pre = /<pre id="out" data-done="1">([\s\S]*?)<\/pre>/.exec(dom);
    if (!pre) {
      throw new Error(`the page did not finish:\n${dom}\n${new TextDecoder().decode(out.stderr)}`);
    }
    return pre[1];
  } finally {
    await server.shutdown();
    await Deno.remove(profile, { recursive: true });
  }
}
