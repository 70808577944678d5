import { SetMetadata } from '@nestjs/common';
import { COUNTED_METADATA } from '../metrics.constants.js';
import type { CountedOptions } from '../interfaces/metric-decorator-options.interface.js';

export interface CountedMetadata {
  name: string | undefined;
  options: CountedOptions;
}

/**
 * Counts calls of the method in a counter (default `method_calls_total`) labelled `class`,
 * `method`, `result` and `exception`. On a class, applies to every method.
 */
export const Counted = (
  name?: string,
  options: CountedOptions = {},
): ClassDecorator & MethodDecorator =>
  SetMetadata<string, CountedMetadata>(COUNTED_METADATA, { name, options });
