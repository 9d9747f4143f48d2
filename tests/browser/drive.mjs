// Opens each URL given in argv[2] (a JSON list) in headless Chromium (Debian's, through playwright-core),
// waits for the page's window.__done, and prints [{url, result}] as JSON on stdout.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(new URL('../../frontend/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const [urls, executablePath = '/usr/bin/chromium'] = [JSON.parse(process.argv[2]), process.argv[3]];
const profile = mkdtempSync(join(tmpdir(), 'cruddur-chromium-'));
const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, timeout: 60000 });
const results = [];
try {
  for (const url of urls) {
    const page = await context.newPage();
    const console = [];
    page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
    await page.goto(url, { timeout: 30000 });
    await page.waitForFunction(() => window.__done === true, null, { timeout: 60000 });
    results.push({ url, result: await page.evaluate(() => window.__result), console });
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(results));
