import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installExitHooks } from '../src/exit-hooks.js';

const EVENTS = ['SIGTERM', 'SIGINT', 'beforeExit'] as const;
type Listener = (...args: unknown[]) => void;
let runnerListeners: Map<string, Listener[]>;

/** Lets the `.then` after a resolved shutdown run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  // The test runner's own listeners would count as the application's; park them meanwhile.
  runnerListeners = new Map(
    EVENTS.map((event) => [event, process.rawListeners(event) as Listener[]]),
  );
  for (const event of EVENTS) process.removeAllListeners(event);
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const event of EVENTS) {
    process.removeAllListeners(event);
    for (const listener of runnerListeners.get(event) ?? []) process.on(event, listener);
  }
});

function listenerCounts(): number[] {
  return EVENTS.map((event) => process.listenerCount(event));
}

describe('installExitHooks', () => {
  it('listens for SIGTERM, SIGINT and beforeExit until removed', () => {
    const remove = installExitHooks(() => Promise.resolve(true));
    expect(listenerCounts()).toEqual([1, 1, 1]);
    remove();
    expect(listenerCounts()).toEqual([0, 0, 0]);
  });

  it('on beforeExit flushes once and lets the process end when the flush finished', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    const shutdown = vi.fn(() => Promise.resolve(true));
    installExitHooks(shutdown);
    process.emit('beforeExit', 0);
    expect(listenerCounts()).toEqual([0, 0, 0]);
    await settle();
    expect(shutdown).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
  });

  it('on beforeExit exits with process.exitCode when the flush timed out', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    installExitHooks(() => Promise.resolve(false));
    process.emit('beforeExit', 0);
    await settle();
    expect(exit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s with no other listener flushes, then raises the signal again',
    async (signal) => {
      const kill = vi.spyOn(process, 'kill').mockReturnValue(true);
      const shutdown = vi.fn(() => Promise.resolve(false));
      installExitHooks(shutdown);
      process.emit(signal, signal);
      expect(listenerCounts()).toEqual([0, 0, 0]);
      await settle();
      expect(shutdown).toHaveBeenCalledTimes(1);
      expect(kill).toHaveBeenCalledWith(process.pid, signal);
    },
  );

  it('on a signal the application listens for too, flushes and leaves the exit to it', async () => {
    const kill = vi.spyOn(process, 'kill').mockReturnValue(true);
    const shutdown = vi.fn(() => Promise.resolve(true));
    installExitHooks(shutdown);
    const applicationListener = vi.fn();
    process.on('SIGTERM', applicationListener);
    process.emit('SIGTERM', 'SIGTERM');
    await settle();
    expect(shutdown).toHaveBeenCalledTimes(1);
    expect(applicationListener).toHaveBeenCalledTimes(1);
    expect(kill).not.toHaveBeenCalled();
    expect(process.listeners('SIGTERM')).toEqual([applicationListener]);
  });
});
