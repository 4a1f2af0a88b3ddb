/**
 * A loopback static file server over a folder, the way a plain code host serves a checkout:
 * `.ts` as `application/typescript`, `.js` as `text/javascript`, anything else as bytes.
 * @module
 */
import { extname, join, normalize, resolve } from "node:path";

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

/** A running server: its base URL (ends with `/`) and how to stop it. */
export interface StaticServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

/** Serves `root` on 127.0.0.1 (a free port); paths outside it are 404. */
export function serveStatic(folder: string): StaticServer {
  const root = resolve(folder);
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      requests.push(path);
      const file = normalize(join(root, path));
      if (!file.startsWith(normalize(root))) return new Response("not found", { status: 404 });
      try {
        const body = await Deno.readFile(file);
        return new Response(body, {
          headers: { "content-type": TYPES[extname(file)] ?? "application/octet-stream" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const { port } = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${port}/`, requests, close: () => server.shutdown() };
}

if (import.meta.main) {
  const server = serveStatic(Deno.args[0] ?? Deno.cwd());
  console.log(server.url);
}
