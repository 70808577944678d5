import { connect } from 'node:net';

/** What came back on a raw connection: the status of the first response line, if any. */
export interface RawResponse {
  status: number | undefined;
  text: string;
}

export interface RawSendOptions {
  /** Pause between two chunks, to send slowly. */
  pauseMs?: number;
  /** Close the connection this long after the last chunk instead of waiting for an answer. */
  abandonAfterMs?: number;
  /**
   * Fail when the server neither answers nor closes within this long (default 20 s). A slow
   * server is an error, never mistaken for a server that gave no answer.
   */
  timeoutMs?: number;
}

/**
 * Writes bytes as they are on a new TCP connection, with no HTTP client in between to fix them,
 * and reads what the server answers until it closes the connection (or the client abandons it).
 */
export function sendRaw(
  port: number,
  chunks: (string | Buffer)[],
  options: RawSendOptions = {},
): Promise<RawResponse> {
  const { pauseMs = 0, abandonAfterMs, timeoutMs = 20_000 } = options;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : undefined, text });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(
        new Error(
          `no answer and no close from the server within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', finish);
    // The server may answer and close before the whole request is written (413, 431).
    socket.on('error', () => undefined);
    socket.once('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (settled || socket.destroyed) return;
        if (i > 0 && pauseMs > 0)
          await new Promise((r) => setTimeout(r, pauseMs));
        socket.write(chunk);
      }
      if (abandonAfterMs !== undefined) setTimeout(finish, abandonAfterMs);
    });
  });
}

/** An HTTP/1.1 request head with `Connection: close`, so that the server closes after answering. */
export function head(
  method: string,
  target: string,
  headers: Record<string, string | number> = {},
): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: localhost'];
  for (const [name, value] of Object.entries(headers))
    lines.push(`${name}: ${value}`);
  lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}
