/** How a failed call shows: the backend's problem, what the console read, and what to do. */
import type { BackendName, BackendProblem } from '../src/console/api-types';
import { ApiError } from './api';
import { type Child, h } from './dom';

const BACKEND_TITLES: Record<BackendName, string> = {
  prometheus: 'Prometheus',
  jaeger: 'Jaeger',
  alertmanager: 'Alertmanager',
};

/** `Prometheus`, `Jaeger`, `Alertmanager`. */
export function backendTitle(name: BackendName): string {
  return BACKEND_TITLES[name] ?? name;
}

/** The lines of one backend problem: message, hint, and the URL read. */
export function problemLines(problem: BackendProblem): Child[] {
  return [
    h('p', { class: 'problem-message' }, h('bdi', null, problem.message)),
    problem.hint ? h('p', { class: 'problem-hint' }, h('code', null, problem.hint)) : null,
    h('p', { class: 'problem-url' }, 'Read: ', h('code', null, problem.url)),
  ];
}

/**
 * A page's call failed: shown in place of the page's content. `headline` replaces the default
 * title (the trace page says which trace Jaeger does not hold).
 */
export function pageProblem(error: unknown, headline?: string): HTMLElement {
  if (error instanceof ApiError && error.problem) {
    const { problem } = error;
    return h(
      'section',
      { class: 'problem', 'data-testid': 'page-problem', 'data-backend': problem.backend },
      h('h2', null, headline ?? `${backendTitle(problem.backend)} did not answer`),
      problemLines(problem),
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return h(
    'section',
    { class: 'problem', 'data-testid': 'page-problem' },
    h('h2', null, headline ?? 'The console could not load this page'),
    h('p', { class: 'problem-message' }, h('bdi', null, message)),
  );
}
