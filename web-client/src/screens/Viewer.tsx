// Viewer: one picture (or clip) full size within the gallery's filter: "3 / 17", previous and
// next (buttons, arrow keys, a swipe), favourite, delete with confirmation, the prompt, download.
import { useEffect, useRef, useState } from 'preact/hooks';
import { readFragment } from 'gql.tada';
import { type ResultOf, request } from '../api/graphql';
import { DeleteImage, ImageFields, SetFavorite, ViewerImage } from '../api/operations';
import { useApp } from '../app';
import { toVariables } from '../logic/filters';
import { haptic, setMainButton } from '../telegram';
import { ErrorNote } from '../ui/ErrorNote';

type Loaded = ResultOf<typeof ViewerImage>['image'];

export function ViewerScreen({ imageId }: { imageId: string }) {
  const { t, filter, back } = useApp();
  const [id, setId] = useState(imageId);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [favorite, setFavorite] = useState(false);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const touch = useRef<number | null>(null);
  const variables = toVariables(filter);

  useEffect(() => {
    setAsking(false);
    request(ViewerImage, { id, filter: variables })
      .then((data) => {
        setLoaded(data.image);
        setFavorite(readFragment(ImageFields, data.image).favorite);
        setError(null);
      })
      .catch(setError);
  }, [id]);

  const go = (to: { id: string } | null | undefined) => to && setId(to.id);
  useEffect(() => {
    const keys = (event: KeyboardEvent) => {
      if (event.key === 'ArrowLeft') go(loaded?.previous);
      if (event.key === 'ArrowRight') go(loaded?.next);
    };
    addEventListener('keydown', keys);
    return () => removeEventListener('keydown', keys);
  }, [loaded]);
  useEffect(() => {
    setMainButton(null);
  }, []);

  if (!loaded) return <ErrorNote error={error} onRetry={() => setId(`${id}`)} />;
  const image = readFragment(ImageFields, loaded);
  const toggle = async () => {
    try {
      setFavorite((await request(SetFavorite, { imageId: image.id, favorite: !favorite })).setFavorite.favorite);
    } catch (e) {
      setError(e);
    }
  };
  const remove = async () => {
    try {
      const neighbour = loaded.next ?? loaded.previous;
      await request(DeleteImage, { id: image.id });
      haptic('success');
      if (neighbour) setId(neighbour.id);
      else back();
    } catch (e) {
      haptic('error');
      setError(e);
    }
  };
  const video = image.contentType.startsWith('video/');

  return (
    <section aria-labelledby="viewer-title" class="viewer"
      onTouchStart={(e) => (touch.current = e.touches[0]?.clientX ?? null)}
      onTouchEnd={(e) => {
        const start = touch.current;
        const end = e.changedTouches[0]?.clientX;
        if (start !== null && end !== undefined && Math.abs(end - start) > 50) go(end < start ? loaded.next : loaded.previous);
      }}>
      <h2 id="viewer-title">
        <span id="position">{loaded.position ? t.position(loaded.position.index, loaded.position.total) : ''}</span>
      </h2>
      {video ? (
        <video src={image.url} poster={image.posterUrl ?? undefined} controls loop muted playsInline aria-label={image.prompt} />
      ) : (
        <img id="viewer-image" src={image.url} alt={image.prompt} width={image.width} height={image.height} />
      )}
      <div class="row">
        <button id="previous" onClick={() => go(loaded.previous)} disabled={!loaded.previous}>◀ {t.previous}</button>
        <button id="favourite" onClick={toggle} aria-pressed={favorite}>{favorite ? `❤️ ${t.unfavourite}` : `🤍 ${t.favourite}`}</button>
        <button id="next" onClick={() => go(loaded.next)} disabled={!loaded.next}>{t.next} ▶</button>
      </div>
      <div class="row">
        <a class="button" href={image.url} download>{t.download}</a>
        {asking ? (
          <span role="group" aria-label={t.confirmDelete}>
            {t.confirmDelete}{' '}
            <button id="confirm-delete" class="danger" onClick={remove}>{t.yesDelete}</button>
            <button onClick={() => setAsking(false)}>{t.keep}</button>
          </span>
        ) : (
          <button id="delete" class="danger" onClick={() => setAsking(true)}>🗑 {t.delete}</button>
        )}
      </div>
      <h3>{t.fullPrompt}</h3>
      <p class="prompt" id="full-prompt">{image.prompt}</p>
      <p class="muted">{image.model} · {image.aspectRatio}</p>
      <ErrorNote error={error} />
    </section>
  );
}
