import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { methodLabel } from '../http/http-method.js';
import { inLibraryCall } from './library-calls.js';
import { NO_STATUS, type ClientErrorType } from './client-families.js';

/** One outbound HTTP call, once it ended. */
export interface OutboundCall {
  /** The `method` label: the standard method as sent, `_OTHER` otherwise. */
  readonly method: string;
  /** Host name, with the port when it is not the scheme's default (as `URL.host`). */
  readonly host: string;
  /** The status code received, or `error` when the call ended before a status line arrived. */
  readonly status: string;
  readonly durationSeconds: number;
  /** Set when the call failed or got a 4xx/5xx status. */
  readonly errorType: ClientErrorType | undefined;
}

/** Whoever records outbound calls: one per metrics module with `clientMetrics: true`. */
export type OutboundCallSink = (call: OutboundCall) => void;

/** A call in flight: what is known of it so far. */
interface CallState {
  readonly sinks: readonly OutboundCallSink[];
  readonly method: string;
  readonly host: string;
  readonly startedAt: number;
  status: number | undefined;
  timedOut: boolean;
  error: unknown;
  ended: boolean;
}

/**
 * The sinks listening now; replaced, never changed, so a call keeps the list it started with: a
 * module that starts later does not count a call it did not see start, one that closed mid-call
 * gets it into a registry nobody reads any more.
 */
let sinks: readonly OutboundCallSink[] = [];

/**
 * Starts passing every outbound HTTP call of the process (global `fetch` and other undici
 * clients, `node:http`/`node:https` requests and what is built on them, such as axios) to `sink`,
 * except those the library makes itself. Taken from Node's `diagnostics_channel`: no client is
 * patched. Returns the function that stops it; the channels are left once no sink is left.
 */
export function listenToOutboundCalls(sink: OutboundCallSink): () => void {
  if (sinks.length === 0) subscribeAll();
  sinks = [...sinks, sink];
  let listening = true;
  return () => {
    if (!listening) return;
    listening = false;
    sinks = sinks.filter((known) => known !== sink);
    if (sinks.length === 0) unsubscribeAll();
  };
}

/** Channels and their subscribers, in the order they are subscribed. */
const SUBSCRIPTIONS: readonly [string, (message: unknown) => void][] = [
  ['http.client.request.start', onHttpStart],
  ['http.client.request.error', onHttpError],
  ['http.client.response.finish', onHttpResponse],
  ['undici:request:create', onUndiciCreate],
  ['undici:request:headers', onUndiciHeaders],
  ['undici:request:trailers', onUndiciTrailers],
  ['undici:request:error', onUndiciError],
];

function subscribeAll(): void {
  for (const [name, subscriber] of SUBSCRIPTIONS)
    diagnosticsChannel.subscribe(name, subscriber);
}

function unsubscribeAll(): void {
  for (const [name, subscriber] of SUBSCRIPTIONS)
    diagnosticsChannel.unsubscribe(name, subscriber);
}

function begin(method: string | undefined, host: string): CallState {
  return {
    sinks,
    method: methodLabel(method?.toUpperCase()),
    host: host.toLowerCase(),
    startedAt: performance.now(),
    status: undefined,
    timedOut: false,
    error: undefined,
    ended: false,
  };
}

/** Records the call once, when it ended; `failed` when it ended without a complete response. */
function end(state: CallState, failed: boolean): void {
  if (state.ended) return;
  state.ended = true;
  const durationSeconds = (performance.now() - state.startedAt) / 1000;
  const status = state.status;
  const call: OutboundCall = {
    method: state.method,
    host: state.host,
    status: status === undefined ? NO_STATUS : String(status),
    durationSeconds,
    errorType: failed
      ? failureType(state)
      : status !== undefined && status >= 500
        ? 'internal'
        : status !== undefined && status >= 400
          ? 'client_error'
          : undefined,
  };
  for (const sink of state.sinks) {
    try {
      sink(call);
    } catch {
      // A sink never reaches the caller of the request.
    }
  }
}

/**
 * Why a call ended without a complete response: a timeout (the request's `timeout` fired, an
 * `AbortSignal.timeout()`, undici's connect/headers/body timeouts), a cancellation by the caller
 * (an `AbortController`, axios' cancel), otherwise the connection (refused, reset, DNS, TLS).
 */
export function failureType(state: {
  timedOut: boolean;
  error: unknown;
}): ClientErrorType {
  if (state.timedOut) return 'timeout';
  const error = state.error as
    { name?: unknown; code?: unknown; message?: unknown } | undefined;
  if (error === null || typeof error !== 'object') return 'connection';
  const { name, code } = error;
  if (
    name === 'TimeoutError' ||
    code === 'ETIMEDOUT' ||
    code === 'ESOCKETTIMEDOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    (code === 'ECONNABORTED' && /timeout/i.test(String(error.message)))
  )
    return 'timeout';
  if (
    name === 'AbortError' ||
    name === 'CanceledError' ||
    code === 'ERR_CANCELED' ||
    code === 'ABORT_ERR'
  )
    return 'cancelled';
  return 'connection';
}

// node:http and node:https. `response.finish` is published when the response's headers arrived;
// the call ends when its body ended (`complete`) or the response or request closed without it.

const httpCalls = new WeakMap<object, CallState>();

function onHttpStart(message: unknown): void {
  if (sinks.length === 0 || inLibraryCall()) return;
  try {
    const request = (message as { request: ClientRequest }).request;
    const header = request.getHeader('host');
    const host =
      typeof header === 'string' && header !== '' ? header : request.host;
    const state = begin(request.method, host ?? '');
    httpCalls.set(request, state);
    // Listeners that change nothing: neither 'timeout' nor 'close' alters what the request does.
    request.once('timeout', () => (state.timedOut = true));
    request.once('close', () => {
      if (state.status === undefined) end(state, true);
    });
  } catch {
    // Not a request of the shape Node documents: not measured.
  }
}

function onHttpError(message: unknown): void {
  const { request, error } = message as { request: object; error: unknown };
  const state = httpCalls.get(request);
  if (state !== undefined && state.error === undefined) state.error = error;
}

function onHttpResponse(message: unknown): void {
  const { request, response } = message as {
    request: object;
    response: IncomingMessage;
  };
  const state = httpCalls.get(request);
  if (state === undefined) return;
  try {
    state.status = response.statusCode;
    response.once('close', () => end(state, !response.complete));
  } catch {
    end(state, false);
  }
}

// undici: the global fetch and every undici client. `headers` when the status line and headers
// arrived, `trailers` when the body was fully received, `error` when it failed at any point.

const undiciCalls = new WeakMap<object, CallState>();

interface UndiciRequest {
  readonly method?: string;
  readonly origin?: string | URL;
}

function onUndiciCreate(message: unknown): void {
  if (sinks.length === 0 || inLibraryCall()) return;
  try {
    const request = (message as { request: UndiciRequest }).request;
    undiciCalls.set(
      request,
      begin(request.method, hostOf(request.origin ?? '')),
    );
  } catch {
    // An origin that is no URL: not measured.
  }
}

function onUndiciHeaders(message: unknown): void {
  const { request, response } = message as {
    request: object;
    response: { statusCode?: number };
  };
  const state = undiciCalls.get(request);
  if (state !== undefined) state.status = response.statusCode;
}

function onUndiciTrailers(message: unknown): void {
  const state = undiciCalls.get((message as { request: object }).request);
  if (state !== undefined) end(state, false);
}

function onUndiciError(message: unknown): void {
  const { request, error } = message as { request: object; error: unknown };
  const state = undiciCalls.get(request);
  if (state === undefined) return;
  state.error = error;
  end(state, true);
}

/** `host[:port]` of an origin, the port only when it is not the scheme's default. */
function hostOf(origin: string | URL): string {
  return (typeof origin === 'string' ? new URL(origin) : origin).host;
}
