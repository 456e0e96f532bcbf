// The Telegram side, through @telegram-apps/sdk (bundled: nothing is fetched from a CDN). Inside
// Telegram the launch parameters are read before anything touches the address bar; outside,
// every call here is a no-op, so the same app runs in any browser.
import {
  backButton,
  hapticFeedback,
  init,
  invoice,
  mainButton,
  miniApp,
  retrieveLaunchParams,
  retrieveRawInitData,
  themeParams,
  viewport,
} from '@telegram-apps/sdk';

let inTelegram = false;
let rawInitData = '';
let languageCode: string | null = null;

/** An SDK call that may be unsupported by this client: tried, never fatal. */
function attempt(call: () => unknown): void {
  try {
    const result = call();
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // Unsupported in this client version, or outside Telegram.
  }
}

/** Reads the launch parameters (the hash, or the SDK's copy in sessionStorage) and sets up the client. */
export function start(): void {
  const launched = location.hash.includes('tgWebAppData') || sessionStorage.getItem('tapps/launchParams') !== null;
  if (!launched) return;
  try {
    init();
    rawInitData = retrieveRawInitData() ?? '';
    const params = retrieveLaunchParams(true);
    languageCode = params.tgWebAppData?.user?.languageCode ?? null;
    inTelegram = rawInitData !== '';
  } catch {
    inTelegram = false;
    return;
  }
  attempt(() => themeParams.mountSync());
  attempt(() => themeParams.bindCssVars());
  attempt(() => miniApp.mountSync());
  attempt(() => miniApp.bindCssVars());
  attempt(() => backButton.mount());
  attempt(() => mainButton.mount());
  // The viewport waits for the client's answers: it is never awaited.
  attempt(() => viewport.mount().then(() => viewport.bindCssVars()));
  attempt(() => miniApp.ready());
  document.documentElement.classList.add('in-telegram');
}

export const isTelegram = (): boolean => inTelegram;
export const initData = (): string => rawInitData;
export const telegramLanguage = (): string | null => languageCode;

let backHandler: (() => void) | null = null;

/** The header's back button: shown with a handler, hidden without. */
export function setBack(handler: (() => void) | null): void {
  if (!inTelegram) return;
  listenBack();
  backHandler = handler;
  attempt(() => (handler ? backButton.show() : backButton.hide()));
}

let backListening = false;
function listenBack(): void {
  if (backListening || !inTelegram) return;
  backListening = true;
  attempt(() => backButton.onClick(() => backHandler?.()));
}

let mainHandler: (() => void) | null = null;
let mainListening = false;

/** The bottom main button as the screen's primary action; null hides it. */
export function setMainButton(action: { text: string; enabled: boolean; run: () => void } | null): void {
  if (!inTelegram) return;
  listenBack();
  mainHandler = action?.run ?? null;
  if (!mainListening) {
    mainListening = true;
    attempt(() => mainButton.onClick(() => mainHandler?.()));
  }
  attempt(() =>
    mainButton.setParams(
      action ? { text: action.text, isVisible: true, isEnabled: action.enabled } : { isVisible: false },
    ),
  );
}

export function haptic(kind: 'success' | 'error'): void {
  if (inTelegram) attempt(() => hapticFeedback.notificationOccurred(kind));
}

/** Opens a Stars invoice link inside Telegram; what the client said ('paid', 'cancelled', …). */
export async function openInvoice(link: string): Promise<string> {
  return invoice.open(link, 'url');
}
