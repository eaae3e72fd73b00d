import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  extractTaskCarrier,
  injectTaskCarrier,
  injectTaskEnv,
  runTask,
  sendTask,
  TaskTimeoutError,
} from '@tasklens/core';
import { startTaskAttempt } from '@tasklens/core/adapter';

describe('with no SDK registered', () => {
  it('runs tasks and returns results and errors unchanged', async () => {
    const error = new Error('plain failure');
    expect(await runTask({ name: 'no-sdk' }, () => 7)).toBe(7);
    await expect(runTask({ name: 'no-sdk' }, () => Promise.reject(error))).rejects.toBe(error);
    let attempts = 0;
    await expect(
      runTask({ name: 'no-sdk', attempts: 3 }, () => {
        attempts++;
        throw error;
      }),
    ).rejects.toBe(error);
    expect(attempts).toBe(3);
  });

  it('still enforces timeouts and cancellation', async () => {
    await expect(
      runTask({ name: 'no-sdk', timeoutMs: 10 }, () => new Promise(() => undefined)),
    ).rejects.toBeInstanceOf(TaskTimeoutError);
    const reason = new Error('stop');
    await expect(
      runTask({ name: 'no-sdk', signal: AbortSignal.abort(reason) }, () => 'never'),
    ).rejects.toBe(reason);
  });

  it('gives non-recording spans and never throws on carriers', async () => {
    await runTask({ name: 'no-sdk' }, ({ span }) => expect(span.isRecording()).toBe(false));
    const carrier = await sendTask({ name: 'no-sdk', queue: 'q' }, ({ carrier }) => carrier);
    expect(Object.keys(carrier)).toEqual(['tasklens-enqueued-at', 'tasklens-pipeline-started-at']);
    expect(extractTaskCarrier({ traceparent: 12 }).context).toBeUndefined();
    expect(injectTaskEnv({ A: '1' })).toEqual({ A: '1' });
    const attempt = startTaskAttempt({ name: 'no-sdk', carrier: injectTaskCarrier() });
    attempt.fail(new Error('x'));
    expect(attempt.ended).toBe(true);
    expect(trace.getSpan(attempt.context)?.isRecording()).toBe(false);
  });
});
