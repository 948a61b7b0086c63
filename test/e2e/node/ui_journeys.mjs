// Drives lakemesh's web UI in headless Chromium (Debian's, through playwright-core) along the
// journeys users take, asserting what each page shows and saving a screenshot of every step.
//
//   node ui_journeys.mjs <base-url> <access-key-id> <secret> <artifacts-dir> [journey ...]
//
// Exits non-zero and names the failed step when a journey breaks. The server must run the demo
// mesh (`lakemesh serve --demo`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, keyId, secret, artifacts, ...only] = process.argv.slice(2);
fs.mkdirSync(artifacts, { recursive: true });

async function ready(page) {
  await page.waitForSelector('body[data-ready]', { timeout: 15000 });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, name + '.png'), fullPage: true });
}

async function go(page, url) {
  await page.evaluate(() => delete document.body.dataset.ready).catch(() => {});
  await page.goto(base + url);
  await ready(page);
}

// Does `action` (an in-app navigation), then waits for `url` and for the new page to be ready.
async function navigateBy(page, action, url) {
  await page.evaluate(() => delete document.body.dataset.ready);
  await action();
  await page.waitForURL(url);
  await ready(page);
}

async function signIn(page) {
  await page.goto(base + '/signin');
  await page.fill('input[name=access_key_id]', keyId);
  await page.fill('input[name=secret]', secret);
  await navigateBy(page, () => page.click('button[type=submit]'), base + '/');
}

const journeys = {
  // Signing in: a wrong secret is refused with a message; the right one reaches home; signing
  // out returns to the sign-in page, and a page asked for comes back after signing in.
  async signin(page) {
    await page.goto(base + '/products/sales/orders');
    await page.waitForURL(/\/signin\?next=/);
    await page.fill('input[name=access_key_id]', keyId);
    await page.fill('input[name=secret]', 'not-the-secret');
    await page.click('button[type=submit]');
    const err = await page.waitForSelector('.form-error');
    assert.match(await err.textContent(), /do not match/);
    await shot(page, 'signin-refused');
    await page.fill('input[name=secret]', secret);
    await navigateBy(page, () => page.click('button[type=submit]'), base + '/products/sales/orders');
    // Another tab is signed in too.
    const other = await page.context().newPage();
    await other.goto(base + '/sql');
    await ready(other);
    assert.equal(new URL(other.url()).pathname, '/sql');
    await other.close();
    await page.click('text=Sign out');
    await page.waitForURL(base + '/signin');
    await page.goto(base + '/sql');
    await page.waitForURL(/\/signin\?next=%2Fsql/);
  },

  // Home: every domain with its products, and what was published lately.
  async home(page) {
    await signIn(page);
    const cards = await page.$$eval('.product-card', (els) => els.map((e) => e.querySelector('h3').textContent));
    for (const name of ['orders', 'customers', 'campaigns']) assert.ok(cards.includes(name), `home shows product ${name}: ${cards}`);
    const domains = await page.$$eval('.domain-section h2 a', (els) => els.map((e) => e.textContent));
    for (const d of ['sales', 'customers', 'marketing']) assert.ok(domains.includes(d), `home shows domain ${d}`);
    const published = await page.textContent('aside');
    assert.match(published, /Publish data product marketing\.campaigns 2\.0\.0/);
    await shot(page, 'home');
  },

  // Find a product with the instant search and read its contract.
  async find_product(page) {
    await signIn(page);
    await page.fill('.instant-search input', 'email');
    const hit = await page.waitForSelector('.suggestions li[role=option]');
    assert.match(await hit.textContent(), /customers\.customers\.email/);
    await shot(page, 'search-instant');
    await page.keyboard.press('ArrowDown');
    await navigateBy(page, () => page.keyboard.press('Enter'), base + '/products/customers/customers');
    const contract = await page.textContent('table.contract');
    assert.match(contract, /customer_id/);
    assert.match(contract, /email/);
    const pii = await page.$$eval('table.contract tr', (rows) =>
      rows.filter((r) => r.textContent.includes('pii')).map((r) => r.querySelector('code').textContent));
    assert.deepEqual(pii.sort(), ['email', 'name']);
    assert.match(await page.textContent('.rules'), /nullValues\(email\) <= 10 percent/);
    await shot(page, 'product-contract');
    // The full search page with a filter.
    await go(page, '/search?q=customer&kind=column');
    const kinds = await page.$$eval('.results li .badge.info', (els) => els.map((e) => e.textContent));
    assert.ok(kinds.length > 0 && kinds.every((k) => k === 'column'), `only columns: ${kinds}`);
    await shot(page, 'search-page');
  },

  // A product's quality: its history, a failing rule on dev, freshness, lineage, versions,
  // sample rows and how to query it.
  async product(page) {
    await signIn(page);
    await go(page, '/products/sales/orders?tab=quality');
    await page.waitForSelector('.run');
    assert.match(await page.textContent('.head-side'), /passed/);
    await page.click('text=Run the checks at main');
    await page.waitForFunction(() => document.querySelectorAll('.run').length >= 3);
    await shot(page, 'product-quality-main');
    // On dev the next version breaks "volume within plan".
    await navigateBy(page, () => page.selectOption('.head-side select', 'dev'), /ref=dev/);
    assert.match(await page.textContent('.head-side'), /failed/);
    assert.match(await page.textContent('h1'), /v1\.1\.0/);
    const devRun = await page.$('.run.bad');
    await devRun.click();
    assert.match(await page.textContent('tr.check-fail'), /volume within plan: rowCount <= 200/);
    await shot(page, 'product-quality-dev');
    // Lineage: customers.customers -> sales.orders -> marketing.campaigns.
    await go(page, '/products/sales/orders?tab=lineage');
    const nodes = await page.$$eval('.lineage g.node', (els) => els.map((e) => e.dataset.product));
    assert.deepEqual(nodes.sort(), ['customers.customers', 'marketing.campaigns', 'sales.orders']);
    assert.equal(await page.$$eval('.lineage path.edge', (els) => els.length), 2);
    await shot(page, 'product-lineage');
    await navigateBy(page, () => page.click('.lineage g.node[data-product="marketing.campaigns"]'),
      base + '/products/marketing/campaigns');
    assert.match(await page.textContent('.facts'), /SLO 1 d/);
    assert.match(await page.textContent('.facts'), /met/);
    // Versions: main and dev, with what dev changes.
    await go(page, '/products/sales/orders?tab=versions');
    const versions = await page.textContent('.tab-body table');
    assert.match(versions, /main\s*v1\.0\.0/);
    assert.match(versions, /dev\s*v1\.1\.0/);
    // The commits that changed its table: the two appends of the demo.
    const tableLog = await page.$$eval('.tab-body h3:has(code) + ul.feed li a', (els) => els.map((e) => e.textContent));
    assert.equal(tableLog.filter((m) => m === 'Iceberg commit: sales.orders: append').length, 2, tableLog.join('; '));
    await shot(page, 'product-versions');
    // Sample rows and the snippets to query it.
    await go(page, '/products/sales/orders?tab=data');
    await page.waitForSelector('table.grid tbody tr');
    assert.equal(await page.$$eval('table.grid tbody tr', (r) => r.length), 50);
    await shot(page, 'product-sample-rows');
    await go(page, '/products/sales/orders?tab=query');
    const snippets = await page.textContent('.snippets');
    assert.match(snippets, /SELECT \*\s+FROM sales\.orders/);
    assert.match(snippets, new RegExp('user=' + keyId));
    assert.match(snippets, /psycopg2\.connect/);
    await shot(page, 'product-query');
  },

  // Run a query at a ref, page through it, chart it, download it as CSV, find it in the history.
  async sql(page) {
    await signIn(page);
    await go(page, '/sql');
    await page.fill('textarea', 'SELECT order_id, amount FROM sales.orders ORDER BY order_id');
    await page.click('button:has-text("Run")');
    await page.waitForSelector('.grid-foot');
    assert.match(await page.textContent('.grid-foot'), /rows 1–100 of 140/);
    await page.click('button:has-text("next ›")');
    assert.match(await page.textContent('.grid-foot'), /rows 101–140 of 140/);
    assert.equal(await page.textContent('table.grid tbody tr:first-child td:nth-child(2)'), '101');
    // The same query at dev sees November too.
    await page.fill('input[aria-label=ref]', 'dev');
    await page.press('input[aria-label=ref]', 'Tab');
    await page.fill('textarea', "SELECT strftime(ordered_at, '%Y-%m') AS month, sum(amount) AS revenue, count(*) AS orders\nFROM sales.orders GROUP BY 1 ORDER BY 1");
    await page.press('textarea', 'Control+Enter');
    await page.waitForFunction(() => /3 rows/.test(document.querySelector('.result')?.textContent || ''));
    await shot(page, 'sql-grid');
    await page.click('.result .tabs button:has-text("Chart")');
    assert.equal(await page.$$eval('svg.chart rect.bar', (r) => r.length), 3);
    await shot(page, 'sql-chart-bar');
    await page.selectOption('select[aria-label="chart kind"]', 'line');
    assert.equal(await page.$$eval('svg.chart polyline', (r) => r.length), 1);
    await shot(page, 'sql-chart-line');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Download CSV')]);
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    assert.equal(csv[0], 'month,revenue,orders');
    assert.deepEqual(csv.slice(1).map((l) => l.split(',')[0]), ['2026-09', '2026-10', '2026-11']);
    assert.equal(csv.slice(1).map((l) => Number(l.split(',')[2])).reduce((a, b) => a + b), 230);
    // History, newest first, and an error shows the engine's message.
    const history = await page.$$eval('aside.history li', (els) => els.map((e) => e.textContent));
    assert.match(history[0], /strftime/);
    assert.match(history[1], /ORDER BY order_id/);
    await page.fill('textarea', 'SELECT * FROM sales.no_such_table');
    await page.click('button:has-text("Run")');
    const err = await page.waitForSelector('.error-box');
    assert.match(await err.textContent(), /no_such_table/);
    await shot(page, 'sql-error');
  },

  // Browse a repository: files at a ref with download, the log, a commit's diff, a comparison.
  async browse(page) {
    await signIn(page);
    // A domain's products and tables; a table's columns and a dbt view's definition.
    await go(page, '/repos/sales');
    assert.deepEqual(await page.$$eval('.product-card h3', (els) => els.map((e) => e.textContent)), ['orders']);
    const row = await page.$('table.tables tr:has-text("sales.orders")');
    assert.match(await row.textContent(), /table\s*sales\.orders/);
    await row.$eval('button', (b) => b.click());
    const detail = await page.waitForSelector('.table-detail');
    assert.match(await detail.textContent(), /140 rows/);
    assert.match(await detail.textContent(), /ordered_at/);
    await shot(page, 'domain-overview');
    await go(page, '/repos/shop');
    await page.click('table.tables button:has-text("shop.stg_orders")');
    const view = await page.waitForSelector('.table-detail pre');
    assert.match(await view.textContent(), /from shop\.raw_orders/);
    await shot(page, 'domain-dbt-view');
    await go(page, '/repos/sales/files');
    await navigateBy(page, () => page.click('a:has-text("raw")'), /prefix=raw%2F/);
    await navigateBy(page, () => page.click('a:has-text("orders")'), /prefix=raw%2Forders%2F/);
    const files = await page.$$eval('table.files td a', (els) => els.map((e) => e.textContent.trim()));
    assert.deepEqual(files, ['📄 2026-09.csv', '📄 2026-10.csv']);
    await shot(page, 'repo-files');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('table.files tr:has-text("2026-09.csv") button')]);
    const body = fs.readFileSync(await download.path(), 'utf8');
    assert.equal(download.suggestedFilename(), '2026-09.csv');
    assert.equal(body.trim().split('\n').length, 61);
    await page.click('a:has-text("2026-10.csv")');
    await page.waitForSelector('.file-preview');
    assert.match(await page.textContent('.file-preview'), /^order_id,customer_id/);
    // The log of dev and the commit that raised the version.
    await go(page, '/repos/sales/commits?ref=dev');
    await shot(page, 'repo-commits');
    await navigateBy(page, () => page.click('a:has-text("orders 1.1.0")'), /\/repos\/sales\/commits\/[0-9a-f]{64}$/);
    await page.waitForSelector('.diff .line.add');
    const added = await page.$$eval('.diff .line.add', (els) => els.map((e) => e.textContent));
    assert.ok(added.some((l) => l.includes('version: 1.1.0')), added.join('\n'));
    assert.ok(added.some((l) => l.includes('volume within plan')), added.join('\n'));
    const removed = await page.$$eval('.diff .line.del', (els) => els.map((e) => e.textContent));
    assert.ok(removed.some((l) => l.includes('version: 1.0.0')));
    await shot(page, 'commit-diff');
    // main against dev.
    await go(page, '/repos/sales/compare?left=main&right=dev');
    const changes = await page.$$eval('.change-head code', (els) => els.map((e) => e.textContent));
    assert.ok(changes.includes('raw/orders/2026-11.csv') && changes.includes('products/orders.yaml'), changes.join());
    await shot(page, 'compare');
  },

  // Clear pages for what does not exist, and for a server that is gone.
  async errors(page) {
    await signIn(page);
    await go(page, '/products/sales/no-such-product');
    assert.match(await page.textContent('.error-box'), /Not found/);
    assert.match(await page.textContent('.error-box'), /no-such-product/);
    await shot(page, 'error-no-product');
    await go(page, '/no/such/page');
    assert.match(await page.textContent('.error-box'), /Page not found/);
    await go(page, '/repos/nosuchrepo');
    assert.match(await page.textContent('.error-box'), /Not found/);
    await shot(page, 'error-page');
    // The API unreachable: the same page says so.
    await page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
    await go(page, '/');
    assert.match(await page.textContent('.error-box'), /lakemesh is unreachable/);
    await shot(page, 'error-unreachable');
  },
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
let failed = 0;
for (const name of only.length ? only : Object.keys(journeys)) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && problems.push('console: ' + m.text()));
  const started = Date.now();
  try {
    await journeys[name](page);
    assert.deepEqual(problems, [], 'the page logged errors');
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
    await shot(page, 'FAILED-' + name).catch(() => {});
  }
  await context.close();
}
await browser.close();
process.exit(failed ? 1 : 0);
