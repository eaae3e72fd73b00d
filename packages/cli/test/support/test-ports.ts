import type { StackPorts } from '../../src/stack/types.js';

/**
 * The ports of one test file's stack: twelve consecutive ports from `base`. Every base lies below
 * Linux's ephemeral range (32768 and up), where an outgoing connection, or its TIME_WAIT, could
 * hold a port the stack wants; each test file takes its own base, 100 apart.
 */
export function testStackPorts(base: number): StackPorts {
  return {
    otlpGrpc: base,
    otlpHttp: base + 1,
    collectorHealth: base + 2,
    collectorTelemetry: base + 3,
    prometheus: base + 4,
    jaegerOtlpGrpc: base + 5,
    jaegerOtlpHttp: base + 6,
    jaegerQueryHttp: base + 7,
    jaegerQueryGrpc: base + 8,
    jaegerHealth: base + 9,
    jaegerTelemetry: base + 10,
    alertmanager: base + 11,
  };
}
