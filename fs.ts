/**
 * File helpers: atomic writes (temp file + rename) so a failed run leaves no partial output.
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically: into a temporary file beside it, then renamed over it.
 *
 * @example Write a file
 * ```ts
 * import { writeFileAtomic } from "./fs.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/out.bin`, new Uint8Array([1, 2, 3]));
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | Uint8Array[],
  mode?: number,
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data, { mode });
    else if (Array.isArray(data)) {
      const file = await Deno.open(tmp, { write: true, createNew: true, mode });
      try {
        for (const chunk of data) {
          let written = 0;
          while (written < chunk.length) written += await file.write(chunk.subarray(written));
        }
      } finally {
        file.close();
      }
    } else await Deno.writeFile(tmp, data, { mode });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** True when both paths name the same existing file. */
export async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino && sa.ino !== null;
  } catch {
    return false;
  }
}
