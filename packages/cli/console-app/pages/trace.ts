/** `/traces/<id>`: a trace's spans as a waterfall, and the selected span's attributes and events. */
import type { TraceBody, TraceSpan, TraceSpanEvent } from '../../src/console/api-types';
import { ApiError, getJson, isAbort } from '../api';
import { type Child, h, replaceChildren, untrusted } from '../dom';
import { formatSeconds, formatTime, NO_DATA } from '../format';
import type { Page } from '../page';
import { pageProblem } from '../problem-view';
import { navigate, withParameters } from '../router';
import { failuresPath } from '../task-key';

const INDENT_PX = 14;
const SERVICE_COLORS = 8;
const TICKS = [0, 0.25, 0.5, 0.75, 1];

interface PlacedSpan {
  span: TraceSpan;
  depth: number;
}

/** Spans in tree order (each after its parent, siblings by start), with their depth. */
function placeSpans(spans: TraceSpan[]): PlacedSpan[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const span of spans) {
    if (span.parentSpanId !== null && ids.has(span.parentSpanId)) {
      const siblings = children.get(span.parentSpanId) ?? [];
      siblings.push(span);
      children.set(span.parentSpanId, siblings);
    } else {
      roots.push(span);
    }
  }
  const placed: PlacedSpan[] = [];
  const seen = new Set<string>();
  const stack: PlacedSpan[] = roots.map((span) => ({ span, depth: 0 })).reverse();
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next.span.spanId)) continue;
    seen.add(next.span.spanId);
    placed.push(next);
    const below = children.get(next.span.spanId) ?? [];
    for (let index = below.length - 1; index >= 0; index--) {
      stack.push({ span: below[index], depth: next.depth + 1 });
    }
  }
  // A parent loop leaves spans unplaced; they still show, at the top level.
  for (const span of spans) if (!seen.has(span.spanId)) placed.push({ span, depth: 0 });
  return placed;
}

function serviceColor(service: string): string {
  let hash = 0;
  for (let index = 0; index < service.length; index++) {
    hash = (hash * 31 + service.charCodeAt(index)) >>> 0;
  }
  return `svc-${hash % SERVICE_COLORS}`;
}

function attribute(pairs: [string, string][], key: string): string | undefined {
  return pairs.find(([name]) => name === key)?.[1];
}

function microseconds(us: number): string {
  return formatSeconds(us / 1e6);
}

/** Shows the trace page for `traceId` in `root`. */
export function tracePage(root: HTMLElement, initialUrl: URL, traceId: string): Page {
  let url = initialUrl;
  let trace: TraceBody | undefined;
  const controller = new AbortController();
  const rows = new Map<string, HTMLElement>();
  const detail = h('section', { class: 'span-detail', 'data-testid': 'span-detail' });

  replaceChildren(
    root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Trace ', h('code', { class: 'trace-id' }, traceId)),
    ),
    h('p', { class: 'muted' }, 'Loading…'),
  );

  function selectedId(): string | undefined {
    if (!trace) return undefined;
    const fromAddress = url.searchParams.get('span');
    if (fromAddress && trace.spans.some((span) => span.spanId === fromAddress)) return fromAddress;
    return (trace.spans.find((span) => span.status === 'error') ?? trace.spans[0])?.spanId;
  }

  async function load(): Promise<void> {
    try {
      trace = await getJson<TraceBody>(`traces/${traceId}`, {}, controller.signal);
      draw(trace);
    } catch (error) {
      if (isAbort(error)) return;
      const missing = error instanceof ApiError && error.status === 404;
      replaceChildren(
        root,
        h('div', { class: 'page-head' }, h('h1', null, 'Trace ', h('code', null, traceId))),
        pageProblem(
          error,
          missing
            ? `Jaeger does not hold trace ${traceId} (retention may have dropped it)`
            : undefined,
        ),
        h('p', null, h('a', { href: '/failures' }, '← failures')),
      );
    }
  }

  function draw(body: TraceBody): void {
    const placed = placeSpans(body.spans);
    const start = Math.min(...body.spans.map((span) => span.startUs));
    const end = Math.max(...body.spans.map((span) => span.startUs + span.durationUs));
    const total = Math.max(body.durationUs, end - start, 1);
    const errors = body.spans.filter((span) => span.status === 'error');
    const services = new Set(body.spans.map((span) => span.service));
    const taskSpan =
      errors.find((span) => span.taskName) ?? body.spans.find((span) => span.taskName);

    const facts: [string, Child][] = [
      ['Duration', microseconds(body.durationUs)],
      ['Chain latency', formatSeconds(body.chainLatencySeconds)],
      ['Spans', String(body.spans.length)],
      ['Errors', String(errors.length)],
      ['Services', String(services.size)],
      ['Started', Number.isFinite(start) ? formatTime(start / 1000) : NO_DATA],
    ];
    const waterfall = h(
      'div',
      { class: 'waterfall', 'data-testid': 'trace-waterfall', role: 'tree' },
      h(
        'div',
        { class: 'waterfall-head' },
        h('div', { class: 'span-label' }, 'Service · span'),
        h(
          'div',
          { class: 'span-timeline ticks' },
          TICKS.map((fraction) => {
            const tick = h('span', { class: 'tick' }, microseconds(total * fraction));
            tick.style.left = `${fraction * 100}%`;
            return tick;
          }),
        ),
      ),
      placed.map((each) => spanRow(each, start, total)),
    );
    replaceChildren(
      root,
      h(
        'div',
        { class: 'page-head' },
        h('h1', null, 'Trace ', h('code', { class: 'trace-id' }, body.traceId)),
        taskSpan?.taskName
          ? h(
              'a',
              {
                href: failuresPath({ task: taskSpan.taskName, service: taskSpan.service }),
                class: 'back',
                'data-testid': 'back-to-failures',
              },
              '← back to failures of ',
              untrusted(taskSpan.taskName),
            )
          : h('a', { href: '/failures', class: 'back' }, '← failures'),
      ),
      h(
        'dl',
        { class: 'facts' },
        facts.map(([name, value]) => h('div', null, h('dt', null, name), h('dd', null, value))),
      ),
      h('div', { class: 'trace-layout' }, waterfall, detail),
    );
    showSelection();
  }

  function spanRow({ span, depth }: PlacedSpan, start: number, total: number): HTMLElement {
    const label = h(
      'div',
      { class: 'span-label' },
      h(
        'span',
        { class: `service ${serviceColor(span.service)}`, title: span.service },
        untrusted(span.service),
      ),
      h('span', { class: 'span-name', title: span.name }, untrusted(span.name)),
      span.attempt !== null ? h('span', { class: 'badge attempt' }, `#${span.attempt}`) : null,
      span.retrying
        ? h(
            'span',
            { class: 'badge retry', title: 'This attempt failed and will be retried' },
            'retry',
          )
        : null,
      span.linkedSpanIds.length > 0
        ? h('span', { class: 'badge link', title: 'Linked to another span (follows from)' }, '↗')
        : null,
    );
    label.style.paddingLeft = `${8 + depth * INDENT_PX}px`;
    const bar = h('span', { class: `bar ${serviceColor(span.service)}` });
    const left = ((span.startUs - start) / total) * 100;
    const width = (span.durationUs / total) * 100;
    bar.style.left = `${Math.min(Math.max(left, 0), 100)}%`;
    bar.style.width = `max(2px, ${Math.min(Math.max(width, 0), 100)}%)`;
    const duration = h('span', { class: 'bar-label' }, microseconds(span.durationUs));
    if (left + width > 75) {
      duration.classList.add('before');
      duration.style.right = `${Math.max(100 - left, 0)}%`;
    } else {
      duration.style.left = `${left + width}%`;
    }
    const row = h(
      'div',
      {
        class: ['span-row', span.status === 'error' ? 'error' : null].filter(Boolean).join(' '),
        'data-testid': 'span-row',
        'data-span-id': span.spanId,
        'data-status': span.status,
        'data-depth': depth,
        role: 'treeitem',
        tabindex: 0,
      },
      label,
      h('div', { class: 'span-timeline' }, bar, duration),
    );
    const select = (): void =>
      navigate(withParameters(url, { span: span.spanId }), { replace: true });
    row.addEventListener('click', select);
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        select();
      }
    });
    rows.set(span.spanId, row);
    return row;
  }

  function showSelection(): void {
    if (!trace) return;
    const id = selectedId();
    for (const [spanId, row] of rows) {
      row.classList.toggle('selected', spanId === id);
      row.setAttribute('aria-selected', String(spanId === id));
    }
    const span = trace.spans.find((each) => each.spanId === id);
    if (span) drawDetail(trace, span);
    else replaceChildren(detail);
  }

  function drawDetail(body: TraceBody, span: TraceSpan): void {
    const start = Math.min(...body.spans.map((each) => each.startUs));
    const names = new Map(body.spans.map((each) => [each.spanId, each]));
    const spanLink = (spanId: string): HTMLElement => {
      const target = names.get(spanId);
      return target
        ? h(
            'a',
            { href: withParameters(url, { span: spanId }), class: 'span-link' },
            untrusted(target.name),
            ' ',
            h('code', null, spanId),
          )
        : h('code', { title: 'Not in this trace' }, spanId);
    };
    const meta: [string, Child][] = [
      ['Service', untrusted(span.service)],
      ['Kind', span.kind],
      [
        'Status',
        h(
          'span',
          { class: span.status === 'error' ? 'status-error' : null },
          span.status,
          span.statusMessage ? [': ', untrusted(span.statusMessage)] : null,
        ),
      ],
      ['Task', span.taskName !== null ? untrusted(span.taskName) : NO_DATA],
      [
        'Attempt',
        span.attempt !== null ? `${span.attempt}${span.retrying ? ' (retrying)' : ''}` : NO_DATA,
      ],
      ['Outcome', span.outcome ?? NO_DATA],
      ['Start', `+${microseconds(span.startUs - start)} · ${formatTime(span.startUs / 1000)}`],
      ['Duration', microseconds(span.durationUs)],
      ['Span ID', h('code', null, span.spanId)],
      ['Parent', span.parentSpanId ? spanLink(span.parentSpanId) : NO_DATA],
      [
        'Links',
        span.linkedSpanIds.length
          ? span.linkedSpanIds.map((id) => h('div', null, spanLink(id)))
          : NO_DATA,
      ],
    ];
    const exceptions = span.events.filter((event) => event.name === 'exception');
    replaceChildren(
      detail,
      h('h2', null, untrusted(span.name)),
      exceptions.map((event) => exceptionView(event)),
      exceptions.length === 0 && span.status === 'error' && span.statusMessage
        ? h(
            'div',
            { class: 'exception' },
            h(
              'p',
              { class: 'exception-message', 'data-testid': 'exception-message' },
              untrusted(span.statusMessage),
            ),
          )
        : null,
      h(
        'table',
        { class: 'kv meta' },
        h(
          'tbody',
          null,
          meta.map(([name, value]) =>
            h('tr', null, h('th', { scope: 'row' }, name), h('td', null, value)),
          ),
        ),
      ),
      h('h3', null, `Attributes (${span.attributes.length})`),
      attributesTable(span.attributes, 'span-attributes'),
      h('h3', null, `Events (${span.events.length})`),
      span.events.length
        ? h(
            'ol',
            { class: 'events' },
            span.events.map((event) =>
              h(
                'li',
                { 'data-testid': 'span-event' },
                h(
                  'div',
                  { class: 'event-head' },
                  h('span', { class: 'event-time' }, `+${microseconds(event.timeUs - start)}`),
                  ' ',
                  h('strong', null, untrusted(event.name)),
                ),
                event.attributes.length
                  ? attributesTable(event.attributes, 'event-attributes')
                  : null,
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'None'),
    );
  }

  function exceptionView(event: TraceSpanEvent): HTMLElement {
    const type = attribute(event.attributes, 'exception.type');
    const message = attribute(event.attributes, 'exception.message');
    const stack = attribute(event.attributes, 'exception.stacktrace');
    return h(
      'div',
      { class: 'exception', 'data-testid': 'exception' },
      h('div', { class: 'exception-type' }, untrusted(type ?? 'exception')),
      h(
        'p',
        { class: 'exception-message', 'data-testid': 'exception-message' },
        untrusted(message ?? ''),
      ),
      stack
        ? h('pre', { class: 'stacktrace', 'data-testid': 'exception-stacktrace' }, stack)
        : null,
    );
  }

  function attributesTable(pairs: [string, string][], testId: string): HTMLElement {
    if (pairs.length === 0) return h('p', { class: 'muted' }, 'None');
    return h(
      'table',
      { class: 'kv attributes', 'data-testid': testId },
      h(
        'tbody',
        null,
        pairs.map(([key, value]) =>
          h(
            'tr',
            { 'data-key': key },
            h('th', { scope: 'row' }, untrusted(key)),
            h('td', null, h('div', { class: 'value' }, untrusted(value))),
          ),
        ),
      ),
    );
  }

  void load();

  return {
    update(next: URL): void {
      url = next;
      showSelection();
    },
    dispose(): void {
      controller.abort();
    },
  };
}
