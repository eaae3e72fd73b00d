/**
 * Prints one of our own one-line problems to stderr. Not `diag`: without a diag logger set, which
 * is the default, the user would never see why telemetry is off.
 */
export function reportProblem(message: string): void {
  process.stderr.write(`${message}\n`);
}
