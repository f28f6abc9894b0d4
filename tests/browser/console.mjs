// Browser test of the web console, driven by tests/tests/console.rs against
// real gateway processes: Debian's chromium through playwright-core.
//
// Env: OPEN_URL (a gateway with auth off), AUTH_URL (auth on), READ_KEY and
// WRITE_KEY (`id:secret` of the auth gateway), SCREENSHOTS (directory for
// the page screenshots), CHROMIUM (default /usr/bin/chromium).
// Prints one line per check and exits 1 at the first failure.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPEN = process.env.OPEN_URL;
const AUTH = process.env.AUTH_URL;
const SHOTS = process.env.SCREENSHOTS;
const TIMEOUT = 10_000;
if (!OPEN || !AUTH || !process.env.READ_KEY || !process.env.WRITE_KEY) {
  console.error('OPEN_URL, AUTH_URL, READ_KEY and WRITE_KEY are required');
  process.exit(2);
}

function check(ok, what) {
  if (!ok) throw new Error(`FAILED: ${what}`);
  console.log(`ok: ${what}`);
}

async function post(base, records, key) {
  const headers = { 'content-type': 'application/json', 'x-emitter': 'browser-test' };
  if (key) headers.authorization = `Bearer ${key}`;
  const resp = await fetch(`${base}/v1/logs`, { method: 'POST', headers, body: JSON.stringify(records) });
  if (resp.status !== 200) throw new Error(`POST /v1/logs: ${resp.status} ${await resp.text()}`);
}

const profile = mkdtempSync(join(tmpdir(), 'logops-chromium-'));
// A fresh --user-data-dir (Playwright passes the profile directory as that flag).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
const errors = [];
let allowed401 = false;
function watch(page) {
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every refused fetch; the wrong key's 401 is the point of that step.
    if (allowed401 && /status of 401/.test(m.text())) return;
    errors.push(`console error: ${m.text()}`);
  });
}
const shot = async (page, name) => {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  console.log(`screenshot: ${name}.png`);
};
const number = async (page, sel) => Number((await page.textContent(sel)).replace(/[^0-9.]/g, ''));

try {
  const page = context.pages()[0] || (await context.newPage());
  watch(page);

  // --- page weight: what a first visit transfers (compressed) -----------------------
  const assets = [];
  page.on('requestfinished', (req) => {
    if (!new URL(req.url()).pathname.startsWith('/ui/')) return;
    assets.push(req.sizes().then((s) => ({ url: new URL(req.url()).pathname, bytes: s.responseBodySize + s.responseHeadersSize })));
  });
  await page.goto(`${OPEN}/`, { waitUntil: 'networkidle' });
  assets.splice(0, assets.length, ...(await Promise.all(assets)));
  check(new URL(page.url()).pathname === '/ui/', `GET / from a browser lands on the console (${page.url()})`);
  const weight = assets.reduce((a, b) => a + b.bytes, 0);
  console.log(`page weight: ${weight} bytes over ${assets.length} requests: ${assets.map((a) => `${a.url} ${a.bytes}`).join(', ')}`);
  check(weight > 0 && weight <= 300 * 1024, `the console transfers ${(weight / 1024).toFixed(1)} KiB (≤ 300 KiB)`);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    writeFileSync(join(SHOTS, 'page-weight.json'), JSON.stringify({ bytes: weight, requests: assets }, null, 2) + '\n');
  }

  // --- overview: counters move when records arrive --------------------------------
  await page.waitForFunction(() => /\d/.test(document.querySelector('#ov-accepted')?.textContent || ''), null, { timeout: TIMEOUT });
  const before = await number(page, '#ov-accepted');
  await post(OPEN, Array.from({ length: 7 }, (_, i) => ({ level: i % 2 ? 'error' : 'info', msg: `overview ${i}` })));
  await page.waitForFunction((n) => Number(document.querySelector('#ov-accepted').textContent.replace(/[^0-9]/g, '')) >= n, before + 7, { timeout: TIMEOUT });
  check((await number(page, '#ov-accepted')) === before + 7, `overview: accepted went from ${before} to ${before + 7}`);
  const bad = await fetch(`${OPEN}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{' });
  check(bad.status === 400, 'a broken batch is refused');
  await page.waitForFunction(() => Number(document.querySelector('#ov-rejected').textContent.replace(/[^0-9]/g, '')) >= 1, null, { timeout: TIMEOUT });
  check((await page.textContent('.panels')).includes('invalid_json'), 'overview: the rejection is listed by reason');
  await page.waitForTimeout(1500); // let the charts draw a few seconds
  check((await page.locator('.chart canvas').count()) >= 6, 'overview: the live charts are drawn');
  await shot(page, 'overview');

  // --- keyboard navigation and labels ----------------------------------------------
  await page.focus('nav a[data-page="search"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#q');
  check(page.url().endsWith('#/search'), 'the navigation works from the keyboard');
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select')]
      .filter((e) => e.type !== 'hidden' && !e.closest('dialog') && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
      .map((e) => e.id || e.outerHTML));
  check(unlabelled.length === 0, `every search control has a label (${unlabelled.join(', ') || 'all'})`);

  // --- search returns the expected rows ----------------------------------------------
  const marker = `needle${Date.now()}`;
  await post(OPEN, [
    { level: 'error', msg: `${marker} one`, service: 'api' },
    { level: 'error', msg: `${marker} two`, service: 'api' },
    { level: 'info', msg: `${marker} three`, service: 'api' },
    { level: 'error', msg: 'unrelated', service: 'api' },
  ]);
  await page.fill('#q', `{level="ERROR"} |= "${marker}"`);
  await page.selectOption('#range', '15m');
  await page.click('form.query button[type="submit"]');
  await page.waitForFunction(() => /lines/.test(document.querySelector('#search-status').textContent), null, { timeout: TIMEOUT });
  const rows = await page.locator('#results tr.row .msg').allTextContents();
  check(rows.length === 2 && rows.every((r) => r.startsWith(marker)), `search: ${rows.length} rows ${JSON.stringify(rows)}`);
  check((await page.locator('#results .lvl-error').count()) === 2, 'search: ERROR rows carry the error colour');
  await page.locator('#results tr.row').first().press('Enter');
  const detail = await page.textContent('#results tr.detail pre');
  check(JSON.parse(detail).msg === `${marker} two`, 'search: a row opens as pretty JSON (newest first)');
  await page.waitForFunction(() => Number(document.querySelector('.histo').dataset.total) >= 2, null, { timeout: TIMEOUT });
  check(true, 'search: the histogram counts the 2 matches');
  await shot(page, 'search');

  // --- live tail shows a line within a second of its POST ------------------------------
  await page.click('nav a[data-page="tail"]');
  await page.click('#tail-start');
  await page.waitForFunction(() => /Tailing/.test(document.querySelector('#tail-state').textContent), null, { timeout: TIMEOUT });
  const tailMarker = `tail${Date.now()}`;
  const t0 = Date.now();
  await post(OPEN, [{ level: 'warn', msg: `${tailMarker} live` }]);
  await page.waitForFunction((m) => document.querySelector('#tail-lines').textContent.includes(m), tailMarker, { timeout: TIMEOUT });
  const latency = Date.now() - t0;
  console.log(`tail latency: ${latency} ms from POST to the line on screen`);
  check(latency < 1000, `live tail: the line is shown ${latency} ms after its POST (< 1000 ms)`);
  await page.click('#tail-pause');
  await post(OPEN, [{ msg: `${tailMarker} held 1` }, { msg: `${tailMarker} held 2` }]);
  await page.waitForFunction(() => /2 lines behind/.test(document.querySelector('#tail-behind').textContent), null, { timeout: TIMEOUT });
  check(!(await page.textContent('#tail-lines')).includes('held 1'), 'live tail: paused, new lines wait and are counted (2 lines behind)');
  await page.click('#tail-pause');
  check((await page.textContent('#tail-lines')).includes('held 2'), 'live tail: resuming shows the held lines');
  await page.fill('#tail-filter', 'held 2');
  check((await page.locator('#tail-lines li:visible').count()) === 1, 'live tail: the filter hides the other lines');
  await page.fill('#tail-filter', '');
  await shot(page, 'tail');
  await page.click('#tail-start');

  // --- files ---------------------------------------------------------------------
  await page.click('nav a[data-page="files"]');
  await page.waitForSelector('#files table', { timeout: TIMEOUT });
  check(/\d{8}\.ndjson/.test(await page.textContent('#files')), 'files: today\'s day file is listed');
  await shot(page, 'files');

  // --- phone width --------------------------------------------------------------------
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('nav a[data-page="overview"]');
  await page.waitForFunction(() => /\d/.test(document.querySelector('#ov-accepted')?.textContent || ''), null, { timeout: TIMEOUT });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `overview at phone width has no horizontal scroll (${overflow} px)`);
  await page.waitForTimeout(500);
  await shot(page, 'overview-phone');
  await page.close();

  // --- auth on: a key is asked for once, a wrong one is refused ------------------------
  // A new tab: its own sessionStorage, so no key yet.
  const ap = await context.newPage();
  watch(ap);
  allowed401 = true;
  await ap.goto(`${AUTH}/ui/`);
  await ap.waitForSelector('#login[open]', { timeout: TIMEOUT });
  check(true, 'auth on: the console asks for a read key');
  const [id, secret] = process.env.READ_KEY.split(':');
  await ap.fill('#key-id', id);
  await ap.fill('#key-secret', 'wrong-secret');
  await ap.click('#login button[type="submit"]');
  await ap.waitForFunction(() => /rejected/i.test(document.querySelector('#login-error').textContent), null, { timeout: TIMEOUT });
  check(await ap.isVisible('#login[open]'), `auth on: a wrong key is rejected (${await ap.textContent('#login-error')})`);
  check((await ap.evaluate(() => sessionStorage.getItem('logops.key'))) === null, 'auth on: a rejected key is not kept');
  await ap.fill('#key-secret', secret);
  await ap.click('#login button[type="submit"]');
  await ap.waitForSelector('#login', { state: 'hidden', timeout: TIMEOUT });
  allowed401 = false;
  await post(AUTH, [{ msg: 'auth overview' }], process.env.WRITE_KEY);
  await ap.waitForFunction(() => Number(document.querySelector('#ov-accepted')?.textContent.replace(/[^0-9]/g, '') || 0) >= 1, null, { timeout: TIMEOUT });
  check(true, 'auth on: with the right key the overview shows the counters');
  const urls = [];
  ap.on('request', (r) => urls.push(r.url()));
  await ap.reload();
  await ap.waitForFunction(() => /\d/.test(document.querySelector('#ov-accepted')?.textContent || ''), null, { timeout: TIMEOUT });
  check(!(await ap.isVisible('#login[open]')), 'auth on: the key is asked once (kept for the session)');
  check(urls.every((u) => !u.includes(secret)), 'auth on: the key never appears in a URL');
  await ap.click('nav a[data-page="tail"]');
  await ap.click('#tail-start');
  await ap.waitForFunction(() => /Tailing/.test(document.querySelector('#tail-state').textContent), null, { timeout: TIMEOUT });
  await post(AUTH, [{ msg: 'auth tail line' }], process.env.WRITE_KEY);
  await ap.waitForFunction(() => document.querySelector('#tail-lines').textContent.includes('auth tail line'), null, { timeout: TIMEOUT });
  check(true, 'auth on: the live tail streams with the key in a header');
  await ap.click('#tail-start');

  check(errors.length === 0, `no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
} catch (e) {
  console.error(e.message);
  if (errors.length) console.error(`console errors: ${errors.join(' | ')}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
