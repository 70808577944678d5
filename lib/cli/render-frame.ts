import type {
  LatencyQuantiles,
  MetricsSummary,
  RouteSummary,
  TransportSummary,
} from './summary-shape.js';

export interface FrameOptions {
  /** Columns of the terminal; every line is cut to fit. */
  readonly width: number;
  /** Shown in the title line: where the summary was read. */
  readonly source?: string;
  /** Shown under the frame, e.g. that the last refresh failed. */
  readonly notice?: string;
}

/** Transports in this order first, then any other the app reports, by name. */
const TRANSPORT_ORDER = ['http', 'graphql', 'rpc', 'ws', 'queue'];

/**
 * One frame of `nestjs-metrics top`: plain text (no escape sequence), lines cut to `width`.
 * A pure function of the summary, so the view is tested without a terminal.
 */
export function renderFrame(
  summary: MetricsSummary,
  { width, source, notice }: FrameOptions,
): string {
  const lines: string[] = [];
  const time = summary.timestamp ? summary.timestamp.slice(11, 19) : '';
  lines.push(
    spread(
      `nestjs-metrics top${source ? `  ${source}` : ''}`,
      time ? `${time} UTC` : '',
      width,
    ),
  );
  lines.push(
    `uptime ${formatDuration(summary.uptime_seconds)}   window ${formatDuration(summary.window_seconds)} (rate, error %, p50/p95/p99: bucket estimates)`,
  );
  lines.push('');
  const names = transportNames(summary);
  if (names.length === 0) {
    lines.push('No request recorded yet.');
  } else {
    lines.push(
      row([
        'TRANSPORT',
        'REQUESTS',
        'RATE/S',
        'ERRORS',
        'ERROR %',
        'P50',
        'P95',
        'P99',
        'IN FLIGHT',
      ]),
    );
    for (const name of names) {
      const transport = summary.transports[name]!;
      const window = transport.latency_seconds?.window ?? EMPTY_QUANTILES;
      lines.push(
        row([
          name,
          formatCount(transport.requests),
          formatRate(transport.request_rate_per_second),
          formatCount(transport.errors),
          formatPercent(transport.error_ratio),
          formatSeconds(window.p50),
          formatSeconds(window.p95),
          formatSeconds(window.p99),
          formatCount(transport.in_flight),
        ]),
      );
    }
    for (const name of names)
      lines.push(...transportDetail(name, summary.transports[name]!, width));
  }
  const cutLines = lines.map((line) => cut(line, width));
  if (notice)
    cutLines.push('', ...wrap(notice, width).map((line) => cut(line, width)));
  return cutLines.join('\n') + '\n';
}

/** A full-screen message in place of a frame: the app is unreachable, refuses, or answers oddly. */
export function renderMessage(
  message: string,
  { width, source }: { width: number; source?: string },
): string {
  const lines = [
    `nestjs-metrics top${source ? `  ${source}` : ''}`,
    '',
    ...wrap(message, width),
  ];
  return lines.map((line) => cut(line, width)).join('\n') + '\n';
}

const EMPTY_QUANTILES: LatencyQuantiles = { p50: null, p95: null, p99: null };

function transportNames(summary: MetricsSummary): string[] {
  return Object.keys(summary.transports ?? {}).sort((a, b) => {
    const rank = (name: string) => {
      const index = TRANSPORT_ORDER.indexOf(name);
      return index === -1 ? TRANSPORT_ORDER.length : index;
    };
    return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
  });
}

const COLUMNS = [10, 10, 9, 8, 9, 8, 8, 8, 10];

function row(cells: readonly string[]): string {
  return cells
    .map((cell, index) =>
      index === 0
        ? cell.padEnd(COLUMNS[index]!)
        : cell.padStart(COLUMNS[index]!),
    )
    .join('')
    .trimEnd();
}

function transportDetail(
  name: string,
  transport: TransportSummary,
  width: number,
): string[] {
  const lines: string[] = [];
  const lifetime = transport.latency_seconds?.lifetime;
  if (lifetime)
    lines.push(
      '',
      `${name}: lifetime p50 ${formatSeconds(lifetime.p50)}  p95 ${formatSeconds(lifetime.p95)}  p99 ${formatSeconds(lifetime.p99)}`,
    );
  else lines.push('');
  const types = Object.entries(transport.errors_by_type ?? {})
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  lines.push(
    `${name} error types: ${types.length === 0 ? 'none' : types.map(([type, count]) => `${type} ${formatCount(count)}`).join('  ')}`,
  );
  lines.push(
    ...routeTable(
      `${name} top routes by p95`,
      transport.top_routes_by_p95,
      width,
    ),
    ...routeTable(
      `${name} top routes by errors`,
      transport.top_routes_by_errors,
      width,
    ),
  );
  return lines;
}

function routeTable(
  title: string,
  routes: readonly RouteSummary[] | undefined,
  width: number,
): string[] {
  if (!routes || routes.length === 0) return [];
  // METHOD (8) + ROUTE (flexible) + REQUESTS (10) + ERRORS (8) + P95 (9), two spaces of indent.
  const routeWidth = Math.max(12, width - 2 - 8 - 10 - 8 - 9);
  const line = (cells: readonly string[]) =>
    `  ${cells[0]!.padEnd(8)}${cut(cells[1]!, routeWidth - 1).padEnd(routeWidth)}${cells[2]!.padStart(10)}${cells[3]!.padStart(8)}${cells[4]!.padStart(9)}`.trimEnd();
  return [
    title,
    line(['METHOD', 'ROUTE', 'REQUESTS', 'ERRORS', 'P95']),
    ...routes.map((route) =>
      line([
        route.method ?? '',
        route.route ?? '',
        formatCount(route.requests),
        formatCount(route.errors),
        formatSeconds(route.p95),
      ]),
    ),
  ];
}

/** `1.2s`, `34.5ms`, `812µs`; `-` for no data. */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds))
    return '-';
  if (seconds >= 1) return `${seconds.toFixed(2)}s`;
  if (seconds >= 0.001) return `${(seconds * 1000).toFixed(1)}ms`;
  return `${Math.round(seconds * 1_000_000)}µs`;
}

/** `2h 3m`, `4m 5s`, `6.2s`. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.floor(seconds);
  const days = Math.floor(whole / 86_400);
  const hours = Math.floor((whole % 86_400) / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  return `${minutes}m ${rest}s`;
}

function formatCount(value: number | undefined): string {
  return typeof value === 'number' && Number.isFinite(value)
    ? String(Math.round(value))
    : '-';
}

function formatRate(value: number | undefined): string {
  return typeof value === 'number' && Number.isFinite(value)
    ? value.toFixed(2)
    : '-';
}

function formatPercent(ratio: number | undefined): string {
  return typeof ratio === 'number' && Number.isFinite(ratio)
    ? `${(ratio * 100).toFixed(2)}%`
    : '-';
}

function spread(left: string, right: string, width: number): string {
  const gap = width - left.length - right.length;
  return gap >= 2 ? left + ' '.repeat(gap) + right : `${left}  ${right}`;
}

/** Cuts a line to `width` characters (code points), marking the cut with `…`. */
function cut(line: string, width: number): string {
  const chars = [...line];
  if (chars.length <= width) return line;
  return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    lines.push(line);
  }
  return lines;
}
