import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on loopback (port 0) to `target`, which a test can freeze: while paused, nothing is
 * forwarded either way (the bytes wait in the sockets) and the connections stay open, as with a
 * stalled server or a client that stopped answering.
 */
export class PausableProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private paused = false;
  /** Every byte clients sent through the proxy, per connection, in order. */
  private readonly sent = new Map<Socket, Buffer[]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(
    targetPort: number,
    targetHost = '127.0.0.1',
  ): Promise<PausableProxy> {
    const holder: { proxy?: PausableProxy } = {};
    const server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      const pair: [Socket, Socket] = [client, upstream];
      holder.proxy!.pairs.add(pair);
      const chunks: Buffer[] = [];
      holder.proxy!.sent.set(client, chunks);
      client.on('data', (chunk: Buffer) => chunks.push(chunk));
      client.pipe(upstream);
      upstream.pipe(client);
      if (holder.proxy!.paused) for (const socket of pair) socket.pause();
      const end = () => {
        holder.proxy!.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    holder.proxy = new PausableProxy(
      server,
      (server.address() as AddressInfo).port,
    );
    return holder.proxy;
  }

  /** Connections open through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Stops forwarding, both ways, on every connection (and on new ones). */
  pause(): void {
    this.paused = true;
    for (const pair of this.pairs) for (const socket of pair) socket.pause();
  }

  /** Forwards what clients send, but holds the answers (until `resume()`). */
  holdAnswers(): void {
    for (const [, upstream] of this.pairs) upstream.pause();
  }

  /**
   * The Redis commands (RESP arrays of bulk strings) clients sent through the proxy, per
   * connection, from the `from`-th byte of each on (see `sentBytes()`).
   */
  redisCommands(from: ReadonlyMap<Socket, number> = new Map()): string[][] {
    const commands: string[][] = [];
    for (const [client, chunks] of this.sent)
      commands.push(
        ...parseRespCommands(
          Buffer.concat(chunks).subarray(from.get(client) ?? 0),
        ),
      );
    return commands;
  }

  /** How many bytes each connection has sent so far. */
  sentBytes(): Map<Socket, number> {
    return new Map(
      [...this.sent].map(([client, chunks]) => [
        client,
        chunks.reduce((total, chunk) => total + chunk.length, 0),
      ]),
    );
  }

  resume(): void {
    this.paused = false;
    for (const pair of this.pairs) for (const socket of pair) socket.resume();
  }

  /** Closes every connection at once (no close frame, no FIN handshake beyond the socket's). */
  async close(): Promise<void> {
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Splits `*N\r\n$len\r\n<bytes>\r\n…` into commands (a partial one at the end is left out). */
function parseRespCommands(bytes: Buffer): string[][] {
  const commands: string[][] = [];
  let at = 0;
  const line = (): string | undefined => {
    const end = bytes.indexOf('\r\n', at);
    if (end < 0) return undefined;
    const text = bytes.subarray(at, end).toString('latin1');
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    if (header === undefined || !header.startsWith('*')) return commands;
    const parts: string[] = [];
    for (let i = 0; i < Number(header.slice(1)); i++) {
      const size = line();
      if (size === undefined || !size.startsWith('$')) return commands;
      const length = Number(size.slice(1));
      if (at + length + 2 > bytes.length) return commands;
      parts.push(bytes.subarray(at, at + length).toString('utf8'));
      at += length + 2;
    }
    commands.push(parts);
  }
}
