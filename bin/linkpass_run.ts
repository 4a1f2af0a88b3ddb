/**
 * `linkpass-run`: the runner cargo calls for the wasm32/wasm64 targets (`cargo run`, `cargo
 * test`). Same as `linkpass run <module> [args...]`. Install with
 * `deno install -g -A -n linkpass-run <path>/bin/linkpass_run.ts`.
 * @module
 */
import { main } from "../cli.ts";

if (import.meta.main) Deno.exit(await main(["run", ...Deno.args]));
