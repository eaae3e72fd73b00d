import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** A Node child process of a test, with its exit code to await. */
export interface NodeProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * Starts `node ...args` exporting its telemetry to `otlpEndpoint` (metrics every second), with
 * stderr passed through and stdout handed to `onLine` line by line.
 */
export function startNodeProcess(
  args: string[],
  otlpEndpoint: string,
  env: Record<string, string> = {},
  onLine?: (line: string) => void,
): NodeProcess {
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine?.(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited };
}
