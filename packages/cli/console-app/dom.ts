/**
 * Builds the page's elements. Every text, and every string from telemetry in particular, goes in
 * as a text node or through `setAttribute` on an attribute that cannot run code; there is no other
 * way to put markup on the page.
 */

/** What `h` takes as children: text, nodes, and nothing (skipped), nested freely. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/** Attribute values: `true` sets an empty attribute, `false`, `null` and `undefined` leave it out. */
export type Attributes = Record<string, string | number | boolean | null | undefined>;

const SAFE_ATTRIBUTES = new Set([
  'alt',
  'autocomplete',
  'class',
  'colspan',
  'dir',
  'disabled',
  'for',
  'href',
  'id',
  'lang',
  'name',
  'placeholder',
  'role',
  'rowspan',
  'scope',
  'selected',
  'spellcheck',
  'tabindex',
  'title',
  'type',
  'value',
]);

/**
 * A same-origin path we built (`/failures?task=...`), never a URL from telemetry: anything with a
 * scheme, a host (`//`) or a backslash is refused.
 */
function isOwnPath(href: string): boolean {
  return href.startsWith('/') && !href.startsWith('//') && !href.includes('\\');
}

function setAttributeSafely(element: Element, name: string, value: string): void {
  const lower = name.toLowerCase();
  const allowed =
    SAFE_ATTRIBUTES.has(lower) || lower.startsWith('data-') || lower.startsWith('aria-');
  if (!allowed) throw new Error(`h: attribute ${name} is not one the page sets`);
  if (lower === 'href' && !isOwnPath(value)) throw new Error(`h: href ${value} is not our path`);
  element.setAttribute(lower, value);
}

function append(parent: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (typeof child === 'string' || typeof child === 'number') {
    parent.appendChild(document.createTextNode(String(child)));
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    for (const each of child) append(parent, each);
  }
}

/**
 * An element with attributes and children.
 *
 * @example h('a', { href: '/failures', class: 'nav' }, 'Failures')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes?: Attributes | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (attributes) {
    for (const [name, value] of Object.entries(attributes)) {
      if (value === false || value === null || value === undefined) continue;
      setAttributeSafely(element, name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Replaces an element's children. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * Text from telemetry in its own direction-isolated run, so right-to-left or invisible
 * characters in it cannot reorder what surrounds it.
 */
export function untrusted(text: string, className?: string): HTMLElement {
  return h('bdi', className ? { class: className } : null, text);
}

/** Text shown at most `max` characters long, the whole of it in the tooltip. */
export function truncated(text: string, max = 160): HTMLElement {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return h('bdi', { class: 'truncate', title: text }, shown);
}
