// Gallery: a virtualised grid over the whole connection (only the rows on screen are in the
// page, so thousands of pictures scroll smoothly), filters, saved filters and statistics.
import { useEffect, useRef, useState } from 'preact/hooks';
import { readFragment } from 'gql.tada';
import { type ResultOf, request } from '../api/graphql';
import { DeleteSavedFilter, Gallery, GalleryStats, ImageFields, Models, SaveFilter, SavedFilters } from '../api/operations';
import { useApp } from '../app';
import { EMPTY_FILTER, type FilterState, type ImageType, type Period, fromSaved, isEmpty, toVariables } from '../logic/filters';
import { START, type Paged, append, visibleRows } from '../logic/paging';
import { ErrorNote } from '../ui/ErrorNote';

type Image = ResultOf<typeof ImageFields>;
type Saved = ResultOf<typeof SavedFilters>['savedFilters'][number];
// A page stays well inside the query budget (each picture signs two links).
const PAGE = 20;
const TYPES: ImageType[] = ['IMAGEN4', 'FLUX', 'IDEOGRAM', 'AVATAR', 'VIDEO', 'LOCAL'];
const RATIOS = ['1:1', '16:9', '9:16', '3:4', '4:3'];

export function GalleryScreen() {
  const { t, filter, setFilter, open } = useApp();
  const [paged, setPaged] = useState<Paged<Image>>(START);
  const [total, setTotal] = useState<number | null>(null);
  const [stats, setStats] = useState<ResultOf<typeof GalleryStats>['galleryStats'] | null>(null);
  const [saved, setSaved] = useState<Saved[]>([]);
  const [models, setModels] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [filterName, setFilterName] = useState('');
  const loading = useRef(false);
  const generation = useRef(0);

  const variables = toVariables(filter);
  const key = JSON.stringify(variables);
  const loadMore = async (from: Paged<Image>, run: number) => {
    if (loading.current || from.done) return;
    loading.current = true;
    try {
      const data = await request(Gallery, { filter: variables, first: PAGE, after: from.cursor });
      if (run !== generation.current) return;
      const items = data.gallery.edges.map((e) => readFragment(ImageFields, e.node));
      setTotal(data.gallery.totalCount);
      setPaged(append(from, { items, ...data.gallery.pageInfo }));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      loading.current = false;
    }
  };
  useEffect(() => {
    const run = ++generation.current;
    loading.current = false;
    setPaged(START);
    void loadMore(START, run);
    request(GalleryStats, { filter: variables }).then((d) => setStats(d.galleryStats)).catch(() => {});
  }, [key]);
  const loadSaved = () => request(SavedFilters, {}).then((d) => setSaved(d.savedFilters)).catch(setError);
  useEffect(() => {
    void loadSaved();
    request(Models, {}).then((d) => setModels(d.models.map((m) => m.id))).catch(() => {});
  }, []);

  const change = (patch: Partial<FilterState>) => setFilter({ ...filter, ...patch });
  // A field of its own, not window.prompt: Telegram's web views do not all show browser dialogs.
  const save = async () => {
    const name = filterName.trim();
    if (!name) return;
    await request(SaveFilter, { input: { name, filter: variables } })
      .then(() => setFilterName(''))
      .then(loadSaved)
      .catch(setError);
  };
  const pick = (id: string) => {
    const chosen = saved.find((s) => s.id === id);
    setFilter(chosen ? fromSaved(chosen.filter) : EMPTY_FILTER);
  };
  const remove = async (id: string) => {
    await request(DeleteSavedFilter, { id }).then(loadSaved).catch(setError);
  };

  return (
    <section aria-labelledby="gallery-title">
      <h2 id="gallery-title">
        {t.gallery} <span id="total" class="muted">{total === null ? '' : `(${total})`}</span>
      </h2>
      <div class="card filters">
        <div class="row">
          <label>{t.allTypes}
            <select id="filter-type" value={filter.type ?? ''} onChange={(e) => change({ type: TYPES.find((type) => type === e.currentTarget.value) ?? null })}>
              <option value="">{t.allTypes}</option>
              {TYPES.map((type) => <option key={type} value={type}>{type}</option>)}
            </select>
          </label>
          <label>{t.allModels}
            <select id="filter-model" value={filter.model ?? ''} onChange={(e) => change({ model: e.currentTarget.value || null })}>
              <option value="">{t.allModels}</option>
              {models.map((id) => <option key={id} value={id}>{id}</option>)}
            </select>
          </label>
          <label>{t.allFormats}
            <select id="filter-ratio" value={filter.aspectRatio ?? ''} onChange={(e) => change({ aspectRatio: e.currentTarget.value || null })}>
              <option value="">{t.allFormats}</option>
              {RATIOS.map((r) => <option key={r}>{r}</option>)}
            </select>
          </label>
          <label>{t.period}
            <select id="filter-period" value={filter.period} onChange={(e) => change({ period: e.currentTarget.value as Period })}>
              <option value="all">{t.anyTime}</option><option value="day">{t.today}</option>
              <option value="week">{t.week}</option><option value="month">{t.month}</option>
            </select>
          </label>
        </div>
        <div class="row">
          <label class="check">
            <input type="checkbox" id="filter-favorites" checked={filter.favoritesOnly}
              onChange={(e) => change({ favoritesOnly: e.currentTarget.checked })} />
            {t.favouritesOnly}
          </label>
          <input id="filter-search" type="search" aria-label={t.search} placeholder={t.search} value={filter.search}
            onChange={(e) => change({ search: e.currentTarget.value })} />
        </div>
        <div class="row">
          <input id="filter-name" aria-label={t.filterName} placeholder={t.filterName} maxLength={64} value={filterName}
            onInput={(e) => setFilterName(e.currentTarget.value)} />
          <button id="save-filter" onClick={save} disabled={isEmpty(filter) || !filterName.trim()}>{t.saveFilter}</button>
          <label>{t.savedFilters}
            <select id="saved-filters" value="" onChange={(e) => pick(e.currentTarget.value)}>
              <option value="">—</option>
              {saved.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
            </select>
          </label>
          {saved.map((s) => (
            <button key={s.id} class="link" aria-label={`${t.deleteFilter}: ${s.name}`} onClick={() => void remove(s.id)}>
              🗑 {s.name}
            </button>
          ))}
        </div>
        {stats && (
          <p class="muted" id="stats">{t.stats(stats.total, stats.favorites, stats.last30Days, stats.creditsSpent)}</p>
        )}
      </div>
      <ErrorNote error={error} onRetry={() => void loadMore(paged, generation.current)} />
      {paged.done && paged.items.length === 0 && <p>{t.empty}</p>}
      <Grid items={paged.items} onEnd={() => void loadMore(paged, generation.current)}
        onOpen={(id) => open({ name: 'viewer', imageId: id })} />
      {!paged.done && paged.items.length > 0 && (
        <button id="more" onClick={() => void loadMore(paged, generation.current)}>{t.loadMore}</button>
      )}
    </section>
  );
}

/** Rows of square cells; only those near the screen are drawn. */
function Grid({ items, onEnd, onOpen }: { items: Image[]; onEnd: () => void; onOpen: (id: string) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [frame, setFrame] = useState({ width: 360, top: 0, height: 800 });
  useEffect(() => {
    const measure = () => {
      const rect = box.current?.getBoundingClientRect();
      if (rect) setFrame({ width: rect.width, top: Math.max(0, -rect.top), height: innerHeight });
    };
    measure();
    addEventListener('scroll', measure, { passive: true });
    addEventListener('resize', measure);
    return () => {
      removeEventListener('scroll', measure);
      removeEventListener('resize', measure);
    };
  }, []);
  const columns = Math.max(3, Math.floor(frame.width / 120));
  const cell = frame.width / columns;
  const rowCount = Math.ceil(items.length / columns);
  const { first, last } = visibleRows(frame.top, frame.height, cell, rowCount);
  useEffect(() => {
    if (rowCount > 0 && last >= rowCount - 2) onEnd();
  }, [last, rowCount]);
  const cells = [];
  for (let row = first; row <= last; row++) {
    for (let column = 0; column < columns; column++) {
      const image = items[row * columns + column];
      if (!image) break;
      cells.push(
        <button key={image.id} class="cell" style={{ top: row * cell, left: column * cell, width: cell, height: cell }}
          onClick={() => onOpen(image.id)} aria-label={image.prompt}>
          <img src={image.posterUrl ?? image.url} alt="" loading="lazy" />
          {image.type === 'VIDEO' && <span class="badge" aria-hidden="true">▶</span>}
          {image.favorite && <span class="heart" aria-hidden="true">❤️</span>}
        </button>,
      );
    }
  }
  return <div id="gallery" ref={box} class="virtual" style={{ height: rowCount * cell }}>{cells}</div>;
}
