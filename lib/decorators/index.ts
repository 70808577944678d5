export * from './timed.decorator.js';
export * from './counted.decorator.js';
