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

/** The memory test of the nestjs-metrics server. */
export interface MemoryResult {
  warmupRequests: number;
  requests: number;
  randomPaths: number;
  rssWarmBytes: number;
  rssAfterBytes: number;
  heapWarmBytes: number;
  heapAfterBytes: number;
  /** `requests_total` summed over its series after the test, and the number of those series. */
  countedRequests: number;
  requestSeries: number;
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
  memory?: MemoryResult;
}
