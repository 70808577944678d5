import type { IncomingMessage, ServerResponse } from 'node:http';

// Shared by every copy of the library in the process, like the exception capture's marker.
export const EXCHANGE = Symbol.for('nestjs-metrics:exchange');

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
   * The exception that decided the response, noted on its way into Nest's exception handling,
   * by the Express error middleware, Fastify's `onError` hook or the optional interceptor.
   */
  error: unknown = undefined;
  streamFailed = false;
  ended = false;
  /** The route template the framework reported while routing (Fastify), if it did. */
  route: string | undefined = undefined;

  constructor(
    readonly owner: ExchangeOwner,
    readonly startedAt: number,
    readonly pathname: string,
    readonly push: IncomingMessage['push'],
    readonly write: ServerResponse['write'],
    readonly end: ServerResponse['end'],
  ) {}
}

type WithExchange<T> = T & { [EXCHANGE]?: HttpExchange };

/** The exchange of a response; accepts the raw response or a framework reply wrapping it (`.raw`). */
export function exchangeOf(response: unknown): HttpExchange | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const direct = (response as WithExchange<object>)[EXCHANGE];
  if (direct !== undefined) return direct;
  const raw = (response as { raw?: unknown }).raw;
  return raw !== null && typeof raw === 'object'
    ? (raw as WithExchange<object>)[EXCHANGE]
    : undefined;
}

/**
 * Puts the exchange on the response, where every hook finds it, and on the request only when the
 * request has a body to count: a property added to every request costs measurably per request.
 */
export function attachExchange(
  req: IncomingMessage,
  res: ServerResponse,
  exchange: HttpExchange,
  onRequestToo: boolean,
): void {
  (res as WithExchange<ServerResponse>)[EXCHANGE] = exchange;
  if (onRequestToo) (req as WithExchange<IncomingMessage>)[EXCHANGE] = exchange;
}

export function exchangeOfResponse(
  res: ServerResponse,
): HttpExchange | undefined {
  return (res as WithExchange<ServerResponse>)[EXCHANGE];
}

export function exchangeOfRequest(
  req: IncomingMessage,
): HttpExchange | undefined {
  return (req as WithExchange<IncomingMessage>)[EXCHANGE];
}
