/**
 * The layering of STYLE.md, checked on the real module graph (`deno info --json`): no import cycle
 * between files, none between folders (a root file counts as its own layer), and wasm/ imports
 * nothing of ours. Type-only imports count too: a cycle of types is still a cycle to a reader.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).href;

interface Info {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
  }[];
}

/** Our own files reachable from `entry`, each with the files it imports. */
async function graph(entry: string): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: new URL(ROOT).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
  const ours = (s: string) => s.startsWith(ROOT) ? s.slice(ROOT.length) : undefined;
  const edges = new Map<string, string[]>();
  for (const m of info.modules) {
    const from = ours(m.specifier);
    if (!from) continue;
    const to = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .map((s) => s && ours(s)).filter((s): s is string => !!s);
    edges.set(from, [...new Set(to)]);
  }
  return edges;
}

/** The cycles of a directed graph (one per strongly connected component larger than a node). */
function cycles(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** `passes/panic.ts` → `passes`; a root file is its own layer. */
const layer = (file: string) => file.includes("/") ? file.slice(0, file.indexOf("/")) : file;

function folderGraph(files: Map<string, string[]>): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [from, to] of files) {
    const set = out.get(layer(from)) ?? new Set();
    for (const t of to) if (layer(t) !== layer(from)) set.add(layer(t));
    out.set(layer(from), set);
  }
  return new Map([...out].map(([k, v]) => [k, [...v]]));
}

for (const entry of ["cli.ts", "mod.ts"]) {
  Deno.test(`no import cycle between files or folders under ${entry}`, async () => {
    const files = await graph(entry);
    assert.ok(files.size > 20, `the graph of ${entry} was read (${files.size} files)`);
    assert.deepEqual(cycles(files), [], "file cycles");
    assert.deepEqual(cycles(folderGraph(files)), [], "folder cycles");
    for (const [from, to] of files) {
      if (from.startsWith("wasm/")) {
        assert.deepEqual(to.filter((t) => !t.startsWith("wasm/")), [], `${from} imports upward`);
      }
      assert.ok(!to.some((t) => t.startsWith("examples/")), `${from} imports examples/`);
    }
  });
}

Deno.test("the cycle finder finds file and folder cycles", () => {
  const files = new Map([
    ["a/x.ts", ["b/y.ts"]],
    ["b/y.ts", ["a/z.ts"]],
    ["a/z.ts", []],
    ["c.ts", ["c.ts"]],
  ]);
  assert.deepEqual(cycles(files), [["c.ts"]]);
  assert.deepEqual(cycles(folderGraph(files)), [["a", "b"]]);
});
