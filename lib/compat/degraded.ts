import { Logger } from '@nestjs/common';

/**
 * A non-public API of a dependency that the library leans on, found not to be as expected at
 * start-up, and what is lost because of it.
 */
export interface DegradedInternal {
  /** The dependency and the internal, e.g. `express: app.router.stack`. */
  readonly internal: string;
  /** What the library no longer measures, or measures less precisely, e.g. `error_type from the status alone`. */
  readonly loss: string;
}

const reported = new Set<string>();
const logger = new Logger('MetricsModule');

/**
 * Logs one warning for an internal that is not as expected, once per process and internal: the
 * app keeps running, and the warning says what the metrics lose.
 */
export function reportDegraded(degraded: DegradedInternal): void {
  if (reported.has(degraded.internal)) return;
  reported.add(degraded.internal);
  logger.warn(
    `nestjs-metrics: ${degraded.internal} is not as this version expects; ${degraded.loss}. Everything else is measured as usual.`,
  );
}

/** Forgets what was reported, so a test can see the warning again. */
export function forgetReportedDegradations(): void {
  reported.clear();
}
