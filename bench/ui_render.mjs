// Render times of the web UI in headless Chromium (bench/ui_bench.py runs this):
//   node bench/ui_render.mjs <base-url> <access-key-id> <secret> <runs>
// For each page: cold (a new browser context, so nothing cached) and warm (the same page loaded
// again), the time from navigation start to the app's `lakemesh-ready` mark (set once the page's
// data is loaded and painted). The floor is Chromium loading the server's /healthz (a tiny
// document, no script) the same way. Prints JSON.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'test', 'e2e', 'node', 'package.json'));
const { chromium } = require('playwright-core');

const [base, keyId, secret, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 15);
const pages = { home: '/', product: '/products/sales/orders' };

const tokenRes = await fetch(base + '/api/v1/auth/tokens', {
  method: 'POST',
  headers: { Authorization: 'Basic ' + Buffer.from(keyId + ':' + secret).toString('base64') },
  body: '{}',
});
const { token } = await tokenRes.json();
const who = await (await fetch(base + '/api/v1/auth/whoami', { headers: { Authorization: 'Bearer ' + token } })).json();
const session = JSON.stringify({ token, expires: Date.now() + 3600e3, name: who.name, accessKeyId: keyId, listeners: who.listeners });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.addInitScript((s) => localStorage.setItem('lakemesh.session', s), session);
  return { context, page: await context.newPage() };
}

async function readyTime(page, url) {
  await page.goto(base + url);
  await page.waitForSelector('body[data-ready]', { timeout: 20000 });
  return page.evaluate(() => performance.getEntriesByName('lakemesh-ready')[0].startTime);
}

const out = { runs, cold: {}, warm: {}, floor: [] };
for (const name of Object.keys(pages)) {
  out.cold[name] = [];
  out.warm[name] = [];
}
for (let i = 0; i < runs; i++) {
  for (const [name, url] of Object.entries(pages)) {
    const { context, page } = await newPage();
    out.cold[name].push(await readyTime(page, url));
    out.warm[name].push(await readyTime(page, url));
    await context.close();
  }
  const { context, page } = await newPage();
  await page.goto(base + '/healthz');
  out.floor.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd));
  await context.close();
}
await browser.close();
console.log(JSON.stringify(out));
