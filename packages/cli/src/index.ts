export { main } from './main.js';
export { runCommand, parseRunArguments, CommandFailedError } from './commands/run.js';
export type { RunArguments } from './commands/run.js';
export { failuresCommand } from './commands/failures.js';
export { stackCommand } from './commands/stack.js';
export type { CommandOutput } from './command-output.js';
export { parseDuration, formatDuration } from './duration.js';
