// Boot: Telegram's launch parameters are read first (before anything changes the address), then
// the session: inside Telegram by signInWithTelegram(initData), elsewhere by a token kept in
// storage (a `?token=` in the address is taken and removed from it).
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, request, setToken } from './api/graphql';
import { Me, SignInWithTelegram } from './api/operations';
import { Shell } from './app';
import { pickLang, texts } from './i18n';
import { initData, isTelegram, start, telegramLanguage } from './telegram';
import './style.css';

const KEY = 'aisha-token';

function takeTokenFromAddress(): string | null {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token === null) return null;
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
  return token;
}

async function session(): Promise<string | null> {
  if (isTelegram()) {
    const signed = await request(SignInWithTelegram, { initData: initData() });
    return signed.signInWithTelegram.token;
  }
  return takeTokenFromAddress() ?? localStorage.getItem(KEY);
}

async function valid(token: string): Promise<boolean> {
  setToken(token);
  try {
    await request(Me, {});
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') return false;
    throw error;
  }
}

function SignIn({ onToken, failed }: { onToken: (token: string) => void; failed: boolean }) {
  const t = texts(pickLang(telegramLanguage() ?? navigator.language));
  const [value, setValue] = useState('');
  return (
    <main>
      <section class="card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t.signInTitle}</h1>
        <p>{t.signInHint}</p>
        <form onSubmit={(e) => { e.preventDefault(); onToken(value.trim()); }}>
          <label>{t.token}
            <input id="token" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
          </label>
          <button class="primary" disabled={!value.trim()}>{t.signIn}</button>
        </form>
        {failed && <p class="error" role="alert">{t.badToken}</p>}
      </section>
    </main>
  );
}

function Root({ initial }: { initial: string | null }) {
  const [token, setSession] = useState(initial);
  const [failed, setFailed] = useState(false);
  const signOut = () => {
    localStorage.removeItem(KEY);
    setToken('');
    setSession(null);
  };
  const tryToken = async (candidate: string) => {
    const ok = await valid(candidate).catch(() => false);
    setFailed(!ok);
    if (!ok) return;
    localStorage.setItem(KEY, candidate);
    setSession(candidate);
  };
  return token ? <Shell token={token} onSignOut={signOut} /> : <SignIn onToken={(t) => void tryToken(t)} failed={failed} />;
}

start();
const root = document.getElementById('app');
session()
  .then(async (token) => {
    if (token && !isTelegram() && !(await valid(token))) {
      localStorage.removeItem(KEY);
      return null;
    }
    if (token && !isTelegram()) localStorage.setItem(KEY, token);
    return token;
  })
  .catch(() => null)
  .then((token) => root && render(<Root initial={token} />, root));
