import { stackPortsFrom } from '@tasklens/stack';
import type { StackPorts } from '@tasklens/stack';

/**
 * The ports of one test file's stack: twelve consecutive ports from `base` (what
 * `tasklens stack up --port-base BASE` uses). Every base lies below Linux's ephemeral range (32768
 * and up), where an outgoing connection, or its TIME_WAIT, could hold a port the stack wants; each
 * test file takes its own base, 100 apart.
 */
export function testStackPorts(base: number): StackPorts {
  return stackPortsFrom(base);
}
