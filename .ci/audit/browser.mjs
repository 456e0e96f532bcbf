// Headless Chromium for the outside checks: a page that may talk to our server only. `foreign`
// collects any request to another host (the checks fail on it).
import { chromium } from 'playwright-core';

export async function openPage(base) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const foreign = [];
  const page = await browser.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('ws://127.0.0.1')) foreign.push(url);
  });
  return { browser, page, foreign };
}
