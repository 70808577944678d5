import type { AddressInfo } from 'node:net';
import type { ServerCommand, ServerMessage } from './ipc.js';
import { variantById } from './variants.js';

// One bench server: `node server.js <variant>`. Reports its port over IPC, answers CPU and RSS
// questions between measured windows, exits when told to (so --cpu-prof writes its profile).

const send = (message: ServerMessage): void => {
  process.send?.(message);
};

const app = await variantById(process.argv[2] ?? '').create();
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as AddressInfo;

process.on('message', (command: ServerCommand) => {
  if (command.type === 'usage') {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (command.gc === true && gc !== undefined) gc();
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    send({
      type: 'usage',
      id: command.id,
      cpuMicros: cpu.user + cpu.system,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      monotonicMicros: Number(process.hrtime.bigint() / 1000n),
    });
  } else if (command.type === 'exit') {
    void app.close().finally(() => process.exit(0));
  }
});
// The runner went away: do not outlive it.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', port });
