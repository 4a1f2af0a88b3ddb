import assert from "node:assert/strict";
import { loadConfig } from "../linker/config.ts";
import { UsageError } from "../errors.ts";

const noEnv = () => undefined;

Deno.test("loadConfig() reads deno.jsonc with a JSONC parser: strings stay as written", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/deno.jsonc`,
    `{
  // comments are fine, so are trailing commas
  "linkpass": {
    "passes": {
      /* a selector with a comma inside braces, and text that looks like a comment */
      "strip-custom-sections": { "remove": ["/\\\\.debug_[a-z]{1,}/", "a//b", "c/*d*/",], },
    },
  },
}
`,
  );
  const config = await loadConfig(`${dir}`, noEnv);
  assert.deepEqual(config.passes, {
    "strip-custom-sections": { remove: ["/\\.debug_[a-z]{1,}/", "a//b", "c/*d*/"] },
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadConfig() names the line and column of a JSONC error", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    `{\n  "linkpass": { "linker": "x" "passes": {} }\n}\n`,
  );
  await assert.rejects(loadConfig(dir, noEnv), (e) => {
    assert.ok(e instanceof UsageError);
    assert.match(
      e.message,
      /^Invalid JSONC in ".*deno\.json" at 2:31: CommaExpected; fix the file/,
    );
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});
