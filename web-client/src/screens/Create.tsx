// Create: a model, a prompt, a format and a count; the price and the balance after before you
// pay; then live progress (queue position, percent) with cancel, and the result with "again",
// "favourite" and "open in gallery".
import { useEffect, useState } from 'preact/hooks';
import { readFragment } from 'gql.tada';
import { type ResultOf, request, subscribe } from '../api/graphql';
import {
  CancelGeneration, CreateGeneration, GenerationFields, GenerationUpdated, ImageFields, Models, SetFavorite,
} from '../api/operations';
import { useApp } from '../app';
import { type ProgressView, advance } from '../logic/progress';
import { haptic, setMainButton } from '../telegram';
import { ErrorNote } from '../ui/ErrorNote';

type Model = ResultOf<typeof Models>['models'][number];
type Generation = ResultOf<typeof GenerationFields>;

/** With `avatarId` (from the Avatars screen), the models that need an avatar, made with that one. */
export function CreateScreen({ avatarId }: { avatarId: string | null }) {
  const { t, balance, open } = useApp();
  const [models, setModels] = useState<Model[]>([]);
  const [modelId, setModelId] = useState('');
  const [prompt, setPrompt] = useState('');
  const [ratio, setRatio] = useState('1:1');
  const [count, setCount] = useState(1);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [jobs, setJobs] = useState<string[]>([]);

  const load = () =>
    request(Models, {})
      .then((data) => {
        // Video models start from a picture (the gallery's viewer); avatar models from an avatar.
        const offered = data.models.filter((m) => m.clipSeconds === null && m.requiresAvatar === (avatarId !== null));
        setModels(offered);
        setModelId((id) => id || (offered.find((m) => m.id === 'local/sketch') ?? offered[0])?.id || '');
        setError(null);
      })
      .catch(setError);
  useEffect(() => {
    setModelId('');
    void load();
  }, [avatarId]);

  const model = models.find((m) => m.id === modelId);
  const price = model ? model.pricePerImage * count : 0;
  const after = balance === null ? null : balance - price;
  const ready = !!model && prompt.trim().length > 0 && !busy;

  /** The form's generation, or (again) one like `like`. */
  const create = async (like?: Generation) => {
    if (!like && (!model || !ready)) return;
    setBusy(true);
    setError(null);
    try {
      const input = like
        ? { model: like.model, prompt: like.prompt, aspectRatio: like.aspectRatio, numImages: like.numImages, avatarId: like.avatarId }
        : { model: modelId, prompt: prompt.trim(), aspectRatio: ratio, numImages: count, avatarId };
      const made = readFragment(GenerationFields, (await request(CreateGeneration, { input })).createGeneration);
      setJobs((j) => [made.id, ...j]);
    } catch (e) {
      haptic('error');
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    setMainButton(model ? { text: t.createFor(price), enabled: ready, run: () => void create() } : null);
    return () => setMainButton(null);
  });

  return (
    <section aria-labelledby="create-title">
      <h2 id="create-title">{t.create}</h2>
      <form class="card" onSubmit={(e) => { e.preventDefault(); void create(); }}>
        <label>
          {t.model}
          <select id="model" value={modelId} onChange={(e) => setModelId(e.currentTarget.value)}>
            {models.map((m) => <option key={m.id} value={m.id}>{`${m.name} · ${m.pricePerImage}`}</option>)}
          </select>
        </label>
        <label>
          {t.prompt}
          <textarea
            id="prompt" rows={3} maxLength={2000} required value={prompt} placeholder={t.promptPlaceholder}
            onInput={(e) => setPrompt(e.currentTarget.value)}
          />
        </label>
        <div class="row">
          <label>
            {t.aspectRatio}
            <select id="ratio" value={ratio} onChange={(e) => setRatio(e.currentTarget.value)}>
              {(model?.aspectRatios ?? ['1:1']).map((r) => <option key={r}>{r}</option>)}
            </select>
          </label>
          <label>
            {t.count}
            <select id="count" value={count} onChange={(e) => setCount(Number(e.currentTarget.value))}>
              {Array.from({ length: model?.maxImages ?? 1 }, (_, i) => <option key={i} value={i + 1}>{i + 1}</option>)}
            </select>
          </label>
        </div>
        <p class="muted" id="price">
          {t.price}: {price}{after !== null && ` · ${t.balanceAfter}: ${after}`}
        </p>
        <button id="create-button" class="primary" disabled={!ready}>{t.createFor(price)}</button>
        <ErrorNote error={error} onRetry={() => (models.length ? void create() : void load())} />
      </form>
      <ul class="jobs" aria-live="polite">
        {jobs.map((id) => (
          <Job key={id} id={id} onAgain={(like) => void create(like)} onOpen={(imageId) => open({ name: 'viewer', imageId })} />
        ))}
      </ul>
    </section>
  );
}

function Job({ id, onAgain, onOpen }: {
  id: string;
  onAgain: (like: Generation) => void;
  onOpen: (imageId: string) => void;
}) {
  const { t, refreshBalance } = useApp();
  const [view, setView] = useState<ProgressView | null>(null);
  const [generation, setGeneration] = useState<Generation | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [favorites, setFavorites] = useState<Record<string, boolean>>({});

  useEffect(
    () =>
      subscribe(GenerationUpdated, { id }, (data) => {
        const g = readFragment(GenerationFields, data.generationUpdated);
        setGeneration(g);
        setView((v) => {
          const next = advance(v, {
            status: g.status, progress: g.progress, queuePosition: g.queuePosition, eta: g.eta, error: g.error,
          });
          if (next.finished && !v?.finished) {
            haptic(next.stage === 'done' ? 'success' : 'error');
            refreshBalance();
          }
          return next;
        });
      }, setError),
    [id],
  );

  const cancel = () => request(CancelGeneration, { id }).catch(setError);
  const favourite = async (imageId: string, favorite: boolean) => {
    try {
      const changed = await request(SetFavorite, { imageId, favorite });
      setFavorites((f) => ({ ...f, [imageId]: changed.setFavorite.favorite }));
    } catch (e) {
      setError(e);
    }
  };
  const stage = view?.stage ?? 'waiting';
  const label =
    stage === 'queued' ? t.queued(view?.queuePosition ?? null)
    : stage === 'drawing' ? t.drawing
    : stage === 'done' ? t.done
    : stage === 'failed' ? `${t.failed}: ${view?.error ?? ''}`
    : stage === 'cancelled' ? t.cancelled
    : t.waiting;
  const images = generation?.images.map((i) => readFragment(ImageFields, i)) ?? [];

  return (
    <li class="card job" data-status={generation?.status ?? 'PENDING'}>
      <p class="prompt">{generation?.prompt ?? '…'}</p>
      <div
        class="progress" role="progressbar" aria-label={label}
        aria-valuemin={0} aria-valuemax={100} aria-valuenow={view?.percent ?? 0}
      >
        <div style={{ width: `${view?.percent ?? 0}%` }} />
      </div>
      <p class="muted">
        <span class="stage">{label}</span> · <span class="percent">{view?.percent ?? 0}%</span>
        {view?.eta ? ` · ${t.secondsLeft(view.eta)}` : ''}
      </p>
      {view && !view.finished && <button class="cancel" onClick={cancel}>{t.cancel}</button>}
      {images.length > 0 && (
        <div class="grid small">
          {images.map((image) => {
            const favorite = favorites[image.id] ?? image.favorite;
            return (
              <figure key={image.id}>
                <img src={image.url} alt={image.prompt} width={image.width} height={image.height} />
                <div class="row">
                  <button onClick={() => void favourite(image.id, !favorite)} aria-pressed={favorite}>
                    {favorite ? `❤️ ${t.unfavourite}` : `🤍 ${t.favourite}`}
                  </button>
                  <button onClick={() => onOpen(image.id)}>{t.openInGallery}</button>
                </div>
              </figure>
            );
          })}
        </div>
      )}
      {view?.finished && generation && <button class="again" onClick={() => onAgain(generation)}>{t.again}</button>}
      <ErrorNote error={error} />
    </li>
  );
}
