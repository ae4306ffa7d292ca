import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package (`.ci/run` installs it); never a downloaded browser. */
export const CHROMIUM = process.env.GOVERNOR_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless Chromium (Playwright gives it a fresh temporary profile) with no background networking: this machine's
 * network is closed, and without these flags Chromium keeps reaching for Google's hosts.
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, close: () => browser.close() };
}
