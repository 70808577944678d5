import type { LoadAverage } from './machine-load.js';
import type { ScrapeResult, RecorderResult } from './micro.js';
import type { InstructionCounterName } from './options.js';

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
  /**
   * Share of the whole machine's CPU (all cores, 0 to 1) used over the window by processes other
   * than the server, the load generator and the runner; NaN where /proc cannot be read.
   */
  otherCpuShare: number;
}

/** The order the variants ran in, in one round on one route. */
export interface RoundOrder {
  round: number;
  route: string;
  variants: string[];
}

/** How the instructions part counted. */
export interface InstructionSettings {
  counter: InstructionCounterName;
  /** Requests counted per server, route and round. */
  requests: number;
  /** perf: warm-up requests per fresh server; callgrind: uninstrumented warm-up requests per route. */
  warmup: number;
  /** callgrind: requests per route after instrumentation starts and before counting. */
  instrumentedWarmup: number;
  rounds: number;
  /** The counter's version, for the report. */
  version: string;
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
  /** The route paths of the load (the four bench routes, and /custom in the custom-series scenario). */
  paths: string[];
  /** The custom-series scenario: the custom series the server held after the test. */
  customSeries: number | undefined;
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
  /** Responses served but not read by the end of the windows: at most connections × windows. */
  slack: number;
}

export interface Measurements {
  samples: Sample[];
  countChecks: CountCheck[];
  recorder?: RecorderResult;
  scrape?: ScrapeResult[];
  memory?: MemoryResult[];
  instructions?: InstructionSample[];
  instructionSettings?: InstructionSettings;
  /** Why perf could not count, when callgrind did. */
  instructionsPerfReason?: string;
  /** Why the instructions part did not run (no usable counter). */
  instructionsSkipped?: string;
  /** Variant order per round and route of the load part. */
  orders: RoundOrder[];
  /** `os.loadavg()` when the run started and when it ended. */
  loadAverageStart?: LoadAverage;
  loadAverageEnd?: LoadAverage;
  /** Seconds from the start of the run to the report. */
  elapsedSeconds?: number;
}
