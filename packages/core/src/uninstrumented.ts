import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';

/** The span a task gets when no SDK is registered: it records nothing. */
export const NON_RECORDING_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The signal of a task that nothing can cancel or time out. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
