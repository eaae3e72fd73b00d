const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs `shutdown` on SIGTERM, SIGINT and `beforeExit`, once; returns a function removing the
 * listeners. `shutdown` resolves `false` when it gave up at its timeout.
 *
 * After a signal, when nobody else listens for it, the signal is raised again with our listener
 * gone, so the process ends the default way (exit status 128 + signal number); when the
 * application listens too, it decides. After `beforeExit`, a flush that timed out may leave an
 * exporter socket holding the loop open, so the process then exits with `process.exitCode`.
 */
export function installExitHooks(shutdown: () => Promise<boolean>): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    const applicationListens = process.listenerCount(signal) > 1;
    removeExitHooks();
    void shutdown().then(() => {
      if (!applicationListens) process.kill(process.pid, signal);
    });
  };
  const onBeforeExit = (): void => {
    removeExitHooks();
    void shutdown().then((finished) => {
      if (!finished) process.exit();
    });
  };
  function removeExitHooks(): void {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    process.off('beforeExit', onBeforeExit);
  }
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('beforeExit', onBeforeExit);
  return removeExitHooks;
}
