// Runs graphql-http's serverAudits against AISHA_URL (default http://127.0.0.1:8080/graphql)
// and exits non-zero on any MUST or SHOULD failure. Prints one line per audit.
import { serverAudits } from 'graphql-http';

const url = process.env.AISHA_URL ?? 'http://127.0.0.1:8080/graphql';
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  results.push({ name: audit.name, ...(await audit.fn()) });
}
let failed = 0;
for (const r of results) {
  const bad = r.status === 'error' || r.status === 'warn';
  if (bad) failed++;
  console.log(`${r.status.padEnd(5)} ${r.name}${bad ? `\n      ${r.reason}` : ''}`);
}
const count = (s) => results.filter((r) => r.status === s).length;
console.log(`graphql-http audit: ${count('ok')} ok, ${count('warn')} SHOULD failed, ${count('error')} MUST failed, ${count('notice')} notices`);
process.exit(failed ? 1 : 0);
