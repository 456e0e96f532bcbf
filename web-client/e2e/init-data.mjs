// Launch parameters as Telegram passes them, with initData signed by the bot token.
import { createHmac } from 'node:crypto';

export function signInitData(token, fields) {
  const p = new URLSearchParams({ auth_date: String(Math.floor(Date.now() / 1000)), signature: 'e2e', ...fields });
  const dcs = [...p].map(([k, v]) => `${k}=${v}`).sort().join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(token).digest();
  p.set('hash', createHmac('sha256', secret).update(dcs).digest('hex'));
  return p.toString();
}

export function launchHash(token, user, theme) {
  const initData = signInitData(token, { query_id: 'AAE2E', user: JSON.stringify(user) });
  return new URLSearchParams({
    tgWebAppData: initData, tgWebAppVersion: '8.0', tgWebAppPlatform: 'tdesktop',
    tgWebAppThemeParams: JSON.stringify(theme),
  }).toString();
}
