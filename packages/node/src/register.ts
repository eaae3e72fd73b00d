/**
 * Side-effect entry for `node --import @tasklens/node/register app.js`: calls
 * {@link startTelemetry} with no options, so configuration comes from the `OTEL_*` environment
 * variables, and flushes on SIGTERM, SIGINT and `beforeExit`.
 * @packageDocumentation
 */
import { startTelemetry } from './start-telemetry.js';

startTelemetry();
