/** `/failures`: failed attempts grouped by task and error type, each with its newest trace. */
import type { FailureGroup, FailuresBody } from '../../src/console/api-types';
import { getJson, isAbort } from '../api';
import { AutoRefresh, rangeOf, rangePicker } from '../controls';
import { h, replaceChildren, truncated, untrusted } from '../dom';
import { formatCount, formatSince, formatTime, NO_DATA } from '../format';
import type { Page } from '../page';
import { pageProblem, problemLines } from '../problem-view';
import { navigate, pathWith, withParameters } from '../router';

const FILTERS = ['service', 'task', 'queue'] as const;
const OUTCOMES = ['', 'failure', 'timeout', 'lost'] as const;

/** The badge colour of an outcome: timeouts and lost attempts apart from plain failures. */
function badgeOf(outcome: string): string {
  return outcome === 'timeout' || outcome === 'lost' ? outcome : 'failure';
}

function filtersOf(url: URL): Record<string, string> {
  return {
    service: url.searchParams.get('service') ?? '',
    task: url.searchParams.get('task') ?? '',
    queue: url.searchParams.get('queue') ?? '',
    outcome: url.searchParams.get('outcome') ?? '',
  };
}

/** Shows the failures page in `root`. */
export function failuresPage(root: HTMLElement, initialUrl: URL): Page {
  let url = initialUrl;
  let controller: AbortController | undefined;
  let loadedFrom = '';

  const inputs = Object.fromEntries(
    FILTERS.map((name) => [
      name,
      h('input', {
        type: 'search',
        name,
        placeholder: name,
        'aria-label': `Filter by ${name}`,
        'data-testid': `filter-${name}`,
        spellcheck: 'false',
        autocomplete: 'off',
      }),
    ]),
  ) as Record<(typeof FILTERS)[number], HTMLInputElement>;
  const outcome = h(
    'select',
    { name: 'outcome', 'aria-label': 'Filter by outcome', 'data-testid': 'filter-outcome' },
    OUTCOMES.map((value) => h('option', { value }, value || 'any outcome')),
  );
  const clear = h('a', { href: '/failures', class: 'clear' }, 'clear');
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    FILTERS.map((name) => inputs[name]),
    outcome,
    h('button', { type: 'submit' }, 'Apply'),
    clear,
  );
  const apply = (): void =>
    navigate(
      withParameters(url, {
        service: inputs.service.value.trim(),
        task: inputs.task.value.trim(),
        queue: inputs.queue.value.trim(),
        outcome: outcome.value,
      }),
    );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  outcome.addEventListener('change', apply);

  const refresh = new AutoRefresh(() => load());
  const pickerSlot = h('div', { class: 'picker-slot' });
  const summary = h('span', { class: 'summary' });
  const notice = h('div', { class: 'notice-slot' });
  const content = h('div', { class: 'table-slot' });
  replaceChildren(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Failures'),
      summary,
      h('div', { class: 'toolbar' }, pickerSlot, refresh.element),
    ),
    form,
    notice,
    content,
  );

  function showFilters(): void {
    const filters = filtersOf(url);
    for (const name of FILTERS) inputs[name].value = filters[name] ?? '';
    outcome.value = filters.outcome ?? '';
    replaceChildren(pickerSlot, rangePicker(url));
    clear.setAttribute(
      'href',
      pathWith('/failures', { range: url.searchParams.get('range') ?? '' }),
    );
  }

  async function load(): Promise<void> {
    controller?.abort();
    const current = new AbortController();
    controller = current;
    const range = rangeOf(url);
    loadedFrom = url.search;
    root.classList.add('loading');
    try {
      const body = await getJson<FailuresBody>(
        'failures',
        { range, ...filtersOf(url) },
        current.signal,
      );
      refresh.loaded(body.at);
      draw(body);
    } catch (error) {
      if (isAbort(error)) return;
      summary.textContent = '';
      replaceChildren(notice);
      replaceChildren(content, pageProblem(error));
    } finally {
      if (controller === current) root.classList.remove('loading');
    }
  }

  function draw(body: FailuresBody): void {
    const total = body.groups.reduce((sum, group) => sum + group.count, 0);
    summary.textContent = body.groups.length
      ? `${formatCount(total)} failed attempts in ${body.groups.length} group${body.groups.length === 1 ? '' : 's'}`
      : '';
    replaceChildren(
      notice,
      body.examplesProblem
        ? h(
            'div',
            { class: 'notice', 'data-testid': 'examples-problem' },
            h('strong', null, 'No example traces: '),
            problemLines(body.examplesProblem),
          )
        : null,
    );
    if (body.groups.length === 0) {
      const filtered = Object.values(filtersOf(url)).some(Boolean);
      replaceChildren(
        content,
        h(
          'div',
          { class: 'empty', 'data-testid': 'failures-empty' },
          h('p', null, `No failures in the last ${body.range}`),
          filtered ? h('p', { class: 'muted' }, 'with these filters.') : null,
        ),
      );
      return;
    }
    replaceChildren(
      content,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'grid failures', 'data-testid': 'failure-groups' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Service'),
              h('th', { scope: 'col' }, 'Task'),
              h('th', { scope: 'col' }, 'Queue'),
              h('th', { scope: 'col' }, 'Outcome'),
              h('th', { scope: 'col' }, 'Error type'),
              h('th', { scope: 'col', class: 'number' }, 'Count'),
              h('th', { scope: 'col' }, 'First seen'),
              h('th', { scope: 'col' }, 'Last seen'),
              h('th', { scope: 'col' }, 'Latest trace'),
              h('th', { scope: 'col', class: 'message' }, 'Latest message'),
            ),
          ),
          h(
            'tbody',
            null,
            body.groups.map((group) => groupRow(group, body.at)),
          ),
        ),
      ),
    );
  }

  function groupRow(group: FailureGroup, at: number): HTMLElement {
    const text = (value: string, field: string): HTMLElement =>
      h(
        'td',
        { class: `text ${field}`, title: value, 'data-field': field },
        value ? untrusted(value, 'cell-text') : h('span', { class: 'muted' }, NO_DATA),
      );
    const time = (value: number | null, field: string): HTMLElement =>
      h(
        'td',
        {
          class: 'time',
          title: formatTime(value),
          'data-field': field,
          'data-value': value === null ? '' : String(value),
        },
        formatSince(value, at),
      );
    return h(
      'tr',
      {
        'data-testid': 'failure-group',
        'data-service': group.service,
        'data-task': group.task,
        'data-queue': group.queue,
        'data-outcome': group.outcome,
        'data-error-type': group.errorType,
      },
      text(group.service, 'service'),
      text(group.task, 'task'),
      text(group.queue, 'queue'),
      h(
        'td',
        { 'data-field': 'outcome' },
        h('span', { class: `badge outcome-${badgeOf(group.outcome)}` }, group.outcome),
      ),
      text(group.errorType, 'errorType'),
      h(
        'td',
        { class: 'number', 'data-field': 'count', 'data-value': String(group.count) },
        formatCount(group.count),
      ),
      time(group.firstSeen, 'firstSeen'),
      time(group.lastSeen, 'lastSeen'),
      h(
        'td',
        { class: 'trace-id', 'data-field': 'latestTraceId' },
        group.latestTraceId && /^[0-9a-f]{32}$/i.test(group.latestTraceId)
          ? h(
              'a',
              {
                href: `/traces/${group.latestTraceId.toLowerCase()}`,
                title: group.latestTraceId,
                'data-testid': 'latest-trace',
              },
              group.latestTraceId.slice(0, 12),
            )
          : h('span', { class: 'muted' }, NO_DATA),
      ),
      h(
        'td',
        { class: 'message', 'data-field': 'latestMessage' },
        group.latestMessage
          ? truncated(group.latestMessage)
          : h('span', { class: 'muted' }, NO_DATA),
      ),
    );
  }

  showFilters();
  void load();

  return {
    update(next: URL): void {
      url = next;
      showFilters();
      if (next.search !== loadedFrom) void load();
    },
    dispose(): void {
      controller?.abort();
      refresh.dispose();
    },
  };
}
