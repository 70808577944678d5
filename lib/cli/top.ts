import { renderFrame, renderMessage } from './render-frame.js';
import { readSummary } from './read-summary.js';
import type { MetricsSummary } from './summary-shape.js';
import type { TopArguments } from './top-arguments.js';

/** What the loop writes to and listens on; `process` in the CLI. */
export interface TopTerminal {
  readonly stdout: NodeJS.WritableStream & {
    readonly isTTY?: boolean;
    readonly columns?: number;
    on(event: 'resize', listener: () => void): unknown;
  };
  readonly stderr: NodeJS.WritableStream;
  onSignal(signal: 'SIGINT' | 'SIGTERM', listener: () => void): void;
}

/** The alternate screen and a hidden cursor while the view runs; both given back on the way out. */
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/** Columns to render for when the output is not a terminal. */
const PLAIN_WIDTH = 100;

/**
 * Runs `nestjs-metrics top`. On a terminal (and without `--once`): a full-screen view refreshed
 * every interval until SIGINT (Ctrl-C) or SIGTERM, which restore the screen and resolve with 0;
 * a failed read shows what went wrong and the loop keeps retrying. Otherwise one frame on stdout
 * (0), or what went wrong on stderr (1).
 */
export async function runTop(
  args: TopArguments,
  terminal: TopTerminal,
): Promise<number> {
  const source = args.url.href;
  const timeoutMs = Math.max(1000, args.intervalSeconds * 1000);
  const live = terminal.stdout.isTTY === true && !args.once;
  if (!live) {
    const reading = await readSummary(args.url, args.authorization, timeoutMs);
    if (!reading.ok) {
      terminal.stderr.write(`${reading.message}\n`);
      return 1;
    }
    terminal.stdout.write(
      renderFrame(reading.summary, {
        width: Number(process.env.COLUMNS) || PLAIN_WIDTH,
        source,
      }),
    );
    return 0;
  }
  return new Promise<number>((resolve) => {
    const out = terminal.stdout;
    let last: MetricsSummary | undefined;
    let failure: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const width = () => Math.max(40, out.columns ?? PLAIN_WIDTH);
    const draw = () => {
      const retry = `retrying every ${args.intervalSeconds}s; Ctrl-C to quit`;
      const text =
        last === undefined
          ? renderMessage(
              failure === undefined
                ? 'Reading the summary…'
                : `${failure}\n\nStill trying: ${retry}.`,
              { width: width(), source },
            )
          : renderFrame(last, {
              width: width(),
              source,
              notice:
                failure === undefined
                  ? `every ${args.intervalSeconds}s; Ctrl-C to quit`
                  : `Last refresh failed (${retry}): ${failure}`,
            });
      out.write(
        HOME + text.replace(/\n/g, `${CLEAR_LINE_END}\n`) + CLEAR_BELOW,
      );
    };
    const tick = async () => {
      const reading = await readSummary(
        args.url,
        args.authorization,
        timeoutMs,
      );
      if (stopped) return;
      if (reading.ok) {
        last = reading.summary;
        failure = undefined;
      } else failure = reading.message;
      draw();
      timer = setTimeout(tick, args.intervalSeconds * 1000);
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      out.write(LEAVE);
      resolve(0);
    };
    terminal.onSignal('SIGINT', stop);
    terminal.onSignal('SIGTERM', stop);
    out.on('resize', () => {
      if (!stopped) draw();
    });
    out.write(ENTER);
    draw();
    void tick();
  });
}
