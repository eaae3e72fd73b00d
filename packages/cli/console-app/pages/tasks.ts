/** `/`: one row per task with its numbers for the range; a selected task's charts below. */
import type {
  ConsoleRange,
  TaskKey,
  TaskRow,
  TaskSeriesBody,
  TasksBody,
} from '../../src/console/api-types';
import { getJson, isAbort } from '../api';
import { ChartGroup } from '../charts';
import { AutoRefresh, rangeOf, rangePicker } from '../controls';
import { h, replaceChildren, untrusted } from '../dom';
import {
  formatAge,
  formatCount,
  formatPercent,
  formatRate,
  formatSeconds,
  NO_DATA,
} from '../format';
import type { Page } from '../page';
import { pageProblem } from '../problem-view';
import { navigate, withParameters } from '../router';
import { failuresPath, sameTask, taskKeyOf } from '../task-key';

type TextField = 'service' | 'task' | 'queue' | 'system';
type NumberField = Exclude<keyof TaskRow, TextField>;

interface Column {
  field: TextField | NumberField;
  label: string;
  title: string;
  format?: (value: number | null) => string;
}

const COLUMNS: Column[] = [
  { field: 'service', label: 'Service', title: 'service.name (Prometheus job)' },
  { field: 'task', label: 'Task', title: 'Task name' },
  { field: 'queue', label: 'Queue', title: 'Queue, empty for in-process tasks' },
  { field: 'system', label: 'System', title: 'messaging.system' },
  { field: 'runs', label: 'Runs', title: 'Attempts in the range', format: formatCount },
  { field: 'ratePerSecond', label: 'Rate', title: 'Attempts per second', format: formatRate },
  {
    field: 'failurePercent',
    label: 'Failed',
    title: 'Failed attempts (failure, timeout, lost), % of all',
    format: formatPercent,
  },
  {
    field: 'p50DurationSeconds',
    label: 'p50 dur.',
    title: 'Median attempt duration',
    format: formatSeconds,
  },
  {
    field: 'p95DurationSeconds',
    label: 'p95 dur.',
    title: '95th percentile attempt duration',
    format: formatSeconds,
  },
  {
    field: 'p95WaitSeconds',
    label: 'p95 wait',
    title: '95th percentile wait in the queue before an attempt started',
    format: formatSeconds,
  },
  {
    field: 'p95PipelineSeconds',
    label: 'p95 chain',
    title: '95th percentile latency of a task chain, from its first send to this task’s end',
    format: formatSeconds,
  },
  { field: 'inFlight', label: 'In flight', title: 'Attempts running now', format: formatCount },
  {
    field: 'lastSuccessAgeSeconds',
    label: 'Last success',
    title: 'Time since the last successful attempt',
    format: formatAge,
  },
  {
    field: 'waiting',
    label: 'Waiting',
    title: 'Tasks waiting in the queue now (not reported by every broker or library version)',
    format: formatCount,
  },
  {
    field: 'oldestWaitingAgeSeconds',
    label: 'Oldest waiting',
    title: 'How long the oldest waiting task of the queue has waited',
    format: formatSeconds,
  },
];

const TEXT_FIELDS = new Set<string>(['service', 'task', 'queue', 'system']);

interface Sort {
  field: Column['field'];
  descending: boolean;
}

function sortOf(url: URL): Sort {
  const value = url.searchParams.get('sort') ?? '';
  const descending = value.startsWith('-');
  const field = descending ? value.slice(1) : value;
  const column = COLUMNS.find((each) => each.field === field);
  return column ? { field: column.field, descending } : { field: 'service', descending: false };
}

function compareRows(a: TaskRow, b: TaskRow, sort: Sort): number {
  const left = a[sort.field];
  const right = b[sort.field];
  // Rows without data go last whichever way the column sorts.
  if (left === null || right === null) {
    if (left === right) return 0;
    return left === null ? 1 : -1;
  }
  const order =
    typeof left === 'number' && typeof right === 'number'
      ? left - right
      : String(left).localeCompare(String(right));
  return sort.descending ? -order : order;
}

function byKey(a: TaskRow, b: TaskRow): number {
  return (
    a.service.localeCompare(b.service) ||
    a.task.localeCompare(b.task) ||
    a.queue.localeCompare(b.queue) ||
    a.system.localeCompare(b.system)
  );
}

function matchesFilter(row: TaskRow, filter: string): boolean {
  if (!filter) return true;
  const needle = filter.toLowerCase();
  return [row.service, row.task, row.queue, row.system].some((text) =>
    text.toLowerCase().includes(needle),
  );
}

function severityClass(field: Column['field'], value: number | null): string | null {
  if (field !== 'failurePercent' || value === null || value === 0) return null;
  return value >= 5 ? 'bad' : 'warn';
}

/** Shows the tasks page in `root`. */
export function tasksPage(root: HTMLElement, initialUrl: URL): Page {
  let url = initialUrl;
  let body: TasksBody | undefined;
  let loadError: unknown;
  let series: TaskSeriesBody | undefined;
  let seriesError: unknown;
  let charts: ChartGroup | undefined;
  let controller: AbortController | undefined;
  let loadedRange: ConsoleRange | undefined;
  let loadedSelection: TaskKey | undefined;

  const filterInput = h('input', {
    type: 'search',
    class: 'filter',
    placeholder: 'Filter by service, task, queue, system',
    'aria-label': 'Filter tasks',
    'data-testid': 'tasks-filter',
    spellcheck: 'false',
    autocomplete: 'off',
  });
  filterInput.value = url.searchParams.get('q') ?? '';
  filterInput.addEventListener('input', () =>
    navigate(withParameters(url, { q: filterInput.value }), { replace: true }),
  );
  const refresh = new AutoRefresh(() => load());
  const pickerSlot = h('div', { class: 'picker-slot' });
  const summary = h('span', { class: 'summary' });
  const tableSlot = h('div', { class: 'table-slot' });
  const detailSlot = h('section', { class: 'task-detail', 'data-testid': 'task-detail' });
  replaceChildren(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Tasks'),
      summary,
      h('div', { class: 'toolbar' }, filterInput, pickerSlot, refresh.element),
    ),
    tableSlot,
    detailSlot,
  );

  async function load(): Promise<void> {
    controller?.abort();
    const current = new AbortController();
    controller = current;
    const range = rangeOf(url);
    const selection = taskKeyOf(url);
    root.classList.add('loading');
    try {
      const [tasks, taskSeries] = await Promise.allSettled([
        getJson<TasksBody>('tasks', { range }, current.signal),
        selection
          ? getJson<TaskSeriesBody>('tasks/series', { range, ...selection }, current.signal)
          : Promise.resolve(undefined),
      ]);
      if (current.signal.aborted) return;
      if (tasks.status === 'fulfilled') {
        body = tasks.value;
        loadError = undefined;
        refresh.loaded(tasks.value.at);
      } else if (!isAbort(tasks.reason)) {
        body = undefined;
        loadError = tasks.reason;
      }
      if (taskSeries.status === 'fulfilled') {
        series = taskSeries.value;
        seriesError = undefined;
      } else if (!isAbort(taskSeries.reason)) {
        series = undefined;
        seriesError = taskSeries.reason;
      }
      loadedRange = range;
      loadedSelection = selection;
      drawTable();
      drawDetail();
    } finally {
      if (controller === current) root.classList.remove('loading');
    }
  }

  function drawTable(): void {
    replaceChildren(pickerSlot, rangePicker(url));
    if (loadError !== undefined) {
      summary.textContent = '';
      replaceChildren(tableSlot, pageProblem(loadError));
      return;
    }
    if (!body) return;
    const filter = url.searchParams.get('q') ?? '';
    const sort = sortOf(url);
    const rows = body.tasks
      .filter((row) => matchesFilter(row, filter))
      .sort((a, b) => compareRows(a, b, sort) || byKey(a, b));
    const failing = body.tasks.filter((row) => (row.failurePercent ?? 0) > 0).length;
    summary.textContent =
      `${body.tasks.length} task${body.tasks.length === 1 ? '' : 's'}` +
      (failing ? ` · ${failing} failing` : '') +
      (filter ? ` · ${rows.length} shown` : '');
    if (body.tasks.length === 0) {
      replaceChildren(
        tableSlot,
        h(
          'div',
          { class: 'empty', 'data-testid': 'tasks-empty' },
          h('p', null, `No task reported in the last ${body.range}`),
          h(
            'p',
            { class: 'muted' },
            'Tasks appear here once a worker instrumented with tasklens runs one and its metrics reach Prometheus.',
          ),
        ),
      );
      return;
    }
    const selection = taskKeyOf(url);
    replaceChildren(
      tableSlot,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'grid tasks', 'data-testid': 'tasks-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              COLUMNS.map((column) => header(column, sort)),
              h('th'),
            ),
          ),
          h(
            'tbody',
            null,
            rows.map((row) => taskRow(row, selection !== undefined && sameTask(row, selection))),
          ),
        ),
      ),
      rows.length === 0
        ? h('p', { class: 'empty' }, 'No task matches the filter ', h('bdi', null, filter))
        : null,
    );
  }

  function header(column: Column, sort: Sort): HTMLElement {
    const active = sort.field === column.field;
    // Numbers sort largest first on the first click, names A to Z.
    const firstDescending = !TEXT_FIELDS.has(column.field);
    const descending = active ? !sort.descending : firstDescending;
    const next = `${descending ? '-' : ''}${column.field}`;
    return h(
      'th',
      {
        scope: 'col',
        class: TEXT_FIELDS.has(column.field) ? null : 'number',
        'aria-sort': active ? (sort.descending ? 'descending' : 'ascending') : null,
        title: column.title,
      },
      h(
        'a',
        { href: withParameters(url, { sort: next }), class: 'sort', 'data-sort': column.field },
        column.label,
        active ? h('span', { class: 'sort-mark' }, sort.descending ? '▼' : '▲') : null,
      ),
    );
  }

  function taskRow(row: TaskRow, selected: boolean): HTMLElement {
    const range = rangeOf(url);
    const tr = h(
      'tr',
      {
        'data-testid': 'task-row',
        'data-service': row.service,
        'data-task': row.task,
        'data-queue': row.queue,
        'data-system': row.system,
        class: selected ? 'selected' : null,
        'aria-selected': selected ? 'true' : 'false',
        tabindex: 0,
      },
      COLUMNS.map((column) => {
        const value = row[column.field];
        if (typeof value === 'string' || column.format === undefined) {
          const text = String(value ?? '');
          return h(
            'td',
            { class: `text ${column.field}`, title: text, 'data-field': column.field },
            text ? untrusted(text, 'cell-text') : h('span', { class: 'muted' }, NO_DATA),
          );
        }
        return h(
          'td',
          {
            class: ['number', severityClass(column.field, value)].filter(Boolean).join(' '),
            'data-field': column.field,
            'data-value': value === null ? '' : String(value),
          },
          column.format(value),
        );
      }),
      h(
        'td',
        { class: 'actions' },
        h(
          'a',
          { href: failuresPath(row, range), 'data-testid': 'task-failures-link' },
          'failures →',
        ),
      ),
    );
    const select = (): void =>
      navigate(
        withParameters(url, {
          service: row.service,
          task: row.task,
          queue: row.queue,
          system: row.system,
        }),
      );
    tr.addEventListener('click', (event) => {
      if (event.target instanceof Element && event.target.closest('a')) return;
      select();
    });
    tr.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') select();
    });
    return tr;
  }

  function drawDetail(): void {
    charts?.destroy();
    charts = undefined;
    const selection = taskKeyOf(url);
    if (!selection) {
      replaceChildren(detailSlot);
      detailSlot.hidden = true;
      return;
    }
    detailSlot.hidden = false;
    const close = h(
      'a',
      {
        href: withParameters(url, {
          service: undefined,
          task: undefined,
          queue: undefined,
          system: undefined,
        }),
        class: 'close',
        title: 'Close the charts',
      },
      '×',
    );
    const heading = h(
      'div',
      { class: 'detail-head' },
      h(
        'h2',
        null,
        untrusted(selection.task),
        h(
          'span',
          { class: 'muted' },
          ' on ',
          untrusted(selection.service || NO_DATA),
          selection.queue ? [' · queue ', untrusted(selection.queue)] : null,
          selection.system ? [' · ', untrusted(selection.system)] : null,
        ),
      ),
      h('a', { href: failuresPath(selection, rangeOf(url)) }, 'failures of this task →'),
      close,
    );
    if (seriesError !== undefined) {
      replaceChildren(detailSlot, heading, pageProblem(seriesError));
      return;
    }
    if (!series) {
      replaceChildren(detailSlot, heading);
      return;
    }
    charts = new ChartGroup([
      {
        title: 'Runs and failures per second',
        unit: 'rate',
        timestamps: series.timestamps,
        lines: [
          { label: 'runs/s', values: series.runsPerSecond, color: 'blue' },
          { label: 'failures/s', values: series.failuresPerSecond, color: 'red' },
        ],
        testId: 'chart-runs',
      },
      {
        title: 'Attempt duration',
        unit: 'seconds',
        timestamps: series.timestamps,
        lines: [
          { label: 'p50', values: series.p50DurationSeconds, color: 'green' },
          { label: 'p95', values: series.p95DurationSeconds, color: 'orange' },
        ],
        testId: 'chart-duration',
      },
      {
        title: 'Wait in the queue (p95)',
        unit: 'seconds',
        timestamps: series.timestamps,
        lines: [{ label: 'p95 wait', values: series.p95WaitSeconds, color: 'purple' }],
        testId: 'chart-wait',
      },
    ]);
    replaceChildren(detailSlot, heading, charts.element);
  }

  void load();

  return {
    update(next: URL): void {
      url = next;
      if ((next.searchParams.get('q') ?? '') !== filterInput.value) {
        filterInput.value = next.searchParams.get('q') ?? '';
      }
      const selection = taskKeyOf(next);
      const selectionChanged =
        (selection === undefined) !== (loadedSelection === undefined) ||
        (selection !== undefined &&
          loadedSelection !== undefined &&
          !sameTask(selection, loadedSelection));
      if (rangeOf(next) !== loadedRange || selectionChanged) {
        if (selectionChanged) {
          series = undefined;
          seriesError = undefined;
          drawDetail();
        }
        drawTable();
        void load();
      } else {
        drawTable();
      }
    },
    dispose(): void {
      controller?.abort();
      refresh.dispose();
      charts?.destroy();
    },
  };
}
