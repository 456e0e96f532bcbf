// The Bot API as the server under test needs it: getMe, sends (answered with messages), and
// createInvoiceLink (which remembers the payload, so the test can pay that very invoice).
import { createServer } from 'node:http';

export async function startFakeBotApi() {
  const invoices = [];
  let nextId = 100;
  const server = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const method = (request.url ?? '').split('/').pop()?.toLowerCase() ?? '';
    let params = {};
    try {
      params = body && request.headers['content-type']?.includes('json') ? JSON.parse(body) : {};
    } catch {
      params = {};
    }
    const chat = { id: Number(params.chat_id ?? 1), type: 'private', first_name: 'Test' };
    const message = (extra) => ({
      message_id: nextId++, date: Math.floor(Date.now() / 1000), chat,
      from: { id: 1, is_bot: true, first_name: 'AISHA', username: 'aisha_e2e_bot' }, ...extra,
    });
    let result = true;
    if (method === 'getme') {
      result = { id: 1, is_bot: true, first_name: 'AISHA', username: 'aisha_e2e_bot', can_join_groups: false,
        can_read_all_group_messages: false, supports_inline_queries: false };
    } else if (method === 'createinvoicelink') {
      const slug = `e2eInvoice${invoices.length + 1}`;
      invoices.push({ slug, ...params });
      result = `https://t.me/$${slug}`;
    } else if (method.startsWith('send')) {
      result = message({ text: params.text ?? '' });
    } else if (method.startsWith('edit')) {
      result = message({ text: params.text ?? '' });
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ok: true, result }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, invoices, close: () => server.close() };
}
