// An error in words, with what can be done about it.
import { explain } from '../errors';
import { useApp } from '../app';

export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t, open } = useApp();
  if (!error) return null;
  const { text, action } = explain(error, t);
  return (
    <p class="error" role="alert">
      {text}{' '}
      {action === 'top-up' && <button class="link" onClick={() => open({ name: 'balance' })}>{t.topUp}</button>}
      {action === 'retry' && onRetry && <button class="link" onClick={onRetry}>{t.retry}</button>}
    </p>
  );
}
