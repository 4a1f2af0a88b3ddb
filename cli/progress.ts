/**
 * Live progress on a terminal: the phase that is running (loading binaryen, parsing, each pass,
 * emitting, validating, writing) with the time elapsed, on one stderr line that is redrawn and
 * cleared at the end. Off a terminal it prints nothing.
 * @module
 */

const LABELS: Record<string, string> = {
  read: "reading",
  parse: "reading sections",
  "load binaryen": "loading binaryen",
  "ir parse": "parsing (binaryen)",
  "ir emit": "emitting (binaryen)",
  validate: "validating",
  write: "writing",
};

/** A phase's name as the progress line shows it: `pass:panic` → `pass panic`. */
export function phaseLabel(phase: string): string {
  return LABELS[phase] ?? phase.replace(/^pass:/, "pass ");
}

/** One progress line for one run. */
export class Progress {
  readonly #live: boolean;
  readonly #started = performance.now();
  #label = "";
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #encoder = new TextEncoder();

  /** `live` defaults to whether stderr is a terminal. */
  constructor(live: boolean = Deno.stderr.isTerminal()) {
    this.#live = live;
  }

  /** Shows that `phase` started; use it as the pipeline's `onProgress`. */
  phase = (phase: string): void => {
    if (!this.#live) return;
    this.#label = phaseLabel(phase);
    this.#draw();
    if (this.#timer === undefined) {
      const timer = setInterval(() => this.#draw(), 250);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  };

  /** Clears the line. */
  done(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#live) this.#write("\r\x1b[2K");
  }

  #draw(): void {
    const s = ((performance.now() - this.#started) / 1000).toFixed(1);
    this.#write(`\r\x1b[2K[${s}s] ${this.#label}...`);
  }

  #write(text: string): void {
    try {
      Deno.stderr.writeSync(this.#encoder.encode(text));
    } catch { /* stderr closed */ }
  }
}
