/** What every page of the console is to the router in main.ts. */
export interface Page {
  /** The address changed but stays on this page (a filter, a selection, the range). */
  update(url: URL): void;
  /** The page is left: stop its timers and calls. */
  dispose(): void;
}

/** Makes a page from its root element and the address. */
export type PageFactory = (root: HTMLElement, url: URL) => Page;
