import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { extractTaskCarrier, PIPELINE_STARTED_AT_KEY } from './carrier.js';
import { pipelineStartOf, withPipelineStart } from './pipeline-start.js';

type Environment = Record<string, string | undefined>;

/** Environment variable names of the propagator's fields (the OTel env-carrier convention). */
function envName(field: string): string {
  return field.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/**
 * A copy of `env` carrying the active context to a child process as TRACEPARENT, TRACESTATE and
 * BAGGAGE, and the start of the task chain it runs in as TASKLENS_PIPELINE_STARTED_AT (so the
 * child's tasks and the messages it sends continue the chain). Stale values inherited from `env`
 * are removed first. `env` itself is not changed.
 *
 * @example
 * spawn('./backup.sh', [], { env: injectTaskEnv() });
 */
export function injectTaskEnv(
  env: Environment = process.env,
  fromContext: Context = context.active(),
): Environment {
  const copy: Environment = { ...env };
  const fields = new Set([
    ...propagation.fields(),
    'traceparent',
    'tracestate',
    'baggage',
    PIPELINE_STARTED_AT_KEY,
  ]);
  for (const field of fields) delete copy[envName(field)];
  const carrier: Record<string, string> = {};
  const pipelineStartedAt = pipelineStartOf(fromContext);
  if (pipelineStartedAt !== undefined) carrier[PIPELINE_STARTED_AT_KEY] = String(pipelineStartedAt);
  try {
    propagation.inject(fromContext, carrier);
  } catch {
    return copy;
  }
  for (const [field, value] of Object.entries(carrier)) copy[envName(field)] = value;
  return copy;
}

/**
 * The context a parent process passed in TRACEPARENT / TRACESTATE / BAGGAGE (with the task chain
 * of TASKLENS_PIPELINE_STARTED_AT), or `undefined`. Malformed values are dropped with one
 * warning, like any carrier.
 */
export function extractTaskEnv(env: Environment = process.env): Context | undefined {
  const carrier: Record<string, string | undefined> = {};
  for (const field of [...propagation.fields(), PIPELINE_STARTED_AT_KEY]) {
    carrier[field] = env[envName(field)];
  }
  const extracted = extractTaskCarrier(carrier);
  if (extracted.pipelineStartedAt === undefined) return extracted.context;
  return withPipelineStart(extracted.context ?? ROOT_CONTEXT, extracted.pipelineStartedAt);
}

let processParent: { context: Context | undefined } | undefined;

/**
 * The context this process was started in (from its environment), read once: the parent of
 * tasks that start with no active span and no carrier, so a script run by `tasklens run` joins
 * the run's trace. Read lazily because the SDK's propagator is registered after import.
 */
export function processParentContext(): Context | undefined {
  if (processParent === undefined) {
    const fields = propagation.fields();
    if (fields.length === 0) return undefined;
    processParent = { context: extractTaskEnv() };
  }
  return processParent.context;
}
