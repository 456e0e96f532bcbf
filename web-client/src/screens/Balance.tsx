// Balance: the balance (live, from the frame), the ledger, the Stars packages and a top-up that
// opens the invoice inside Telegram. Outside Telegram, top-up says to open the app there.
import { useEffect, useState } from 'preact/hooks';
import { type ResultOf, request } from '../api/graphql';
import { BalancePage, CreateInvoiceLink } from '../api/operations';
import { useApp } from '../app';
import { haptic, isTelegram, openInvoice, setMainButton } from '../telegram';
import { ErrorNote } from '../ui/ErrorNote';

type Page = ResultOf<typeof BalancePage>;

export function BalanceScreen() {
  const { t, balance, lang } = useApp();
  const [page, setPage] = useState<Page | null>(null);
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const load = () => request(BalancePage, {}).then(setPage).catch(setError);
  useEffect(() => {
    void load();
    setMainButton(null);
  }, [balance]);

  const buy = async (packageId: string) => {
    setError(null);
    setNote('');
    try {
      const { link } = (await request(CreateInvoiceLink, { packageId })).createStarsInvoiceLink;
      const status = await openInvoice(link);
      if (status === 'paid' || status === 'pending') {
        haptic('success');
        setNote(t.paid);
      } else {
        setNote(t.payCancelled);
      }
    } catch (e) {
      haptic('error');
      setError(e);
    }
  };
  const format = new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short' });

  return (
    <section aria-labelledby="balance-title">
      <h2 id="balance-title">{t.balance}: <span id="balance-now">{balance ?? page?.me.balance ?? '…'}</span></h2>
      <div class="card">
        <h3>{t.topUp}</h3>
        {isTelegram() ? (
          <div class="row">
            {page?.creditPackages.map((p) => (
              <button key={p.id} class="primary" onClick={() => void buy(p.id)}>{t.buy(p.credits, p.stars)}</button>
            ))}
          </div>
        ) : (
          <p id="open-in-telegram">{t.openInTelegram}</p>
        )}
        {note && <p role="status" id="payment-note">{note}</p>}
        <ErrorNote error={error} onRetry={() => void load()} />
      </div>
      <h3>{t.history}</h3>
      <table class="ledger">
        <thead><tr>{t.columns.map((name) => <th key={name} scope="col">{name}</th>)}</tr></thead>
        <tbody>
          {page?.me.transactions.edges.map(({ node }) => (
            <tr key={node.id}>
              <td>{format.format(new Date(node.createdAt))}</td>
              <td class={node.amount < 0 ? 'minus' : 'plus'}>{node.amount > 0 ? `+${node.amount}` : node.amount}</td>
              <td>{node.balanceAfter}</td>
              <td>{node.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
