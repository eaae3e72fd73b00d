/** Where a command writes; defaults to the process's stdout and stderr. */
export interface CommandOutput {
  /** Normal output. */
  stdout: (text: string) => void;
  /** Errors and progress. */
  stderr: (text: string) => void;
}

/** The process's own stdout and stderr. */
export const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
