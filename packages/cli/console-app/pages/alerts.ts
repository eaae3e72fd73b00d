/** `/alerts`: the alerts Alertmanager holds now. */
import type { AlertsBody, ConsoleAlert } from '../../src/console/api-types';
import { getJson, isAbort } from '../api';
import { AutoRefresh } from '../controls';
import { h, replaceChildren, truncated, untrusted } from '../dom';
import { formatSince, formatTime, NO_DATA } from '../format';
import type { Page } from '../page';
import { pageProblem } from '../problem-view';
import { failuresPath } from '../task-key';

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];

function severityRank(alert: ConsoleAlert): number {
  const rank = SEVERITY_ORDER.indexOf(alert.severity.toLowerCase());
  return rank < 0 ? SEVERITY_ORDER.length : rank;
}

function severityClass(severity: string): string {
  const known = SEVERITY_ORDER.includes(severity.toLowerCase());
  return `badge severity-${known ? severity.toLowerCase() : 'other'}`;
}

/** Shows the alerts page in `root`. */
export function alertsPage(root: HTMLElement): Page {
  let controller: AbortController | undefined;
  const refresh = new AutoRefresh(() => load());
  const summary = h('span', { class: 'summary' });
  const content = h('div', { class: 'table-slot' });
  replaceChildren(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Alerts'),
      summary,
      h('div', { class: 'toolbar' }, refresh.element),
    ),
    content,
  );

  async function load(): Promise<void> {
    controller?.abort();
    const current = new AbortController();
    controller = current;
    try {
      const body = await getJson<AlertsBody>('alerts', {}, current.signal);
      refresh.loaded(body.at);
      draw(body);
    } catch (error) {
      if (isAbort(error)) return;
      summary.textContent = '';
      replaceChildren(content, pageProblem(error));
    }
  }

  function draw(body: AlertsBody): void {
    summary.textContent = body.alerts.length
      ? `${body.alerts.length} alert${body.alerts.length === 1 ? '' : 's'}`
      : '';
    if (body.alerts.length === 0) {
      replaceChildren(
        content,
        h(
          'div',
          { class: 'empty', 'data-testid': 'alerts-empty' },
          h('p', null, 'No alerts firing'),
        ),
      );
      return;
    }
    const alerts = [...body.alerts].sort(
      (a, b) => severityRank(a) - severityRank(b) || b.startsAt - a.startsAt,
    );
    replaceChildren(
      content,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'grid alerts', 'data-testid': 'alerts-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Alert', 'Severity', 'State', 'Task', 'Summary', 'Since'].map((name) =>
                h('th', { scope: 'col' }, name),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            alerts.map((alert) => alertRow(alert, body.at)),
          ),
        ),
      ),
    );
  }

  function alertRow(alert: ConsoleAlert, at: number): HTMLElement {
    const labels = alert.labels.map(([name, value]) => `${name}=${value}`).join('\n');
    return h(
      'tr',
      {
        'data-testid': 'alert-row',
        'data-alert': alert.name,
        'data-state': alert.state,
        'data-severity': alert.severity,
        'data-task': alert.task?.task ?? '',
      },
      h('td', { class: 'text', title: labels }, untrusted(alert.name, 'cell-text')),
      h('td', null, h('span', { class: severityClass(alert.severity) }, untrusted(alert.severity))),
      h('td', null, untrusted(alert.state)),
      h(
        'td',
        { class: 'text' },
        alert.task?.task
          ? h(
              'a',
              {
                href: failuresPath(alert.task),
                title: alert.task.task,
                'data-testid': 'alert-task',
              },
              untrusted(alert.task.task, 'cell-text'),
            )
          : h('span', { class: 'muted' }, NO_DATA),
      ),
      h(
        'td',
        { class: 'message' },
        truncated(alert.summary || alert.description),
        alert.description && alert.summary
          ? h('div', { class: 'muted' }, truncated(alert.description))
          : null,
      ),
      h(
        'td',
        { class: 'time', title: formatTime(alert.startsAt), 'data-value': String(alert.startsAt) },
        formatSince(alert.startsAt, at),
      ),
    );
  }

  void load();

  return {
    update(): void {},
    dispose(): void {
      controller?.abort();
      refresh.dispose();
    },
  };
}
