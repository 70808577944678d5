import { STATUS_CODES, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isMetricsSummary, type MetricsSummary } from './summary-shape.js';

export type SummaryReading =
  | { readonly ok: true; readonly summary: MetricsSummary }
  | { readonly ok: false; readonly message: string };

/**
 * Reads the summary once, within `timeoutMs`. Never throws: what went wrong comes back as a
 * message for the screen (unreachable, 401/403, 404, not a summary).
 */
export async function readSummary(
  url: URL,
  authorization: string | undefined,
  timeoutMs: number,
): Promise<SummaryReading> {
  const shown = url.href;
  let response: { status: number; statusText: string; body: string };
  try {
    response = await get(url, authorization, timeoutMs);
  } catch (error) {
    return { ok: false, message: `Cannot reach ${shown}: ${reason(error)}.` };
  }
  if (response.status === 401 || response.status === 403)
    return {
      ok: false,
      message: `${shown} answered ${response.status} ${response.statusText}: the metrics are behind auth; give --token <token> (bearer) or --user <user:password> (basic)${authorizationHint(authorization)}.`,
    };
  if (response.status === 404)
    return {
      ok: false,
      message: `${shown} answered 404 Not Found: no summary there. Is this a nestjs-metrics app with the summary endpoint? With another metrics path, or on the metrics port, give the full summary URL (…/summary).`,
    };
  if (response.status !== 200)
    return {
      ok: false,
      message: `${shown} answered ${response.status} ${response.statusText}.`,
    };
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    parsed = undefined;
  }
  if (!isMetricsSummary(parsed))
    return {
      ok: false,
      message: `${shown} answered 200 but not with a nestjs-metrics summary (JSON with uptime_seconds and transports).`,
    };
  return { ok: true, summary: parsed };
}

/** Bodies larger than this are not a summary. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** One GET over node:http(s), without keep-alive: nothing stays open between refreshes. */
function get(
  url: URL,
  authorization: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; statusText: string; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      {
        method: 'GET',
        agent: false,
        headers: {
          accept: 'application/json',
          ...(authorization ? { authorization } : {}),
        },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            request.destroy(new Error('the answer is too large'));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            statusText:
              response.statusMessage ||
              STATUS_CODES[response.statusCode ?? 0] ||
              '',
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(
        Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' }),
      ),
    );
    request.on('error', reject);
    request.end();
  });
}

function authorizationHint(authorization: string | undefined): string {
  if (authorization === undefined) return '';
  return authorization.startsWith('Bearer')
    ? '; the token given was refused'
    : '; the user and password given were refused';
}

function reason(error: unknown): string {
  const code = (error as { code?: string })?.code;
  if (code === 'ECONNREFUSED')
    return 'connection refused (is the app running, on this port?)';
  if (code === 'ENOTFOUND') return 'unknown host';
  if (code === 'TIMEOUT') return 'no answer in time';
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code} (${message})` : message;
}
