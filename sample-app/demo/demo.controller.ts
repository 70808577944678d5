import {
  BadRequestException,
  Controller,
  DefaultValuePipe,
  Get,
  ParseIntPipe,
  Query,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counted, Timed } from '../../lib/index.js';

export const MAX_DELAY_MS = 5_000;

/** Routes that misbehave on purpose, to see latency and errors in the metrics. */
@Controller()
@Timed('demo_handler_seconds', {
  help: 'Duration of the demo handlers, in seconds.',
  labels: { area: 'demo' },
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
})
export class DemoController {
  /** Answers after `ms` milliseconds (0 to 5000, default 250). */
  @Get('slow')
  async slow(
    @Query('ms', new DefaultValuePipe(250), ParseIntPipe) ms: number,
  ): Promise<{ waitedMs: number }> {
    if (ms < 0 || ms > MAX_DELAY_MS) {
      throw new BadRequestException(`ms must be between 0 and ${MAX_DELAY_MS}`);
    }
    await sleep(ms);
    return { waitedMs: ms };
  }

  @Get('boom')
  @Counted(undefined, {
    help: 'Calls of demo handlers that threw.',
    failuresOnly: true,
  })
  boom(): never {
    throw new Error('Boom: this route always fails');
  }
}
