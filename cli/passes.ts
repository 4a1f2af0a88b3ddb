/**
 * `linkpass passes`: every pass with its description and options, derived from the definitions.
 * @module
 */
import type { Command } from "../deps/commander.ts";
import { flagsOf } from "../passes/define.ts";
import { builtinPasses } from "../passes/mod.ts";
import { examples } from "./io.ts";

/** Each pass as `passes --json` prints it: derived from its definition. */
export function describePasses() {
  return builtinPasses.map(({ definition: d }) => ({
    name: d.name,
    description: d.description,
    level: d.level,
    main: d.main,
    options: Object.fromEntries(
      Object.entries(d.options).map(([key, spec]) => [key, {
        kind: spec.kind,
        help: spec.help,
        default: spec.default,
        choices: spec.choices,
      }]),
    ),
    flags: flagsOf(d).map((f) => f.syntax),
  }));
}

/** The text `passes` prints. */
export function formatPasses(): string {
  const lines: string[] = [];
  for (const { definition: d } of builtinPasses) {
    lines.push(`${d.name} (${d.level}): ${d.description}`);
    for (const f of flagsOf(d)) lines.push(`  ${f.syntax.padEnd(36)} ${f.help}`);
  }
  return lines.join("\n");
}

/** Adds `passes` to the program. */
export function registerPasses(program: Command): void {
  program.command("passes")
    .description("list every pass with its description and options")
    .option(
      "--json",
      "print JSON: each pass's name, level, options (kind, default, choices) and flags",
    )
    .addHelpText(
      "after",
      examples("linkpass passes", "linkpass passes --json | jq '.[].name'"),
    )
    .action((o) =>
      console.log(o.json ? JSON.stringify(describePasses(), null, 2) : formatPasses())
    );
}
