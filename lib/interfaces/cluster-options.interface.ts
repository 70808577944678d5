/** How a `node:cluster` worker serves the totals of all workers. */
export interface ClusterOptions {
  /** Keep each worker's series apart with a `worker` label (the cluster worker id). Default `false`. */
  workerLabel?: boolean;
  /** Seconds a scrape waits for every worker's metrics before it answers 503. Default 3. */
  timeoutSeconds?: number;
}

/** Cluster options after defaults were merged and every value was checked. */
export interface ResolvedClusterOptions {
  workerLabel: boolean;
  timeoutSeconds: number;
}
