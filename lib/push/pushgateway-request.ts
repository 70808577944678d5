import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { runAsLibraryCall } from '../client/library-calls.js';
import type { ResolvedPushgatewayOptions } from '../interfaces/pushgateway-options.interface.js';

/**
 * The Pushgateway URL of the group: `<url>/metrics/job@base64/<job>/<label>@base64/<value>...`.
 * Values are always base64url-encoded, so a `/` or any other character in a value is safe.
 */
export function groupUrl(options: ResolvedPushgatewayOptions): URL {
  const base = options.url.pathname.replace(/\/+$/, '');
  const segments = [
    'metrics',
    `job@base64/${base64Url(options.jobName)}`,
    ...Object.entries(options.groupings).map(
      ([name, value]) => `${name}@base64/${base64Url(value)}`,
    ),
  ];
  const url = new URL(options.url);
  url.pathname = `${base}/${segments.join('/')}`;
  return url;
}

/** The URL as it may appear in a log line: without user name and password. */
export function redactedUrl(url: URL): string {
  const shown = new URL(url);
  shown.username = '';
  shown.password = '';
  return shown.toString();
}

/**
 * Sends one `PUT` (replace the group) of `body`. Rejects on a network error, a status other than
 * 2xx, or with `signal.reason` when `signal` aborts (the caller's timeout or cancellation). One
 * connection per push (`agent: false`), unref'd: a push never keeps the process alive by itself
 * (at shutdown the pusher's deadline does, for exactly as long as the final push may take).
 */
export function putMetrics(
  url: URL,
  body: string,
  contentType: string,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = runAsLibraryCall(() =>
      send(url, {
        method: 'PUT',
        agent: false,
        headers: {
          'Content-Type': contentType,
          'Content-Length': Buffer.byteLength(body),
        },
      }),
    );
    req.on('socket', (socket) => socket.unref());
    const onAbort = () => req.destroy(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (error?: Error) => {
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    req.on('error', settle);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 500) text += chunk;
      });
      res.on('error', settle);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) settle();
        else
          settle(
            new Error(
              `status ${status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`,
            ),
          );
      });
    });
    if (signal.aborted) onAbort();
    else req.end(body);
  });
}

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts. */
export function unlessAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new Error('push cancelled');
}

function base64Url(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url') || '=';
}
