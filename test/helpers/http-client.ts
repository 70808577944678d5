import { Agent, request } from 'node:http';
import { connect } from 'node:net';

export interface ClientRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** A real HTTP client over a few keep-alive connections to 127.0.0.1:`port`. */
export class KeepAliveClient {
  private readonly agent: Agent;

  constructor(
    private readonly port: number,
    readonly connections = 4,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  /** Sends one request and resolves with its status once the whole response was read. */
  send({ method = 'GET', path, headers, body }: ClientRequest): Promise<{
    status: number;
    text: string;
  }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          headers: body
            ? { ...headers, 'content-length': String(body.length) }
            : headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString(),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Sends `count` requests made by `make(i)`, `connections` at a time; resolves with each status. */
  async sendMany(
    count: number,
    make: (i: number) => ClientRequest,
  ): Promise<number[]> {
    const statuses = new Array<number>(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        statuses[i] = (await this.send(make(i))).status;
      }
    };
    await Promise.all(Array.from({ length: this.connections }, worker));
    return statuses;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Writes `raw` on a new TCP connection and resolves with everything the server sent until it closed. */
export function sendRaw(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
    socket.end(raw);
  });
}
