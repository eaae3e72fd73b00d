/** Exit codes of the tasklens commands (documented in the README). */
export const EXIT_OK = 0;
/** The command ran and found a problem (a failed stack action, an unhealthy component). */
export const EXIT_FAILED = 1;
/** Bad arguments. */
export const EXIT_USAGE = 2;
/** A backend (Jaeger, Prometheus) could not be reached or answered with an error. */
export const EXIT_UNREACHABLE = 3;
/** `tasklens run`: the command ran past `--timeout` and was stopped (as GNU timeout does). */
export const EXIT_TIMEOUT = 124;
/** `tasklens run`: the command exists but could not be executed. */
export const EXIT_CANNOT_EXECUTE = 126;
/** `tasklens run`: the command was not found. */
export const EXIT_NOT_FOUND = 127;
