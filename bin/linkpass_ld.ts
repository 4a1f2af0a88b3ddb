/**
 * `linkpass-ld`: the linker that cargo and rustc call for the wasm32/wasm64 targets. Same as
 * `linkpass link <wasm-ld arguments>`, without loading the rest of the CLI (start-up time counts:
 * cargo runs it once per binary and test). Install with
 * `deno install -g -A -n linkpass-ld <path>/bin/linkpass_ld.ts`.
 * @module
 */
import { link } from "../linker/link.ts";
import { describeError } from "../errors.ts";

if (import.meta.main) {
  try {
    await link({
      args: Deno.args,
      onWarning: (line) => console.error(line),
      onStdout: (text) => Deno.stdout.writeSync(new TextEncoder().encode(text)),
    });
  } catch (e) {
    const described = describeError(e);
    if (!described) throw e;
    for (const line of described.details) console.error(line);
    console.error(`error: ${described.message}`);
    Deno.exit(described.exitCode);
  }
}
