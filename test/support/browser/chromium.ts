import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (package `chromium`, installed by test/setupSystem.mjs). */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Headless Chromium for browser tests, quiet on a closed network: no QUIC, no
 * first-run, background or component-update traffic. Playwright gives every launch a
 * fresh temporary profile (user-data-dir) and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A fresh browser context (its own cookies) of 1200×800 that accepts the relay's
 * development certificate (signed by the test relay's own CA, unknown to Chromium).
 */
export function relayBrowserContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 } });
}
