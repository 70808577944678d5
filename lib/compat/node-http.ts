import { createServer, type IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { reportDegraded } from './degraded.js';

/**
 * Node's HTTP parser hands each chunk of a request body to `req.push`, looked up on the request
 * at the time: the HTTP instrumentation counts request bytes by replacing it on the request.
 * Nothing public says so.
 */
export const REQUEST_PUSH = {
  internal: 'node:http: the HTTP parser calling req.push for body bytes',
  loss: 'request body bytes read as 0 (request_bytes_total)',
};

let checked: Promise<boolean> | undefined;

/**
 * Sends one small request with a body through a real `http.Server` over an in-memory socket and
 * resolves with whether a replaced `req.push` saw its bytes. Run once per process.
 */
export function requestPushCounts(): Promise<boolean> {
  return (checked ??= probe().then(
    (counts) => {
      if (!counts) reportDegraded(REQUEST_PUSH);
      return counts;
    },
    () => {
      reportDegraded(REQUEST_PUSH);
      return false;
    },
  ));
}

/** Forgets the result, so a test can run the check again. */
export function forgetRequestPushCheck(): void {
  checked = undefined;
}

/** How long start-up waits for the in-memory probe request; a probe that never ends degrades. */
const PROBE_TIMEOUT_MS = 5000;

function probe(): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    timer.unref();
    const server = createServer();
    const socket = new Duplex({
      read() {},
      write(_chunk, _encoding, callback) {
        callback();
      },
    });
    let counted = 0;
    server.on('request', (req: IncomingMessage, res) => {
      try {
        const push = req.push;
        req.push = function (this: IncomingMessage, chunk, encoding) {
          if (chunk !== null && chunk !== undefined)
            counted += (chunk as Buffer).length;
          return push.call(this, chunk, encoding);
        };
      } catch {
        // A request whose push cannot be replaced: nothing is counted.
      }
      req.resume();
      req.on('end', () => {
        clearTimeout(timer);
        resolve(counted === 4);
        res.end();
        socket.destroy();
      });
    });
    server.on('clientError', () => resolve(false));
    socket.on('close', () => resolve(false));
    server.emit('connection', socket);
    socket.push(
      'POST / HTTP/1.1\r\nHost: probe\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody',
    );
  });
}
