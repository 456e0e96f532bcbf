// Avatars: create one (name, type), add 10–20 photos by the picker or by dropping them, each with
// the server's verdict, train it for its price with live progress (`avatarUpdated`), cancel,
// delete, and create with it once it is ready.
import { useEffect, useState } from 'preact/hooks';
import { readFragment } from 'gql.tada';
import { type ResultOf, request, subscribe, upload } from '../api/graphql';
import {
  AddAvatarPhotos, AvatarFields, AvatarUpdated, Avatars, CancelAvatarTraining, CreateAvatar, DeleteAvatar,
  StartAvatarTraining,
} from '../api/operations';
import { useApp } from '../app';
import { haptic } from '../telegram';
import { ErrorNote } from '../ui/ErrorNote';

type Avatar = ResultOf<typeof AvatarFields>;

export function AvatarsScreen() {
  const { t } = useApp();
  const [avatars, setAvatars] = useState<Avatar[]>([]);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'PORTRAIT' | 'STYLE'>('PORTRAIT');
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    request(Avatars, {}).then((d) => setAvatars(d.avatars.map((a) => readFragment(AvatarFields, a)))).catch(setError);
  useEffect(() => void load(), []);
  const create = async () => {
    try {
      await request(CreateAvatar, { input: { name: name.trim(), trainingType: kind } });
      setName('');
      await load();
    } catch (e) {
      setError(e);
    }
  };
  const replace = (changed: Avatar) => setAvatars((list) => list.map((a) => (a.id === changed.id ? changed : a)));
  return (
    <section aria-labelledby="avatars-title">
      <h2 id="avatars-title">{t.avatars}</h2>
      <form class="card" onSubmit={(e) => { e.preventDefault(); void create(); }}>
        <h3>{t.newAvatar}</h3>
        <label>{t.avatarName}
          <input id="avatar-name" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>{t.avatarType}
          <select id="avatar-type" value={kind} onChange={(e) => setKind(e.currentTarget.value === 'STYLE' ? 'STYLE' : 'PORTRAIT')}>
            <option value="PORTRAIT">{t.portrait}</option>
            <option value="STYLE">{t.style}</option>
          </select>
        </label>
        <button id="create-avatar" class="primary" disabled={!name.trim()}>{t.createAvatar}</button>
      </form>
      <ErrorNote error={error} onRetry={() => void load()} />
      {avatars.map((avatar) => (
        <AvatarCard key={avatar.id} avatar={avatar} onChange={replace} onDeleted={() => void load()} />
      ))}
    </section>
  );
}

function AvatarCard({ avatar, onChange, onDeleted }: {
  avatar: Avatar;
  onChange: (avatar: Avatar) => void;
  onDeleted: () => void;
}) {
  const { t, open, refreshBalance } = useApp();
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);
  const training = avatar.status === 'TRAINING' || avatar.retraining;
  useEffect(() => {
    if (!training) return;
    return subscribe(AvatarUpdated, { id: avatar.id }, (data) => {
      const next = readFragment(AvatarFields, data.avatarUpdated);
      onChange(next);
      if (next.status === 'READY' && !next.retraining) haptic('success');
      if (next.status === 'FAILED') haptic('error');
    }, setError);
  }, [training, avatar.id]);

  const act = async (work: () => Promise<Avatar | null>) => {
    setError(null);
    try {
      const changed = await work();
      if (changed) onChange(changed);
      refreshBalance();
    } catch (e) {
      haptic('error');
      setError(e);
    }
  };
  const add = (files: File[]) =>
    files.length &&
    act(async () => readFragment(AvatarFields, (await upload(AddAvatarPhotos, { avatarId: avatar.id, photos: [] }, 'photos', files)).addAvatarPhotos));
  const train = () => act(async () => readFragment(AvatarFields, (await request(StartAvatarTraining, { avatarId: avatar.id })).startAvatarTraining));
  const cancel = () => act(async () => readFragment(AvatarFields, (await request(CancelAvatarTraining, { avatarId: avatar.id })).cancelAvatarTraining));
  const remove = () => act(async () => {
    await request(DeleteAvatar, { id: avatar.id });
    onDeleted();
    return null;
  });
  const status = t.avatarStatus[avatar.status] ?? avatar.status;

  return (
    <article class="card avatar" aria-label={avatar.name} data-status={avatar.status}>
      <h3>{avatar.name} <span class="muted">· {status}{avatar.isMain ? ' · ⭐' : ''}</span></h3>
      <p class="muted photo-count">{t.photoCount(avatar.photoCount)}</p>
      {training && (
        <div class="progress" role="progressbar" aria-label={status} aria-valuemin={0} aria-valuemax={100} aria-valuenow={avatar.progress}>
          <div style={{ width: `${avatar.progress}%` }} />
        </div>
      )}
      {avatar.error && <p class="error">{avatar.error}</p>}
      {!training && avatar.status !== 'READY' && (
        <label
          class={dragging ? 'drop active' : 'drop'}
          onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => { e.preventDefault(); setDragging(false); void add([...(e.dataTransfer?.files ?? [])]); }}
        >
          {t.addPhotos}
          <input type="file" class="photos" accept="image/*" multiple
            onChange={(e) => { void add([...(e.currentTarget.files ?? [])]); e.currentTarget.value = ''; }} />
        </label>
      )}
      <ul class="photos-list">
        {avatar.photos.map((photo) => (
          <li key={photo.id} class={photo.status === 'ACCEPTED' ? 'accepted' : 'rejected'}>
            {photo.url ? <img src={photo.url} alt="" width={48} height={48} /> : <span aria-hidden="true">✖</span>}
            <span>{photo.status === 'ACCEPTED' ? t.accepted : `${t.rejected}: ${photo.rejectReason ?? ''}`}</span>
          </li>
        ))}
      </ul>
      <div class="row">
        {avatar.canTrain && <button class="primary train" onClick={train}>{t.train(avatar.trainingPrice)}</button>}
        {training && <button class="cancel-training" onClick={cancel}>{t.cancel}</button>}
        {avatar.status === 'READY' && (
          <button class="primary create-with" onClick={() => open({ name: 'create', avatarId: avatar.id })}>{t.createWith}</button>
        )}
        <button class="danger delete-avatar" onClick={remove} disabled={training}>🗑 {t.delete}</button>
      </div>
      <ErrorNote error={error} />
    </article>
  );
}
