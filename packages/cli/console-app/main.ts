/**
 * The tasklens console's page: the header, the backend status, and the router choosing the page
 * for the address. Built into dist/console-page/app.js by scripts/bundle-console.js.
 */
import { adoptTokenFromAddress } from './api';
import { startBackendStatus } from './backend-status';
import { h, replaceChildren } from './dom';
import type { Page } from './page';
import { alertsPage } from './pages/alerts';
import { failuresPage } from './pages/failures';
import { tasksPage } from './pages/tasks';
import { tracePage } from './pages/trace';
import { startRouter } from './router';

type Route =
  | { name: 'tasks' | 'failures' | 'alerts' }
  | { name: 'trace'; traceId: string }
  | { name: 'not-found' };

function routeOf(url: URL): Route {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return { name: 'tasks' };
  if (path === '/failures') return { name: 'failures' };
  if (path === '/alerts') return { name: 'alerts' };
  const trace = /^\/traces\/([0-9a-fA-F]{32})$/.exec(path);
  if (trace) return { name: 'trace', traceId: trace[1].toLowerCase() };
  return { name: 'not-found' };
}

const NAV: { name: Route['name']; href: string; label: string }[] = [
  { name: 'tasks', href: '/', label: 'Tasks' },
  { name: 'failures', href: '/failures', label: 'Failures' },
  { name: 'alerts', href: '/alerts', label: 'Alerts' },
];

function notFoundPage(root: HTMLElement, url: URL): Page {
  replaceChildren(
    root,
    h(
      'section',
      { class: 'problem' },
      h('h2', null, 'No such page'),
      h('p', null, 'The console has no page at ', h('code', null, url.pathname), '.'),
      h('p', null, h('a', { href: '/' }, 'Go to the tasks')),
    ),
  );
  return { update(): void {}, dispose(): void {} };
}

function start(): void {
  adoptTokenFromAddress();
  const links = NAV.map((item) =>
    h(
      'a',
      { href: item.href, 'data-route': item.name, 'data-testid': `nav-${item.name}` },
      item.label,
    ),
  );
  const strip = h('div', { class: 'backends', 'data-testid': 'backend-status' });
  const banner = h('div', { class: 'banner-slot' });
  const main = h('main', { id: 'page' });
  replaceChildren(
    document.body,
    h(
      'header',
      { class: 'top' },
      h('a', { href: '/', class: 'brand' }, 'tasklens'),
      h('nav', { class: 'main-nav', 'aria-label': 'Pages' }, links),
      strip,
    ),
    banner,
    main,
  );
  startBackendStatus(strip, banner);

  let current: { key: string; page: Page } | undefined;
  startRouter((url) => {
    const route = routeOf(url);
    for (const link of links) {
      const active =
        link.dataset.route === route.name ||
        (route.name === 'trace' && link.dataset.route === 'failures');
      link.classList.toggle('active', active);
      if (active) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    const key = route.name === 'trace' ? `trace:${route.traceId}` : route.name;
    if (current?.key === key) {
      current.page.update(url);
      return;
    }
    current?.page.dispose();
    main.className = `page-${route.name}`;
    let page: Page;
    switch (route.name) {
      case 'tasks':
        page = tasksPage(main, url);
        break;
      case 'failures':
        page = failuresPage(main, url);
        break;
      case 'alerts':
        page = alertsPage(main);
        break;
      case 'trace':
        page = tracePage(main, url, route.traceId);
        break;
      default:
        page = notFoundPage(main, url);
    }
    current = { key, page };
    document.title = `${NAV.find((item) => item.name === route.name)?.label ?? (route.name === 'trace' ? 'Trace' : 'Not found')} · tasklens`;
    window.scrollTo(0, 0);
  });
}

start();
