export { main } from './main.js';
export type { CommandOutput } from './command-output.js';
