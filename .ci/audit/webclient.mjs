// Drives the web client in headless Chromium with no network but the server's: signs in with
// AISHA_TOKEN, makes a local/sketch picture, waits for it in the gallery (progress came over the
// WebSocket), marks it a favourite and filters by favourites. Fails if the page asks another host.
import { openPage } from './browser.mjs';

const base = process.env.AISHA_BASE ?? 'http://127.0.0.1:8080';
const token = process.env.AISHA_TOKEN ?? '';
const { browser, page, foreign } = await openPage(base);
const fail = async (message) => {
  console.error(message);
  await browser.close();
  process.exit(1);
};
page.on('dialog', (dialog) => dialog.accept());
await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
await page.locator('#balance').getByText('10 credits').waitFor({ timeout: 20000 });
await page.selectOption('#model', 'local/sketch');
await page.fill('#prompt', 'a lighthouse drawn by the web client');
await page.click('#create-button');
const picture = page.locator('#gallery figure img').first();
await picture.waitFor({ timeout: 30000 });
await page.waitForFunction(() => {
  const img = document.querySelector('#gallery figure img');
  return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
}, null, { timeout: 20000 });
if ((await picture.getAttribute('alt')) !== 'a lighthouse drawn by the web client') await fail('the gallery shows another picture');
await page.locator('#gallery figure button', { hasText: '🤍' }).first().click();
await page.locator('#gallery figure button', { hasText: '❤️' }).first().waitFor({ timeout: 10000 });
await page.check('#filter-favorites');
await page.locator('#total').getByText('(1)').waitFor({ timeout: 10000 });
const balance = await page.locator('#balance').innerText();
await browser.close();
if (foreign.length > 0) {
  console.error(`the web client asked other hosts: ${foreign.join(', ')}`);
  process.exit(1);
}
console.log(`web client: signed in, made a picture (balance now ${balance}), saw it in the gallery, marked and filtered a favourite`);
