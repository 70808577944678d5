/* global fetch, setTimeout */
// Sends the sample app one TCP message of each kind and one WebSocket message, with real clients.
// Usage: node .ci/send-sample-messages.mjs <http port> <microservice port>
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import WebSocket from 'ws';

const [httpPort, microservicePort] = process.argv.slice(2).map(Number);

const client = ClientProxyFactory.create({
  transport: Transport.TCP,
  options: { host: '127.0.0.1', port: microservicePort },
});
await client.connect();
const order = await firstValueFrom(client.send('orders.get', 1));
if (order.id !== 1)
  throw new Error(`orders.get replied ${JSON.stringify(order)}`);
await firstValueFrom(client.send('orders.get', 999)).then(
  () => {
    throw new Error('orders.get 999 should fail');
  },
  () => undefined,
);
await firstValueFrom(client.send({ resource: 'orders', cmd: 'count' }, {}));
await firstValueFrom(client.emit('orders.viewed', 1), {
  defaultValue: undefined,
});
await client.close();

const socket = new WebSocket(`ws://127.0.0.1:${httpPort}`);
await new Promise((resolve, reject) => {
  socket.once('open', resolve);
  socket.once('error', reject);
});
const reply = new Promise((resolve) => socket.once('message', resolve));
socket.send(JSON.stringify({ event: 'orders.get', data: 1 }));
const frame = JSON.parse(String(await reply));
if (frame.event !== 'order')
  throw new Error(`ws replied ${JSON.stringify(frame)}`);
socket.close();
console.log('sent 3 TCP messages, 1 TCP event and 1 WebSocket message');

// The event has no reply: wait (bounded) until the app has handled it.
for (let attempt = 0; ; attempt++) {
  const text = await (
    await fetch(`http://127.0.0.1:${httpPort}/metrics`)
  ).text();
  if (text.includes('route="orders.viewed"')) break;
  if (attempt === 50) throw new Error('orders.viewed was never recorded');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
