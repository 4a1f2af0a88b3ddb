/**
 * The link cache, next to the linker's output (`<output dir>/.linkpass/`):
 * - `objects/<key>-<sum>.o`: assembled WAT fragments, keyed by a hash of (assembler version,
 *   target, fragment) and named with a hash of their own contents, so a corrupt entry is noticed
 *   and rebuilt instead of linked;
 * - `archives/<key>-<sum>.a`: archives cleaned of members the linker rejects (`lib.rmeta`),
 *   checked against their SHA-256 (kept in the manifest) before each use;
 * - `prepared/<key>-<sum>.a|.o`: inputs after the configured input passes (`inputPasses`, link-time
 *   panic), keyed by the input and the passes' configuration, checked like cleaned archives;
 * - `manifests/<output>.json`: the entries each output used, and what scanning each of its inputs
 *   found (keyed by the input's path, size, mtime, ctime and inode, so a re-link reads no
 *   unchanged input again), with a checksum of its own contents: an edited manifest is ignored.
 *   After a link, entries that no manifest of an existing output names are removed.
 * @module
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "../fs.ts";

/** How long a fresh entry or manifest is safe from clean-up (a link may still be using it). */
const GRACE_MS = 60_000;

/** The kinds of cache entries, one folder each. */
const KINDS = ["objects", "archives", "prepared"] as const;
type Kind = typeof KINDS[number];

/** Hex SHA-256 of text or bytes. */
export async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What scanning one input file found. */
export interface InputScan {
  /** WAT fragments: where each came from and its text. */
  fragments: { member?: string; record: number; text: string }[];
  /** Format-version records: crate name and version. */
  versions: { member?: string; crate: string; version: number }[];
  /** `js_bindgen.import`/`.embed` records, with where they came from (1-based record number). */
  js: {
    kind: "import" | "embed";
    module: string;
    name: string;
    embeds: { module: string; name: string }[];
    text: string;
    member?: string;
    record: number;
  }[];
  /** Archive members dropped from the cleaned copy (non-object members such as `lib.rmeta`). */
  dropped: string[];
  /** File name of the cleaned archive in `archives/`, when one was needed. */
  cleaned?: string;
  /** Size of the cleaned archive in bytes. */
  cleanedSize?: number;
  /** SHA-256 of the cleaned archive: checked before each link that uses it. */
  cleanedSha256?: string;
  /** The cleaned archive's metadata when it was written or last verified (see `lookupArchive`). */
  cleanedStat?: string;
  /**
   * The copy the input passes made (`inputPasses`), for the passes whose key is `key`: its file
   * name in `prepared/` (absent when the passes changed nothing), size, SHA-256 and metadata, as
   * for the cleaned archive; and what the passes did.
   */
  prepared?: {
    key: string;
    name?: string;
    size?: number;
    sha256?: string;
    stat?: string;
    objects: number;
    changed: number;
    roots: number;
    callSites: number;
  };
  /** Members (or the file) that are LLVM bitcode: linked, but not scanned for fragments. */
  bitcode: string[];
  /** Whether the objects import a 64-bit memory (wasm64), when any imports one. */
  memory64?: boolean;
  /** A thin archive: passed to the linker as it is, not scanned. */
  unscanned?: boolean;
}

const MANIFEST_VERSION = 2;

interface Manifest {
  version: typeof MANIFEST_VERSION;
  output: string;
  entries: string[];
  inputs: Record<string, InputScan>;
  /** SHA-256 of the manifest without this field: an edited manifest is not trusted. */
  sum?: string;
}

/** The checksum of a manifest's contents (every field but `sum`, in a fixed order). */
async function manifestSum(m: Manifest): Promise<string> {
  return await sha256(
    JSON.stringify([m.version, m.output, m.entries, m.inputs]),
  );
}

/** The cache directory of one output. */
export class LinkCache {
  /** The `.linkpass` directory. */
  readonly dir: string;
  /** The output file this link writes. */
  readonly output: string;
  #previous: Record<string, InputScan> = {};
  #inputs: Record<string, InputScan> = {};
  #used = new Set<string>();
  #listing = new Map<string, string[]>();
  #written?: string;

  private constructor(dir: string, output: string) {
    this.dir = dir;
    this.output = output;
  }

  /**
   * Opens the cache beside `output` (directories are made on the first write). A manifest whose
   * checksum does not match its contents (edited, truncated, another version) is ignored: every
   * input is scanned again.
   */
  static async open(output: string, dir: string): Promise<LinkCache> {
    const cache = new LinkCache(dir, output);
    try {
      const parsed = JSON.parse(await Deno.readTextFile(cache.#manifestPath));
      if (
        parsed?.version === MANIFEST_VERSION && typeof parsed.inputs === "object" &&
        parsed.sum === await manifestSum(parsed)
      ) {
        cache.#previous = parsed.inputs;
      }
    } catch { /* missing or corrupt: start empty */ }
    for (const kind of KINDS) {
      const names: string[] = [];
      try {
        for await (const e of Deno.readDir(join(dir, kind))) if (e.isFile) names.push(e.name);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      cache.#listing.set(kind, names.sort());
    }
    return cache;
  }

  /**
   * The key of an input file from its metadata: a changed file gets a new key (a write changes
   * the size, mtime or ctime; a replaced file also the inode).
   */
  static inputKey(path: string, stat: Deno.FileInfo): string {
    return `${path}|${stat.size}|${stat.mtime?.getTime() ?? 0}|${stat.ctime?.getTime() ?? 0}|${
      stat.ino ?? 0
    }`;
  }

  get #manifestPath(): string {
    return join(this.dir, "manifests", `${basename(this.output)}.json`);
  }

  /** The scan the previous link of this output recorded for an input key, if any. */
  scanOf(key: string): InputScan | undefined {
    return this.#previous[key];
  }

  /** Records the scan of an input (kept in this output's manifest). */
  recordScan(key: string, scan: InputScan): void {
    this.#inputs[key] = scan;
  }

  /**
   * Returns the path of a valid entry `<key>-<sum>.<ext>` in `kind`, or undefined. Entries whose
   * contents do not hash to their name are deleted.
   */
  async lookup(kind: Kind, key: string): Promise<string | undefined> {
    const names = this.#listing.get(kind) ?? [];
    for (const name of names.filter((n) => n.startsWith(`${key}-`))) {
      const path = join(this.dir, kind, name);
      const sum = name.slice(key.length + 1).replace(/\.[a-z]+$/, "");
      let ok = false;
      try {
        ok = (await sha256(await Deno.readFile(path))).slice(0, 16) === sum;
      } catch { /* unreadable */ }
      if (ok) {
        this.#used.add(`${kind}/${name}`);
        return path;
      }
      await Deno.remove(path).catch(() => {});
      this.#listing.set(kind, (this.#listing.get(kind) ?? []).filter((n) => n !== name));
    }
    return undefined;
  }

  /**
   * Checks a cleaned archive: it must exist with the recorded size and SHA-256 (a flipped byte in
   * a same-size copy is caught). Hashing tens of MB on every link would cost more than the link,
   * so a copy whose metadata (size, mtime, ctime, inode: any write changes the ctime) still equals
   * what was recorded when it was written or last hashed is taken as verified; anything else is
   * hashed. Returns its path and current metadata, or undefined (after deleting a bad entry).
   */
  async lookupArchive(
    name: string,
    expected: { size: number; sha256: string; stat?: string },
    kind: Kind = "archives",
  ): Promise<{ path: string; stat: string } | undefined> {
    const path = join(this.dir, kind, name);
    let stat: string;
    let ok = false;
    try {
      stat = LinkCache.inputKey(path, await Deno.stat(path));
      if (expected.stat !== undefined && stat === expected.stat) ok = true;
      else {
        const bytes = await Deno.readFile(path);
        ok = bytes.length === expected.size && await sha256(bytes) === expected.sha256;
      }
    } catch {
      return undefined;
    }
    if (!ok) {
      await Deno.remove(path).catch(() => {});
      return undefined;
    }
    this.#used.add(`${kind}/${name}`);
    return { path, stat };
  }

  /** Stores an entry and returns its file name, path and metadata. */
  async store(
    kind: Kind,
    key: string,
    ext: string,
    data: Uint8Array,
  ): Promise<{ name: string; path: string; stat: string }> {
    const name = `${key}-${(await sha256(data)).slice(0, 16)}.${ext}`;
    await Deno.mkdir(join(this.dir, kind), { recursive: true });
    const path = join(this.dir, kind, name);
    await writeFileAtomic(path, data);
    this.#used.add(`${kind}/${name}`);
    this.#listing.get(kind)?.push(name);
    return { name, path, stat: LinkCache.inputKey(path, await Deno.stat(path)) };
  }

  /**
   * Writes this output's manifest (the entries this link uses and the input scans). Called before
   * the linker runs, so that links running at the same time see the entries as used.
   */
  async writeManifest(): Promise<void> {
    await Deno.mkdir(join(this.dir, "manifests"), { recursive: true });
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      output: this.output,
      entries: [...this.#used].sort(),
      inputs: this.#inputs,
    };
    manifest.sum = await manifestSum(manifest);
    const text = JSON.stringify(manifest);
    if (text === this.#written) return;
    await writeFileAtomic(this.#manifestPath, text);
    this.#written = text;
  }

  /**
   * Writes the manifest, then removes entries that no manifest of an existing output names, and
   * manifests of outputs that are gone. Entries and manifests younger than a minute are kept: they
   * may belong to a link that is still running. Returns how many entries were removed.
   */
  async finish(now = Date.now()): Promise<number> {
    await this.writeManifest();
    const manifests = join(this.dir, "manifests");
    const recent = async (path: string) => {
      try {
        return now - ((await Deno.stat(path)).mtime?.getTime() ?? 0) < GRACE_MS;
      } catch {
        return false;
      }
    };
    const live = new Set<string>();
    for await (const e of Deno.readDir(manifests)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const path = join(manifests, e.name);
      let m: Manifest | undefined;
      try {
        m = JSON.parse(await Deno.readTextFile(path));
      } catch { /* corrupt: dropped below */ }
      const outputExists = m?.output !== undefined &&
        await Deno.stat(m.output).then(() => true, () => false);
      if (m && Array.isArray(m.entries) && (outputExists || await recent(path))) {
        for (const entry of m.entries) live.add(entry);
      } else if (!(await recent(path))) {
        await Deno.remove(path).catch(() => {});
      }
    }
    let removed = 0;
    for (const kind of KINDS) {
      for (const name of this.#listing.get(kind) ?? []) {
        const path = join(this.dir, kind, name);
        if (live.has(`${kind}/${name}`) || await recent(path)) continue;
        await Deno.remove(path).catch(() => {});
        removed++;
      }
    }
    return removed;
  }
}
