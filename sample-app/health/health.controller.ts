import { Controller, Get } from '@nestjs/common';

/** Liveness probe; `excludePaths` keeps it out of the request metrics. */
@Controller('health')
export class HealthController {
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
