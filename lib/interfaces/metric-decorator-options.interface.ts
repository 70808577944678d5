/** Options of `@Timed()` and `@Counted()`. */
export interface MetricDecoratorOptions {
  /** Help text of the metric. */
  help?: string;
  /** Constant labels added to every observation. */
  labels?: Record<string, string>;
  /**
   * Adds the labels `transport` and `route` of the handler (request, message, job, GraphQL
   * operation) the call runs in; `none` outside any handler. Default `false`.
   */
  handlerLabels?: boolean;
}

/** Options of `@Timed()`. */
export interface TimedOptions extends MetricDecoratorOptions {
  /** Histogram buckets in seconds. Default: the module's `buckets`. */
  buckets?: number[];
}

/** Options of `@Counted()`. */
export interface CountedOptions extends MetricDecoratorOptions {
  /** Count only calls that threw or rejected. */
  failuresOnly?: boolean;
}
