import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TraceLabels } from '../exemplars/trace-exemplars.js';
import type { HandlerContext } from '../context/handler-context.js';

/** Whoever records the exchange once its response has ended. */
export interface ExchangeOwner {
  complete(res: ServerResponse, aborted: boolean): void;
}

/** What a `MetricsInterceptor` subclass may set on the request being measured. */
export interface ExchangeOutcome {
  /** The exception that decides `error_type`; the first one set wins. */
  error: unknown;
  /** The response body stream failed after the headers were sent (`response_stream`). */
  streamFailed: boolean;
}

/** The state of one HTTP request while it is in flight. */
export class HttpExchange implements ExchangeOutcome {
  requestBytes = 0;
  responseBytes = 0;
  /**
   * The exception noted on its way into Nest's exception handling, by the Express error
   * middleware, Fastify's `onError` hook or the optional interceptor; it refines `error_type`
   * where the status alone is ambiguous.
   */
  error: unknown = undefined;
  streamFailed = false;
  ended = false;
  /** The route template the framework reported while routing (Fastify), if it did. */
  route: string | undefined = undefined;
  /** The sampled span active when the request arrived, with `exemplars` on. */
  trace: TraceLabels | undefined = undefined;
  /** The handler context entered for the request, when a metric asked for `handlerLabels`. */
  handler: HandlerContext | undefined = undefined;

  constructor(
    readonly owner: ExchangeOwner,
    readonly startedAt: number,
    readonly pathname: string,
    readonly push: IncomingMessage['push'],
    readonly write: ServerResponse['write'],
    readonly end: ServerResponse['end'],
  ) {}
}

/**
 * Where one instrumentation keeps its exchanges: a private symbol of its own, so that two
 * instrumentations (two modules, two copies of the library) never read each other's state.
 */
export class ExchangeSlot {
  readonly key: symbol = Symbol('nestjs-metrics:exchange');

  /** The exchange of a response; accepts the raw response or a framework reply wrapping it (`.raw`). */
  of(response: unknown): HttpExchange | undefined {
    if (response === null || typeof response !== 'object') return undefined;
    const direct = (response as Record<symbol, HttpExchange | undefined>)[
      this.key
    ];
    if (direct !== undefined) return direct;
    const raw = (response as { raw?: unknown }).raw;
    return raw !== null && typeof raw === 'object'
      ? (raw as Record<symbol, HttpExchange | undefined>)[this.key]
      : undefined;
  }

  /**
   * Puts the exchange on the response, where every hook finds it, and on the request only when
   * the request has a body to count: a property added to every request costs measurably.
   */
  attach(
    req: IncomingMessage,
    res: ServerResponse,
    exchange: HttpExchange,
    onRequestToo: boolean,
  ): void {
    (res as unknown as Record<symbol, HttpExchange>)[this.key] = exchange;
    if (onRequestToo)
      (req as unknown as Record<symbol, HttpExchange>)[this.key] = exchange;
  }
}

/** The slots of this copy of the library whose instrumentation is attached. */
const liveSlots = new Set<ExchangeSlot>();

export function openSlot(): ExchangeSlot {
  const slot = new ExchangeSlot();
  liveSlots.add(slot);
  return slot;
}

export function closeSlot(slot: ExchangeSlot): void {
  liveSlots.delete(slot);
}

/**
 * The exchange of a response measured by this copy of the library, for code that is not bound
 * to one instrumentation (the optional interceptor, the exception capture). One app is measured
 * by one instrumentation, so this looks at one slot per live app.
 */
export function exchangeOf(response: unknown): HttpExchange | undefined {
  for (const slot of liveSlots) {
    const exchange = slot.of(response);
    if (exchange !== undefined) return exchange;
  }
  return undefined;
}
