import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.js';

export const PUSHGATEWAY_BINARY =
  process.env.PUSHGATEWAY_BIN ?? '/usr/bin/prometheus-pushgateway';

/** Debian's Pushgateway run as a child process on 127.0.0.1, without persistence. */
export class PushgatewayProcess {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static available(): boolean {
    return existsSync(PUSHGATEWAY_BINARY);
  }

  /** Starts a gateway on `port` (a free one when not given) and waits until it is ready. */
  static async start(port?: number): Promise<PushgatewayProcess> {
    const gateway = new PushgatewayProcess(port ?? (await freePort()));
    gateway.child = spawn(
      PUSHGATEWAY_BINARY,
      [
        `--web.listen-address=127.0.0.1:${gateway.port}`,
        '--persistence.file=',
        '--log.level=error',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (gateway.child.exitCode !== null)
        throw new Error(`pushgateway exited with ${gateway.child.exitCode}`);
      try {
        const response = await fetch(`${gateway.url}/-/ready`);
        if (response.ok) return gateway;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await gateway.stop();
        throw new Error('pushgateway did not become ready within 10 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The gateway's own exposition: every pushed series with its grouping labels. */
  async metrics(): Promise<string> {
    const response = await fetch(`${this.url}/metrics`);
    return response.text();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
