/** Where and how often the registry is pushed to a Prometheus Pushgateway. */
export interface PushgatewayOptions {
  /** Base URL of the Pushgateway, e.g. `http://pushgateway:9091` (http or https). */
  url: string;
  /** The `job` label of the pushed group. */
  jobName: string;
  /** Further grouping labels, e.g. `{ instance: 'worker-1' }`; each becomes a label of every pushed series. */
  groupings?: Record<string, string>;
  /** Seconds between pushes while the app runs. Default 15. */
  intervalSeconds?: number;
  /** Seconds one push may take (each attempt, and the final push at shutdown in total). Default 5. */
  timeoutSeconds?: number;
}

/** Pushgateway options after defaults were merged and every value was checked. */
export interface ResolvedPushgatewayOptions {
  url: URL;
  jobName: string;
  groupings: Record<string, string>;
  intervalSeconds: number;
  timeoutSeconds: number;
}
