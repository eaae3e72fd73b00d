/**
 * The strip in the header saying which backends answer, and the red banner naming each one that
 * does not, with what to do about it. Pages keep working with the backends that are up.
 */
import type { BackendsBody } from '../src/console/api-types';
import { getJson } from './api';
import { h, replaceChildren } from './dom';
import { backendTitle, problemLines } from './problem-view';

const POLL_MS = 15_000;

/** Starts polling `/api/backends`; `strip` goes in the header, `banner` above the page. */
export function startBackendStatus(strip: HTMLElement, banner: HTMLElement): void {
  async function poll(): Promise<void> {
    try {
      const body = await getJson<BackendsBody>('backends');
      draw(body);
    } catch (error) {
      replaceChildren(strip);
      replaceChildren(
        banner,
        h(
          'div',
          { class: 'banner', 'data-testid': 'server-problem', role: 'alert' },
          h('p', null, h('bdi', null, error instanceof Error ? error.message : String(error))),
        ),
      );
    } finally {
      setTimeout(() => void poll(), POLL_MS);
    }
  }

  function draw(body: BackendsBody): void {
    replaceChildren(
      strip,
      body.backends.map((backend) =>
        h(
          'span',
          {
            class: `backend ${backend.up ? 'up' : 'down'}`,
            title: `${backend.url} · ${backend.up ? 'answering' : 'not answering'}`,
            'data-backend': backend.name,
            'data-up': String(backend.up),
          },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          backendTitle(backend.name),
        ),
      ),
    );
    const down = body.backends.filter((backend) => !backend.up);
    replaceChildren(
      banner,
      down.length
        ? h(
            'div',
            { class: 'banner', 'data-testid': 'backend-problem', role: 'alert' },
            down.map((backend) =>
              h(
                'div',
                { class: 'banner-item', 'data-backend': backend.name },
                h('strong', null, `${backendTitle(backend.name)} is down`),
                backend.problem
                  ? problemLines(backend.problem)
                  : h('p', null, 'Read: ', h('code', null, backend.url)),
              ),
            ),
          )
        : null,
    );
  }

  void poll();
}
