import { StreamableFile } from '@nestjs/common';
import type { ExchangeSlot } from './http-exchange.js';

type Reply = (response: unknown, body: unknown, statusCode?: number) => unknown;

/**
 * Watches every `StreamableFile` a route answers with, so that a body stream that fails after
 * the headers were sent counts as `response_stream` (the adapter then ends the response as if
 * it had finished). Wraps `reply` on this app's adapter instance only.
 */
export function watchStreamedBodies(
  slot: ExchangeSlot,
  adapter: { reply: Reply },
): void {
  const reply = adapter.reply;
  adapter.reply = function (
    this: unknown,
    response: unknown,
    body: unknown,
    statusCode?: number,
  ) {
    if (body instanceof StreamableFile) {
      const exchange = slot.of(response);
      if (exchange !== undefined)
        body.getStream().once('error', () => {
          exchange.streamFailed = true;
        });
    }
    return reply.call(this, response, body, statusCode);
  };
}
