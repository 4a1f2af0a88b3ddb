/**
 * Start-up stays light: the CLI's static import graph holds only the CLI library, so `--help`
 * and section-level runs never load binaryen, a JS parser or the assembler (those load on use).
 */
import assert from "node:assert/strict";

interface Dependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

Deno.test("cli.ts statically imports no npm package but the CLI library", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../cli.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: ModuleInfo[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const npm = new Set<string>();
  const walk = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    if (specifier.startsWith("npm:")) {
      npm.add(specifier.replace(/^npm:\/?/, "").replace(/@[^@/]*$/, "").replace(/@[\d.]+.*$/, ""));
      return;
    }
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) walk(dep.code.specifier);
    }
  };
  walk(info.roots[0]);
  assert.ok(seen.size > 5, "the graph was walked");
  assert.deepEqual([...npm].sort(), ["@commander-js/extra-typings"]);
});
