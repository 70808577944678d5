export * from './metrics-module-options.interface.js';
export * from './metric-decorator-options.interface.js';
