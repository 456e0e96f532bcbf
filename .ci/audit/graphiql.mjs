// Opens GraphiQL in headless Chromium with no network but the server's, runs its default query
// (signed in with AISHA_TOKEN) and checks the answer. Fails if the page asks any other host.
import { chromium } from 'playwright-core';

const base = process.env.AISHA_BASE ?? 'http://127.0.0.1:8080';
const token = process.env.AISHA_TOKEN ?? '';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const foreign = [];
const page = await browser.newPage();
page.on('request', (request) => {
  if (!request.url().startsWith(base) && !request.url().startsWith('data:') && !request.url().startsWith('ws://127.0.0.1')) {
    foreign.push(request.url());
  }
});
await page.goto(`${base}/graphiql?token=${encodeURIComponent(token)}`);
await page.locator('.graphiql-execute-button').click({ timeout: 20000 });
const result = page.locator('.result-window');
await result.getByText('"balance"').waitFor({ timeout: 20000 });
const text = await result.innerText();
await browser.close();
if (foreign.length > 0) {
  console.error(`GraphiQL asked other hosts: ${foreign.join(', ')}`);
  process.exit(1);
}
if (!text.includes('"balance": 10')) {
  console.error(`unexpected answer: ${text}`);
  process.exit(1);
}
console.log('GraphiQL: loaded from our server alone, ran the default query, answered with the balance');
