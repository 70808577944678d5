import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { freePort } from './free-port.js';

/** A Pushgateway address as the pusher sees it, and what reached it. */
export interface GatewayStandIn {
  readonly url: string;
  /** TCP connections accepted so far (one per push attempt: the pusher never reuses one). */
  connections(): number;
  /** The bodies of the pushes answered so far, in order. */
  bodies(): string[];
  close(): Promise<void>;
}

/** Nothing listens on the port: every attempt fails with ECONNREFUSED. */
export async function stoppedGateway(): Promise<GatewayStandIn> {
  const port = await freePort();
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => 0,
    bodies: () => [],
    close: async () => undefined,
  };
}

/** Accepts each connection and resets it at once (TCP RST): every attempt fails with ECONNRESET. */
export function refusingGateway(): Promise<GatewayStandIn> {
  return netStandIn((socket) => socket.resetAndDestroy());
}

/** Accepts each connection, reads the push and never answers. */
export function hangingGateway(): Promise<GatewayStandIn> {
  return netStandIn((socket) => socket.resume());
}

/** A gateway that answers each push 200 after `delayMs`, keeping the bodies it received. */
export async function slowGateway(delayMs: number): Promise<GatewayStandIn> {
  const bodies: string[] = [];
  let connections = 0;
  const server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      setTimeout(() => {
        bodies.push(body);
        res.writeHead(200).end();
      }, delayMs);
    });
  });
  server.on('connection', () => (connections += 1));
  return {
    url: await listen(server),
    connections: () => connections,
    bodies: () => [...bodies],
    close: () => closeServer(server),
  };
}

async function netStandIn(
  onConnection: (socket: Socket) => void,
): Promise<GatewayStandIn> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  return {
    url: await listen(server),
    connections: () => connections,
    bodies: () => [],
    close: () => {
      for (const socket of sockets) socket.destroy();
      return closeServer(server);
    },
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  if ('closeAllConnections' in server)
    (server as { closeAllConnections(): void }).closeAllConnections();
  return closed;
}
