/** The queue the sample's report jobs go through. */
export const REPORT_QUEUE = 'sample-reports';

/** Job name: build a report of `rows` rows. */
export const BUILD_REPORT = 'build-report';

/** Reports larger than this fail, to show failed jobs in the metrics. */
export const MAX_REPORT_ROWS = 50_000;

export interface ReportJobData {
  rows: number;
}

export interface ReportJobResult {
  rows: number;
  bytes: number;
}

/** BullMQ connection options from a `redis://[:password@]host[:port][/db]` URL. */
export function redisConnection(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
  };
}
