import type { ScrapeResult, RecorderResult } from './micro.js';

/** One measured window of one variant on one route. */
export interface Sample {
  round: number;
  route: string;
  variant: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuMicrosPerRequest: number;
}

/** User-space instructions of one fresh server over a fixed number of requests on one route. */
export interface InstructionSample {
  round: number;
  route: string;
  variant: string;
  /** Responses the load generator received while perf counted. */
  requests: number;
  instructions: number;
  instructionsPerRequest: number;
}

/** The memory test of one server. */
export interface MemoryResult {
  variant: string;
  warmupRequests: number;
  requests: number;
  randomPaths: number;
  rssWarmBytes: number;
  rssAfterBytes: number;
  heapWarmBytes: number;
  heapAfterBytes: number;
  heapTotalWarmBytes: number;
  heapTotalAfterBytes: number;
  /** nestjs-metrics: `requests_total` summed over its series after the test, and the number of those series. */
  countedRequests: number | undefined;
  requestSeries: number | undefined;
  /** Responses the load generator received (warm-up included). */
  receivedRequests: number;
  seconds: number;
}

/** How the nestjs-metrics servers' own counts compare with what the load generator received. */
export interface CountCheck {
  variant: string;
  counted: number;
  received: number;
  windows: number;
}

export interface Measurements {
  samples: Sample[];
  countChecks: CountCheck[];
  recorder?: RecorderResult;
  scrape?: ScrapeResult[];
  memory?: MemoryResult[];
  instructions?: InstructionSample[];
  /** Why the instructions part did not run (no usable hardware counters). */
  instructionsSkipped?: string;
}
