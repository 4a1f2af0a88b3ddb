/**
 * `linkpass-run`: `linkpass run` as a plain executable, for cargo's `runner` setting
 * (`cargo run`/`cargo test` call it with the .wasm path, then the arguments). Install with
 * `deno install -g -A -n linkpass-run --config <path>/deno.json <path>/bin/linkpass_run.ts`.
 * @module
 */
import { main } from "../cli.ts";

if (import.meta.main) {
  Deno.exit(await main(["run", ...Deno.args]));
}
