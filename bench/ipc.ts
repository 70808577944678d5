/** Messages between the bench runner and its child processes (Node IPC). */
export type ServerMessage =
  | { type: 'ready'; port: number }
  | {
      type: 'usage';
      id: number;
      cpuMicros: number;
      rssBytes: number;
      heapUsedBytes: number;
      heapTotalBytes: number;
      /** process.hrtime in µs: the clock of V8's CPU profile timestamps. */
      monotonicMicros: number;
    };

export type ServerCommand =
  { type: 'usage'; id: number; gc?: boolean } | { type: 'exit' };

/** One request of a load: a JSON body is sent with `content-type: application/json`. */
export interface LoadRequest {
  method: string;
  path: string;
  body?: string;
}

/** What the runner asks the load generator for. */
export interface LoadCommand {
  id: number;
  url: string;
  connections: number;
  /** Seconds; or `amount` requests. */
  duration?: number;
  amount?: number;
  /** Sent in turn on every connection. */
  requests: readonly LoadRequest[];
  /** Every n-th request goes to a distinct random path (memory test). */
  randomPathEvery?: number;
  randomPathPrefixes?: readonly string[];
}

/** What one load run returns: counts by status and the latency distribution. */
export interface LoadSummary {
  id: number;
  durationSeconds: number;
  requests: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  latencyMs: { p50: number; p99: number; mean: number };
  randomPaths: number;
}
