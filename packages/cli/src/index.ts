export { main } from './main.js';
export { runCommand, parseRunArguments, CommandFailedError } from './commands/run.js';
export type { RunArguments, RunSummary } from './commands/run.js';
export { failuresCommand } from './commands/failures.js';
export { stackCommand } from './commands/stack.js';
export { collectStats, statsCommand, statsQueries } from './commands/stats.js';
export type { TaskStats } from './commands/stats.js';
export type { TaskFailure } from './commands/failures.js';
export type { CommandOutput } from './command-output.js';
export { parseDuration, formatDuration } from './duration.js';
export {
  startStack,
  stopStack,
  stackStatus,
  restartStackComponent,
  defaultStateDir,
} from './stack/stack.js';
export { stackPortsFrom } from './stack/components.js';
export type {
  RestartComponentOptions,
  RunningStack,
  StackEndpoints,
  StackPorts,
  StackStatus,
  StartStackOptions,
} from './stack/types.js';
