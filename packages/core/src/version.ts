/** The instrumentation scope of tasklens spans and metrics. */
export const SCOPE_NAME = '@tasklens/core';
export const SCOPE_VERSION = '0.1.0';
