/** The job states `queue_jobs` has a series for, as BullMQ's `Queue.getJobCounts()` names them. */
export const QUEUE_JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'paused',
  'failed',
  'completed',
] as const;

export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/** The families of queue depth, described once (names before the `prefix`). */
export const QUEUE_DEPTH_FAMILIES = {
  jobs: {
    name: 'queue_jobs',
    help: 'Jobs in the queue by state, read from Redis at scrape time (at most cacheSeconds old).',
    labels: ['queue', 'state'],
  },
  workers: {
    name: 'queue_workers',
    help: 'Workers connected to the queue (any process), read from Redis at scrape time.',
    labels: ['queue'],
  },
} as const;
