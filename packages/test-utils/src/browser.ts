/*
 * The real browser of the web tests and benchmarks: Debian's Chromium, headless, driven by
 * playwright-core through its executable path (Playwright's own browser downloads are not used).
 */
import { access, constants } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** `TASKLENS_CHROMIUM` from the environment, default Debian's /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.TASKLENS_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium; rejects with how to install it when it is not there (a web test
 * never skips).
 *
 * @example
 * const browser = await launchBrowser();
 * const page = await browser.newPage();
 */
export async function launchBrowser(): Promise<Browser> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: the web tests drive Debian's chromium; install it with ` +
        '`apt-get install chromium` (scripts/setup.sh does) or set TASKLENS_CHROMIUM',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Root in a container has no user namespaces for Chromium's sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}
