import { COUNTED_METADATA } from '../metrics.constants.js';
import type { CountedOptions } from '../interfaces/metric-decorator-options.interface.js';
import { measuredDecorator } from './measured-method.js';

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
  measuredDecorator<CountedMetadata>(COUNTED_METADATA, { name, options });
