import { diag, DiagLogLevel } from '@opentelemetry/api';

/**
 * Sets a diag logger that keeps every warning (and nothing below) and returns the list it fills;
 * `diag.disable()` removes it.
 */
export function captureDiagWarnings(): string[] {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  diag.setLogger(
    {
      error: ignore,
      warn: (message) => warnings.push(message),
      info: ignore,
      debug: ignore,
      verbose: ignore,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  return warnings;
}
