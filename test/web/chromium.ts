/**
 * Headless Chromium for the dashboard's end-to-end tests and benchmark: Debian's chromium package
 * driven by playwright-core (playwright's own browser download does not work here). Tests skip,
 * saying why, when the browser is not installed.
 *
 *   const skip = chromiumSkipReason();
 *   test('…', { skip }, async () => { const browser = await launchChromium(); … });
 */
import { accessSync, constants } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's package; PEERCLOUD_CHROMIUM points elsewhere on other systems. */
export const CHROMIUM_PATH = process.env.PEERCLOUD_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why browser tests cannot run here (for node:test's `skip`), or false when they can. */
export function chromiumSkipReason(): string | false {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return false;
  } catch {
    return `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set PEERCLOUD_CHROMIUM)`;
  }
}

export async function launchChromium(): Promise<Browser> {
  const reason = chromiumSkipReason();
  if (reason) throw new Error(`cannot start the browser: ${reason}`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
