// The app's frame: who is signed in, which screen is open (a stack: Back pops it), the language,
// and the balance, kept live by `balanceChanged`.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { BalanceChanged, Me, SignOut } from './api/operations';
import { request, setToken, subscribe } from './api/graphql';
import { type Lang, type Texts, pickLang, texts } from './i18n';
import { isTelegram, setBack, telegramLanguage } from './telegram';
import type { FilterState } from './logic/filters';
import { EMPTY_FILTER } from './logic/filters';
import { CreateScreen } from './screens/Create';
import { GalleryScreen } from './screens/Gallery';
import { ViewerScreen } from './screens/Viewer';
import { BalanceScreen } from './screens/Balance';
import { AvatarsScreen } from './screens/Avatars';

export type Route =
  | { name: 'create'; avatarId?: string }
  | { name: 'avatars' }
  | { name: 'gallery' }
  | { name: 'viewer'; imageId: string }
  | { name: 'balance' };

interface AppState {
  t: Texts;
  lang: Lang;
  balance: number | null;
  filter: FilterState;
  setFilter: (filter: FilterState) => void;
  open: (route: Route) => void;
  back: () => void;
  refreshBalance: () => void;
}

export const App = createContext<AppState>(null as unknown as AppState);
export const useApp = (): AppState => useContext(App);

const TABS = ['create', 'gallery', 'avatars', 'balance'] as const;
type Tab = (typeof TABS)[number];
const isTab = (name: Route['name']): name is Tab => (TABS as readonly string[]).includes(name);

export function Shell({ token, onSignOut }: { token: string; onSignOut: () => void }) {
  const [lang, setLang] = useState<Lang>(() =>
    pickLang(localStorage.getItem('aisha-lang') ?? telegramLanguage() ?? navigator.language),
  );
  const [stack, setStack] = useState<Route[]>([{ name: 'create' }]);
  const [balance, setBalance] = useState<number | null>(null);
  const [filter, setFilter] = useState<FilterState>(EMPTY_FILTER);
  const t = texts(lang);
  const route = stack[stack.length - 1] ?? { name: 'create' };

  const refreshBalance = () => {
    request(Me, {}).then((data) => setBalance(data.me.balance)).catch(() => {});
  };
  useEffect(() => {
    setToken(token);
    refreshBalance();
    return subscribe(BalanceChanged, {}, (data) => setBalance(data.balanceChanged.balance));
  }, [token]);

  const open = (next: Route) => setStack((s) => (isTab(next.name) ? [next] : [...s, next]));
  const back = () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
  useEffect(() => {
    setBack(stack.length > 1 ? back : null);
    document.documentElement.lang = lang;
  }, [stack.length, lang]);
  useEffect(() => {
    const keys = (event: KeyboardEvent) => event.key === 'Escape' && stack.length > 1 && back();
    addEventListener('keydown', keys);
    return () => removeEventListener('keydown', keys);
  }, [stack.length]);

  const switchLang = () => {
    const next = lang === 'en' ? 'ru' : 'en';
    localStorage.setItem('aisha-lang', next);
    setLang(next);
  };
  const signOut = async () => {
    await request(SignOut, {}).catch(() => {});
    onSignOut();
  };

  return (
    <App.Provider value={{ t, lang, balance, filter, setFilter, open, back, refreshBalance }}>
      <header class="bar">
        <h1>{t.appName}</h1>
        <button class="chip" onClick={() => open({ name: 'balance' })}>
          <span class="sr-only">{t.balance}: </span>
          {balance === null ? '…' : t.credits(balance)}
        </button>
        <button class="link" onClick={switchLang}>
          <span class="sr-only">{t.language}: </span>
          {lang === 'en' ? 'RU' : 'EN'}
        </button>
        {!isTelegram() && <button class="link" onClick={signOut}>{t.signOut}</button>}
      </header>
      <nav class="tabs" aria-label="AISHA">
        {TABS.map((name) => (
          <button
            key={name}
            class={route.name === name ? 'tab active' : 'tab'}
            aria-current={route.name === name ? 'page' : undefined}
            onClick={() => open({ name })}
          >
            {t[name]}
          </button>
        ))}
      </nav>
      <main>
        {route.name === 'create' && <CreateScreen avatarId={route.avatarId ?? null} />}
        {route.name === 'avatars' && <AvatarsScreen />}
        {route.name === 'gallery' && <GalleryScreen />}
        {route.name === 'viewer' && <ViewerScreen imageId={route.imageId} />}
        {route.name === 'balance' && <BalanceScreen />}
      </main>
    </App.Provider>
  );
}
