import { AlertmanagerClient } from '../alertmanager-client.js';
import { parseDuration } from '../duration.js';
import { BackendUnreachableError } from '../http-json.js';
import { JaegerClient } from '../jaeger-client.js';
import { PrometheusClient } from '../prometheus-client.js';
import { collectTaskRows, collectTaskSeries } from '../task-queries/collect.js';
import { FAILED_OUTCOMES } from '../task-queries/measures.js';
import { alertView } from './alert-view.js';
import { CONSOLE_RANGES } from './api-types.js';
import type {
  AlertsBody,
  BackendName,
  BackendProblem,
  BackendsBody,
  ConsoleRange,
  FailuresBody,
  ProblemBody,
  TaskKey,
  TasksBody,
  TaskSeriesBody,
  TraceBody,
} from './api-types.js';
import { failureGroups } from '../task-queries/failure-groups.js';
import { traceView } from './trace-view.js';

/** Where the console finds each backend. */
export type ConsoleBackendUrls = Record<BackendName, string>;

/** An answer of the API: an HTTP status and a JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** A request the API cannot take (bad parameter, unknown path): status 400 or 404. */
class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const HINTS: Record<BackendName, string> = {
  prometheus:
    'start the stack with `tasklens stack up`, or point the console at your Prometheus with --prometheus-url',
  jaeger:
    'start the stack with `tasklens stack up`, or point the console at your Jaeger with --jaeger-url',
  alertmanager:
    'start the stack with `tasklens stack up`, or point the console at your Alertmanager with --alertmanager-url',
};

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * The console's JSON API (`/api/...`, types in api-types.ts) over the backends: every answer is
 * computed from a bounded number of backend requests, whatever the number of tasks or failures.
 */
export class ConsoleApi {
  private readonly prometheus: PrometheusClient;
  private readonly jaeger: JaegerClient;
  private readonly alertmanager: AlertmanagerClient;

  constructor(private readonly urls: ConsoleBackendUrls) {
    this.prometheus = new PrometheusClient(urls.prometheus);
    this.jaeger = new JaegerClient(urls.jaeger);
    this.alertmanager = new AlertmanagerClient(urls.alertmanager);
  }

  /**
   * Answers `GET path?query`; never throws. The tasks and failures answers are shared for
   * {@link SHARED_FOR_MS} by identical calls, among them the one {@link prefetch} started.
   */
  answer(path: string, query: URLSearchParams): Promise<ApiAnswer> {
    const key = sharedKey(path, query);
    if (key === undefined) return this.compute(path, query);
    const now = Date.now();
    for (const [old, entry] of this.shared) if (entry.until <= now) this.shared.delete(old);
    const known = this.shared.get(key);
    if (known !== undefined) return known.answer;
    const answer = this.compute(path, query);
    this.shared.set(key, { until: now + SHARED_FOR_MS, answer });
    return answer;
  }

  /**
   * Starts the API call that the page at `pagePath` makes first (the tasks of `/`, the failure
   * groups of `/failures`), while the browser loads the page's script: its first render waits for
   * the slower of the two instead of both in turn.
   */
  prefetch(pagePath: string, query: URLSearchParams): void {
    const api = PAGE_FIRST_CALLS[pagePath];
    if (api !== undefined) void this.answer(api, query);
  }

  private readonly shared = new Map<string, { until: number; answer: Promise<ApiAnswer> }>();

  private async compute(path: string, query: URLSearchParams): Promise<ApiAnswer> {
    try {
      return { status: 200, body: await this.route(path, query) };
    } catch (error) {
      if (error instanceof ApiRequestError) {
        return { status: error.status, body: { error: error.message } };
      }
      if (error instanceof BackendProblemError) {
        const body: ProblemBody = { problem: error.problem };
        return { status: error.status, body };
      }
      throw error;
    }
  }

  private async route(path: string, query: URLSearchParams): Promise<unknown> {
    if (path === '/api/backends') return this.backends();
    if (path === '/api/tasks') return this.tasks(rangeOf(query));
    if (path === '/api/tasks/series') return this.taskSeries(rangeOf(query), taskKeyOf(query));
    if (path === '/api/failures') return this.failures(rangeOf(query), query);
    if (path === '/api/alerts') return this.alerts();
    const trace = /^\/api\/traces\/([^/]+)$/.exec(path);
    if (trace !== null) return this.trace(trace[1].toLowerCase());
    throw new ApiRequestError(404, `no API at ${path}`);
  }

  private async backends(): Promise<BackendsBody> {
    const probes: [BackendName, () => Promise<unknown>][] = [
      ['prometheus', () => this.prometheus.query('vector(1)')],
      ['jaeger', () => this.jaeger.services()],
      ['alertmanager', () => this.alertmanager.alerts()],
    ];
    const backends = await Promise.all(
      probes.map(async ([name, probe]) => {
        try {
          await probe();
          return { name, url: this.urls[name], up: true };
        } catch (error) {
          if (!(error instanceof BackendUnreachableError)) throw error;
          return { name, url: this.urls[name], up: false, problem: this.problem(name, error) };
        }
      }),
    );
    return { backends };
  }

  private async tasks(range: ConsoleRange): Promise<TasksBody> {
    const at = Date.now();
    const tasks = await this.from('prometheus', () =>
      collectTaskRows(this.prometheus, rangeSeconds(range)),
    );
    return { range, at, tasks };
  }

  private async taskSeries(range: ConsoleRange, task: TaskKey): Promise<TaskSeriesBody> {
    const series = await this.from('prometheus', () =>
      collectTaskSeries(this.prometheus, rangeSeconds(range), task, Date.now()),
    );
    return { range, task, ...series };
  }

  private async failures(range: ConsoleRange, query: URLSearchParams): Promise<FailuresBody> {
    const outcome = query.get('outcome') ?? undefined;
    if (outcome !== undefined && !(FAILED_OUTCOMES as readonly string[]).includes(outcome)) {
      throw new ApiRequestError(
        400,
        `outcome must be one of ${FAILED_OUTCOMES.join(', ')}, got "${outcome}"`,
      );
    }
    const filter = {
      service: query.get('service') ?? undefined,
      task: query.get('task') ?? undefined,
      queue: query.get('queue') ?? undefined,
      outcome,
    };
    const at = Date.now();
    const { groups, jaegerProblem } = await this.from('prometheus', () =>
      failureGroups(this.prometheus, this.jaeger, rangeSeconds(range), filter, at),
    );
    return {
      range,
      at,
      groups,
      ...(jaegerProblem === undefined
        ? {}
        : { examplesProblem: this.problem('jaeger', jaegerProblem) }),
    };
  }

  private async trace(traceId: string): Promise<TraceBody> {
    if (!TRACE_ID.test(traceId)) {
      throw new ApiRequestError(400, 'a trace id is 32 hexadecimal digits');
    }
    const trace = await this.from('jaeger', () => this.jaeger.trace(traceId));
    if (trace === undefined || trace.spans.length === 0) {
      throw new BackendProblemError(404, {
        backend: 'jaeger',
        url: this.urls.jaeger,
        message: `Jaeger does not hold trace ${traceId}`,
        hint: 'it was never stored there, or its retention has dropped it',
      });
    }
    return traceView(trace);
  }

  private async alerts(): Promise<AlertsBody> {
    const at = Date.now();
    const alerts = await this.from('alertmanager', () => this.alertmanager.alerts());
    return { at, alerts: alerts.map(alertView) };
  }

  /** Runs `read` against `backend`; its failure becomes a 502 answer naming the backend. */
  private async from<T>(backend: BackendName, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof BackendUnreachableError)) throw error;
      throw new BackendProblemError(502, this.problem(backend, error));
    }
  }

  private problem(backend: BackendName, error: BackendUnreachableError): BackendProblem {
    return { backend, url: this.urls[backend], message: error.summary, hint: HINTS[backend] };
  }
}

/** How long an answer of the tasks or failures API serves identical calls. */
const SHARED_FOR_MS = 3_000;

/** The parameters of each shared API call, with their defaults. */
const SHARED_PARAMETERS: Record<string, Record<string, string>> = {
  '/api/tasks': { range: '1h' },
  '/api/failures': { range: '1h', service: '', task: '', queue: '', outcome: '' },
};

/** The first API call of each page route, which the page's own request starts. */
const PAGE_FIRST_CALLS: Record<string, string> = {
  '/': '/api/tasks',
  '/failures': '/api/failures',
};

/** The same key for calls that ask the same, whatever the order or defaulted parameters. */
function sharedKey(path: string, query: URLSearchParams): string | undefined {
  const parameters = SHARED_PARAMETERS[path];
  if (parameters === undefined) return undefined;
  const values = Object.entries(parameters).map(([name, fallback]) => [
    name,
    query.get(name) || fallback,
  ]);
  return JSON.stringify([path, values]);
}

/** A backend that did not answer as it should: status 502, or 404 for a trace it lacks. */
class BackendProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: BackendProblem,
  ) {
    super(problem.message);
  }
}

function rangeOf(query: URLSearchParams): ConsoleRange {
  const range = query.get('range') ?? '1h';
  if (!(CONSOLE_RANGES as readonly string[]).includes(range)) {
    throw new ApiRequestError(400, `range must be one of ${CONSOLE_RANGES.join(', ')}`);
  }
  return range as ConsoleRange;
}

function rangeSeconds(range: ConsoleRange): number {
  return (parseDuration(range) ?? 3_600_000) / 1000;
}

function taskKeyOf(query: URLSearchParams): TaskKey {
  const task = query.get('task');
  const service = query.get('service');
  if (task === null || task === '' || service === null || service === '') {
    throw new ApiRequestError(400, 'task and service are required');
  }
  return { task, service, queue: query.get('queue') ?? '', system: query.get('system') ?? '' };
}
