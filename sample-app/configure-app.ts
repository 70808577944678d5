import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';

/** What the sample app sets on its Nest app before it listens; shared with the tests that boot it. */
export function configureSampleApp(app: INestApplication): void {
  app.enableShutdownHooks();
  app.useWebSocketAdapter(new WsAdapter(app));
}
