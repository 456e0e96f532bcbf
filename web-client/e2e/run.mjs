// End to end: the real server (local provider, a fake Bot API), the built app, headless
// Chromium at 360 px with no network but 127.0.0.1. Every screen is walked as a user would,
// checked with axe-core (no serious or critical violation), and photographed into screenshots/.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startFakeBotApi } from './fake-bot-api.mjs';
import { launchHash } from './init-data.mjs';
import { png } from './png.mjs';

const started = Date.now();
const root = new URL('..', import.meta.url).pathname;
const bin = process.env.AISHA_BIN ?? join(root, '../target/debug/aisha');
const BOT_TOKEN = '5768337691:AAGDAe6rjxu1cUgxK4BizYi--Utc3J9v5AU';
const SECRET = 'e2e-webhook-secret';
const shots = join(root, 'screenshots');
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const botApi = await startFakeBotApi();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'aisha-e2e-'));
const env = {
  ...process.env, AISHA_BIND: `127.0.0.1:${port}`, AISHA_DATA_DIR: dataDir, AISHA_PUBLIC_URL: base,
  AISHA_LOCAL_LATENCY_MS: '2500', AISHA_LOCAL_IMAGE_SIZE: '256',
  // Cheap enough for the welcome bonus: a training and a picture with the avatar.
  AISHA_TRAINING_PRICE: '5', AISHA_MODEL_PRICES: 'fal-ai/flux-lora=1',
  TELEGRAM_BOT_TOKEN: BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET: SECRET, TELEGRAM_API_URL: botApi.url,
  TELEGRAM_BOT_USERNAME: 'aisha_e2e_bot', RUST_LOG: 'warn',
};
const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const stop = () => { server.kill(); botApi.close(); };
// Whatever ends the run, the server goes with it.
process.on('exit', () => server.kill());
for (let i = 0; i < 120; i++) {
  const up = await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false);
  if (up) break;
  await new Promise((r) => setTimeout(r, 250));
}
const token = execFileSync(bin, ['token', '--telegram-id', '5001', '--username', 'e2e'], { env }).toString().trim();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const foreign = [];
const steps = [];
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, locale: 'en-US' });
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1') return route.continue();
    foreign.push(route.request().url());
    return route.abort();
  });
  return context.newPage();
}
let current = null;
async function fail(message) {
  console.error(`e2e: ${message}`);
  const where = join(tmpdir(), 'aisha-e2e-failure.png');
  if (current) await current.screenshot({ path: where }).then(() => console.error(`the page then: ${where}`), () => {});
  await browser.close().catch(() => {});
  stop();
  process.exit(1);
}
async function step(name, work) {
  const at = Date.now();
  try {
    await work();
  } catch (error) {
    await fail(`${name}: ${error.message ?? error}`);
  }
  steps.push(`${name} (${((Date.now() - at) / 1000).toFixed(1)} s)`);
}
/** axe-core on the page as it is: serious and critical violations fail the run. */
async function accessible(page, screen) {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => (await window.axe.run()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
  if (violations.length) throw new Error(`${screen}: accessibility violations: ${violations.join('; ')}`);
}
async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

const page = await newPage();
current = page;

await step('sign in with a token, kept out of the address bar', async () => {
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await page.getByRole('button', { name: 'Balance', exact: true }).waitFor();
  await page.getByText('10 credits').waitFor({ timeout: 20000 });
  if (page.url().includes('token=')) throw new Error(`the token stayed in ${page.url()}`);
  await accessible(page, 'create');
});

await step('create two pictures and watch the bar reach 100 %', async () => {
  await page.selectOption('#model', 'local/sketch');
  await page.fill('#prompt', 'a lighthouse at dawn, drawn by the e2e run');
  await page.selectOption('#count', '2');
  await page.getByText('Balance after: 8').waitFor();
  await page.click('#create-button');
  const job = page.locator('li.job').first();
  await job.locator('[role=progressbar][aria-valuenow="100"]').waitFor({ timeout: 30000 });
  await job.locator('.stage', { hasText: 'Done' }).waitFor();
  await job.locator('img').nth(1).waitFor();
  await shoot(page, 'create');
  // Again: the same prompt and count, whatever the form says now.
  await page.fill('#prompt', 'something else');
  await job.locator('button.again').click();
  await page.locator('li.job:nth-child(2)').waitFor();
  const again = page.locator('li.job').first();
  await again.locator('.prompt', { hasText: 'a lighthouse at dawn' }).waitFor();
  await again.locator('[role=progressbar][aria-valuenow="100"]').waitFor({ timeout: 30000 });
});

await step('cancel a generation while it runs', async () => {
  await page.fill('#prompt', 'a picture to cancel');
  await page.selectOption('#count', '1');
  await page.click('#create-button');
  await page.locator('li.job:nth-child(3)').waitFor();
  const job = page.locator('li.job').first();
  await job.locator('.prompt', { hasText: 'a picture to cancel' }).waitFor();
  await job.locator('button.cancel').click({ timeout: 10000 });
  await job.locator('.stage', { hasText: 'Cancelled' }).waitFor({ timeout: 15000 });
  await page.getByText('6 credits').waitFor({ timeout: 10000 });
});

await step('find them in the gallery, filter, save the filter and pick it again', async () => {
  await page.getByRole('button', { name: 'Gallery', exact: true }).click();
  await page.locator('#total', { hasText: '(4)' }).waitFor({ timeout: 15000 });
  await page.locator('#gallery .cell').nth(3).waitFor();
  await page.locator('#stats', { hasText: '4 pictures' }).waitFor();
  await accessible(page, 'gallery');
  await shoot(page, 'gallery');
  await page.selectOption('#filter-type', 'VIDEO');
  await page.locator('#total', { hasText: '(0)' }).waitFor();
  await page.selectOption('#filter-type', 'LOCAL');
  await page.locator('#total', { hasText: '(4)' }).waitFor();
  await page.fill('#filter-name', 'Local only');
  await page.click('#save-filter');
  await page.locator('#saved-filters option', { hasText: 'Local only' }).waitFor({ state: 'attached' });
  await page.selectOption('#filter-type', '');
  const saved = await page.locator('#saved-filters option', { hasText: 'Local only' }).getAttribute('value');
  await page.selectOption('#saved-filters', saved);
  if ((await page.inputValue('#filter-type')) !== 'LOCAL') throw new Error('the saved filter was not applied');
});

await step('open the viewer, go next and previous, favourite, delete', async () => {
  await page.locator('#gallery .cell').first().click();
  await page.locator('#position', { hasText: '1 / 4' }).waitFor();
  await page.keyboard.press('ArrowRight');
  await page.locator('#position', { hasText: '2 / 4' }).waitFor();
  await page.click('#previous');
  await page.locator('#position', { hasText: '1 / 4' }).waitFor();
  await page.click('#favourite');
  await page.locator('#favourite[aria-pressed="true"]').waitFor();
  await accessible(page, 'viewer');
  await shoot(page, 'viewer');
  await page.click('#delete');
  await page.click('#confirm-delete');
  await page.locator('#position', { hasText: '1 / 3' }).waitFor();
});

await step('create an avatar, upload 10 photos and a bad file, train it, create with it', async () => {
  await page.getByRole('button', { name: 'Avatars', exact: true }).click();
  await page.fill('#avatar-name', 'Me');
  await page.click('#create-avatar');
  const card = page.locator('article.avatar', { hasText: 'Me' });
  await card.waitFor();
  const photos = Array.from({ length: 10 }, (_, i) => ({ name: `me-${i}.png`, mimeType: 'image/png', buffer: png(i + 1) }));
  photos.push({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  await card.locator('input.photos').setInputFiles(photos);
  await card.locator('.photo-count', { hasText: '10 of 10–20' }).waitFor({ timeout: 20000 });
  await card.locator('.photos-list li.rejected', { hasText: 'notes.txt' }).waitFor();
  await accessible(page, 'avatars');
  await shoot(page, 'avatars');
  await card.locator('button.train', { hasText: 'Train for 5' }).click();
  await page.locator('article.avatar[data-status="READY"]').waitFor({ timeout: 40000 });
  await page.locator('article.avatar button.create-with').click();
  await page.locator('#model option', { hasText: 'avatar' }).first().waitFor({ state: 'attached' });
  await page.fill('#prompt', 'me on a mountain top');
  await page.click('#create-button');
  await page.locator('li.job').first().locator('[role=progressbar][aria-valuenow="100"]').waitFor({ timeout: 30000 });
});

await step('balance outside Telegram: the ledger, and top-up points to Telegram', async () => {
  await page.getByRole('button', { name: 'Balance', exact: true }).click();
  await page.locator('#open-in-telegram').waitFor();
  await page.locator('table.ledger tbody tr').first().waitFor();
  await accessible(page, 'balance');
  await shoot(page, 'balance');
});

await step('sign out really signs out', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#token').waitFor();
  await accessible(page, 'sign-in');
  await shoot(page, 'sign-in');
  const answer = await fetch(`${base}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { id } }' }),
  }).then((r) => r.json());
  if (answer.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED') throw new Error('the token still works');
});

const app = await newPage();
current = app;
await step('a Mini App signs in with initData, follows the theme and pays with Stars', async () => {
  await app.addInitScript(() => {
    window.__tgCalls = [];
    window.TelegramWebviewProxy = {
      postEvent: (type, data) => window.__tgCalls.push({ type, data: data ? JSON.parse(data) : undefined }),
    };
  });
  const theme = { bg_color: '#17212b', text_color: '#f5f5f5', hint_color: '#a0a9b4', link_color: '#6ab3f3',
    button_color: '#5288c1', button_text_color: '#ffffff', secondary_bg_color: '#232e3c' };
  const user = { id: 6001, first_name: 'Mini', username: 'mini_app_user', language_code: 'ru' };
  await app.goto(`${base}/#${launchHash(BOT_TOKEN, user, theme)}`);
  await app.getByText('10 кредитов').waitFor({ timeout: 20000 });
  const background = await app.evaluate(() => getComputedStyle(document.body).backgroundColor);
  if (background !== 'rgb(23, 33, 43)') throw new Error(`the theme was not followed: ${background}`);
  await app.waitForFunction(() => window.__tgCalls.some((c) => c.type === 'web_app_ready'));
  // Create's primary action is Telegram's main button.
  await app.waitForFunction(() => window.__tgCalls.some((c) => c.type === 'web_app_setup_main_button' && c.data?.is_visible));
  await app.getByRole('button', { name: 'Баланс', exact: true }).click();
  await app.locator('button.primary', { hasText: '⭐' }).first().click();
  const call = await app.waitForFunction(
    () => window.__tgCalls.find((c) => c.type === 'web_app_open_invoice'), null, { timeout: 15000 },
  ).then((h) => h.jsonValue());
  const invoice = botApi.invoices.find((i) => i.slug === call.data.slug);
  if (!invoice) throw new Error(`openInvoice was called with an unknown slug ${JSON.stringify(call.data)}`);
  const stars = invoice.prices[0].amount;
  const update = {
    update_id: 900001,
    message: {
      message_id: 77, date: Math.floor(Date.now() / 1000),
      chat: { id: 6001, type: 'private', first_name: 'Mini' },
      from: { id: 6001, is_bot: false, first_name: 'Mini', language_code: 'ru' },
      successful_payment: { currency: 'XTR', total_amount: stars, invoice_payload: invoice.payload,
        telegram_payment_charge_id: 'e2e-charge-1', provider_payment_charge_id: '' },
    },
  };
  const delivered = await fetch(`${base}/telegram/webhook`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(update),
  });
  if (!delivered.ok) throw new Error(`the webhook answered ${delivered.status}`);
  await app.evaluate((slug) => window.Telegram.WebView.receiveEvent('invoice_closed', { slug, status: 'paid' }), call.data.slug);
  await app.locator('#payment-note').waitFor();
  await app.locator('#balance-now', { hasText: /^(?!10$)\d+$/ }).waitFor({ timeout: 15000 });
  const haptics = await app.evaluate(() => window.__tgCalls.filter((c) => c.type === 'web_app_trigger_haptic_feedback').length);
  if (haptics === 0) throw new Error('no haptic feedback on the payment');
  await accessible(app, 'balance in Telegram');
  await shoot(app, 'balance-telegram');
});

await browser.close();
stop();
if (foreign.length) {
  console.error(`e2e: the app asked other hosts: ${foreign.join(', ')}`);
  process.exit(1);
}
console.log(`e2e passed in ${((Date.now() - started) / 1000).toFixed(1)} s:\n  ${steps.join('\n  ')}`);
console.log(`screenshots: ${shots}/{create,gallery,viewer,avatars,balance,sign-in,balance-telegram}.png`);
