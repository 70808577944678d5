import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { COUNTED_METADATA, TIMED_METADATA } from './metrics.constants.js';
import type { CountedMetadata } from './decorators/counted.decorator.js';
import type { TimedMetadata } from './decorators/timed.decorator.js';

/** Reads @Timed/@Counted metadata; a method's own decorator wins over its class's. */
@Injectable()
export class MetricsMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getTimed(target: object, method: Function): TimedMetadata | undefined {
    return this.reflector.getAllAndOverride<TimedMetadata | undefined>(TIMED_METADATA, [method, target as Function]);
  }

  getCounted(target: object, method: Function): CountedMetadata | undefined {
    return this.reflector.getAllAndOverride<CountedMetadata | undefined>(COUNTED_METADATA, [method, target as Function]);
  }
}
