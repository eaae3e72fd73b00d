// The demo's kinds of work, shared by the producer and the worker: how each behaves and how
// often the producer sends it. Names are task names (metric labels): kinds of work, never ids.
export const QUEUE = 'demo-jobs';

/** Redis, from REDIS_HOST / REDIS_PORT (docker-compose.yml sets them), else 127.0.0.1:6379. */
export const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};

export class PaymentDeclinedError extends Error {}
export class MailServerBusyError extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What each task does in the worker; `attempt` is 1-based. */
export const behaviours = {
  'resize-image': async () => sleep(20 + Math.random() * 60),
  'render-report': async () => sleep(800 + Math.random() * 1200),
  'send-email': async (attempt) => {
    await sleep(30);
    if (attempt < 3) throw new MailServerBusyError('mail server busy, try again');
  },
  'charge-card': async () => {
    await sleep(50);
    throw new PaymentDeclinedError('card declined by issuer');
  },
};

/** What the producer sends: [task name, how many, BullMQ job options]. */
export const workload = [
  ['resize-image', 40, {}],
  ['render-report', 6, {}],
  ['send-email', 8, { attempts: 3, backoff: { type: 'fixed', delay: 500 } }],
  ['charge-card', 3, { attempts: 2, backoff: { type: 'fixed', delay: 300 } }],
  ['resize-image', 10, { delay: 2000 }],
];
