// Opens GraphiQL in headless Chromium with no network but the server's, runs its default query
// (signed in with AISHA_TOKEN) and checks the answer. Fails if the page asks any other host.
import { openPage } from './browser.mjs';

const base = process.env.AISHA_BASE ?? 'http://127.0.0.1:8080';
const token = process.env.AISHA_TOKEN ?? '';
const { browser, page, foreign } = await openPage(base);
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
