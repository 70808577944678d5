/** `log_errors_total`, described once: the counter, the README's Metrics table and tests use it. */
export const LOG_ERRORS_FAMILY = Object.freeze({
  /** The name, before the module's `prefix`. */
  name: 'log_errors_total',
  help: 'Log calls at error or fatal level (and warn, with logErrors.warn), by level, category, logger and exception type.',
  type: 'counter',
  labels: Object.freeze([
    'level',
    'category',
    'logger',
    'exception_type',
  ] as const),
});
