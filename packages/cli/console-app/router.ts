/**
 * Client-side navigation: links are real `<a href>` (open in a new tab, copy, middle-click all
 * work); a plain click on one of our own links changes the address with the history API and
 * the page redraws from it.
 */

type Listener = (url: URL) => void;

let listener: Listener | undefined;

/** Calls `onChange` with the new address after every navigation, back and forward included. */
export function startRouter(onChange: Listener): void {
  listener = onChange;
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = event.target instanceof Element ? event.target.closest('a') : null;
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener('popstate', () => onChange(new URL(location.href)));
  onChange(new URL(location.href));
}

/**
 * Goes to `path` (a path with its query). `replace` rewrites the current history entry, for
 * state that should not pile up under the back button (typing in a filter).
 */
export function navigate(path: string, { replace = false } = {}): void {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  listener?.(new URL(location.href));
}

/** The current address with some query parameters set (empty or undefined ones removed). */
export function withParameters(url: URL, changes: Record<string, string | undefined>): string {
  const search = new URLSearchParams(url.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === '') search.delete(name);
    else search.set(name, value);
  }
  const query = search.toString();
  return url.pathname + (query ? `?${query}` : '');
}

/** A path with a query, leaving out empty parameters. */
export function pathWith(path: string, parameters: Record<string, string | undefined>): string {
  return withParameters(new URL(path, location.origin), parameters);
}
