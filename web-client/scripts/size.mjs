// Prints the first load's JavaScript, gzipped, and fails above the budget (100 KB).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 100 * 1024;
const js = readFileSync(new URL('../dist/main.js', import.meta.url));
const css = readFileSync(new URL('../dist/style.css', import.meta.url));
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`first load: main.js ${kb(js.length)} (${kb(gz(js))} gzipped), style.css ${kb(css.length)} (${kb(gz(css))} gzipped)`);
if (gz(js) > BUDGET) {
  console.error(`main.js is over the budget of ${kb(BUDGET)} gzipped`);
  process.exit(1);
}
