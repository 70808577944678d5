import {
  loadOpenTelemetryApi,
  type OpenTelemetryTraceApi,
} from '../compat/opentelemetry.js';
import type { ResolvedExemplarsOptions } from './exemplars.options.js';

/** The labels of an exemplar: the trace and span ids of the active, sampled span. */
export interface TraceLabels {
  /** `{ trace_id, span_id }` (or the configured names), as prom-client takes them. */
  readonly labelSet: Readonly<Record<string, string>>;
  /** The same as exposition text: `trace_id="…",span_id="…"`. */
  readonly labelText: string;
}

/** An exemplar kept for one bucket or one counter series: the last one recorded there. */
export interface KeptExemplar extends TraceLabels {
  readonly value: number;
  /** Seconds since the epoch, as prom-client stamps its exemplars (`Date.now() / 1000`). */
  readonly timestamp: number;
}

/** The exemplars of one status series, allocated at its first exemplar. */
export class SeriesExemplars {
  /** One slot per duration bucket, the last one +Inf. */
  readonly buckets: (KeptExemplar | undefined)[];
  /** The exemplar of `requests_total`. */
  count: KeptExemplar | undefined = undefined;

  constructor(bucketCount: number) {
    this.buckets = new Array<KeptExemplar | undefined>(bucketCount).fill(
      undefined,
    );
  }
}

/** ` # {labels} value timestamp`: an exemplar after a sample, as prom-client writes it. */
export function exemplarSuffix(exemplar: KeptExemplar): string {
  return ` # {${exemplar.labelText}} ${exemplar.value} ${exemplar.timestamp}`;
}

/**
 * Reads the span active in the current OpenTelemetry context, and makes exemplar labels of it
 * when it is valid and sampled.
 */
export class TraceExemplars {
  private readonly sampled: number;

  constructor(
    private readonly api: OpenTelemetryTraceApi,
    private readonly options: ResolvedExemplarsOptions,
  ) {
    this.sampled = api.TraceFlags.SAMPLED;
  }

  /** The labels of the active sampled span, or `undefined`; never throws. */
  current(): TraceLabels | undefined {
    try {
      const span = this.api.trace.getSpan(this.api.context.active() as never);
      if (span === undefined) return undefined;
      const spanContext = span.spanContext();
      if (
        (spanContext.traceFlags & this.sampled) === 0 ||
        !this.api.isSpanContextValid(spanContext as never)
      )
        return undefined;
      const { traceIdLabel, spanIdLabel } = this.options;
      const { traceId, spanId } = spanContext;
      return {
        labelSet: { [traceIdLabel]: traceId, [spanIdLabel]: spanId },
        labelText: `${traceIdLabel}="${traceId}",${spanIdLabel}="${spanId}"`,
      };
    } catch {
      return undefined;
    }
  }
}

/** The span reader for `exemplars`, or `undefined` when it is off or `@opentelemetry/api` is missing. */
export async function loadTraceExemplars(
  options: ResolvedExemplarsOptions | undefined,
): Promise<TraceExemplars | undefined> {
  if (options === undefined) return undefined;
  const api = await loadOpenTelemetryApi();
  return api === undefined ? undefined : new TraceExemplars(api, options);
}
