import { Logger } from '@nestjs/common';

/** What the library reads of `@opentelemetry/api` (its public API, 1.x). */
export interface OpenTelemetryTraceApi {
  readonly context: { active(): unknown };
  readonly trace: {
    getSpan(context: never):
      | {
          spanContext(): {
            traceId: string;
            spanId: string;
            traceFlags: number;
          };
        }
      | undefined;
  };
  isSpanContextValid(spanContext: never): boolean;
  readonly TraceFlags: { readonly SAMPLED: number };
}

const logger = new Logger('MetricsModule');
let warned = false;

/**
 * Imports `@opentelemetry/api` (an optional peer dependency), only when `exemplars` is on. Missing,
 * or without the functions read here: one warning, and no exemplars.
 */
export async function loadOpenTelemetryApi(): Promise<
  OpenTelemetryTraceApi | undefined
> {
  let api: Partial<OpenTelemetryTraceApi> | undefined;
  try {
    api =
      (await import('@opentelemetry/api')) as unknown as Partial<OpenTelemetryTraceApi>;
  } catch {
    warnOnce(
      'the "exemplars" option needs the @opentelemetry/api package, which is not installed; no exemplars are attached',
    );
    return undefined;
  }
  if (
    typeof api?.context?.active !== 'function' ||
    typeof api.trace?.getSpan !== 'function' ||
    typeof api.isSpanContextValid !== 'function' ||
    typeof api.TraceFlags?.SAMPLED !== 'number'
  ) {
    warnOnce(
      '@opentelemetry/api has no context.active(), trace.getSpan(), isSpanContextValid() or TraceFlags.SAMPLED; no exemplars are attached',
    );
    return undefined;
  }
  return api as OpenTelemetryTraceApi;
}

function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  logger.warn(`nestjs-metrics: ${message}.`);
}
