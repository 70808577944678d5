import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { COUNTED_METADATA, TIMED_METADATA } from './metrics.constants.js';
import type { CountedMetadata } from './decorators/counted.decorator.js';
import type { TimedMetadata } from './decorators/timed.decorator.js';

type Targets = Parameters<Reflector['getAllAndOverride']>[1];

/** Reads @Timed/@Counted metadata; a method's own decorator wins over its class's. */
@Injectable()
export class MetricsMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getTimed(target: object, method: object): TimedMetadata | undefined {
    return this.reflector.getAllAndOverride<TimedMetadata | undefined>(
      TIMED_METADATA,
      [method, target] as Targets,
    );
  }

  getCounted(target: object, method: object): CountedMetadata | undefined {
    return this.reflector.getAllAndOverride<CountedMetadata | undefined>(
      COUNTED_METADATA,
      [method, target] as Targets,
    );
  }
}
