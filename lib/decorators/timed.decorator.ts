import { TIMED_METADATA } from '../metrics.constants.js';
import type { TimedOptions } from '../interfaces/metric-decorator-options.interface.js';
import { measuredDecorator } from './measured-method.js';

export interface TimedMetadata {
  name: string | undefined;
  options: TimedOptions;
}

/**
 * Records how long the method takes in a histogram (default `method_duration_seconds`) labelled
 * `class`, `method`, `result` and `exception`. On a class, applies to every method.
 * Promises are timed to settlement, Observables to completion or error.
 */
export const Timed = (
  name?: string,
  options: TimedOptions = {},
): ClassDecorator & MethodDecorator =>
  measuredDecorator<TimedMetadata>(TIMED_METADATA, { name, options });
