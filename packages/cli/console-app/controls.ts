/** The controls pages share: the range picker and the auto-refresh switch. */
import { CONSOLE_RANGES, type ConsoleRange } from '../src/console/api-types';
import { h } from './dom';
import { formatClock } from './format';
import { withParameters } from './router';

/** The range when the address names none. */
export const DEFAULT_RANGE: ConsoleRange = '1h';

/** The `range` of the address, if it is one the console offers, else {@link DEFAULT_RANGE}. */
export function rangeOf(url: URL): ConsoleRange {
  const range = url.searchParams.get('range');
  return (CONSOLE_RANGES as readonly string[]).includes(range ?? '')
    ? (range as ConsoleRange)
    : DEFAULT_RANGE;
}

/** Links to the same page for each range, the current one marked. */
export function rangePicker(url: URL): HTMLElement {
  const current = rangeOf(url);
  return h(
    'nav',
    { class: 'range-picker', 'aria-label': 'Time range', 'data-testid': 'range-picker' },
    CONSOLE_RANGES.map((range) =>
      h(
        'a',
        {
          href: withParameters(url, { range }),
          class: range === current ? 'current' : null,
          'aria-current': range === current ? 'true' : null,
          'data-range': range,
        },
        range,
      ),
    ),
  );
}

const REFRESH_MS = 15_000;
/** Paused on one page stays paused on the others, until the tab closes. */
let refreshPaused = false;

/**
 * Calls `load` every 15 s while not paused and the tab is visible, never two at once; shows
 * when the numbers were read and a pause button.
 */
export class AutoRefresh {
  readonly element: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly stamp: HTMLElement;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly load: () => Promise<void>) {
    this.button = h('button', { type: 'button', class: 'refresh-toggle' });
    this.button.addEventListener('click', () => {
      refreshPaused = !refreshPaused;
      this.showState();
      if (!refreshPaused) void this.tick();
    });
    this.stamp = h('span', { class: 'refresh-stamp', 'data-testid': 'refreshed-at' });
    this.element = h('div', { class: 'auto-refresh' }, this.stamp, this.button);
    this.showState();
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** Records that the page's numbers were read at `at` (Unix ms) and plans the next read. */
  loaded(at: number): void {
    this.stamp.textContent = `updated ${formatClock(at)}`;
    this.stamp.setAttribute('title', new Date(at).toString());
  }

  /** Plans the next automatic reload. */
  schedule(): void {
    clearTimeout(this.timer);
    if (this.disposed || refreshPaused) return;
    this.timer = setTimeout(() => void this.tick(), REFRESH_MS);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  private readonly onVisibility = (): void => {
    if (document.visibilityState === 'visible') this.schedule();
    else clearTimeout(this.timer);
  };

  private async tick(): Promise<void> {
    clearTimeout(this.timer);
    if (this.disposed || refreshPaused || document.visibilityState === 'hidden') return;
    try {
      await this.load();
    } finally {
      this.schedule();
    }
  }

  private showState(): void {
    this.button.textContent = refreshPaused ? 'Resume' : 'Pause';
    this.button.setAttribute(
      'title',
      refreshPaused ? 'Auto-refresh is paused' : 'Auto-refresh every 15 s',
    );
    this.button.setAttribute('aria-pressed', String(refreshPaused));
    this.button.classList.toggle('paused', refreshPaused);
    if (refreshPaused) clearTimeout(this.timer);
    else this.schedule();
  }
}
