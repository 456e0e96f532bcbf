// The app's words in English and Russian, by Telegram's language or the browser's, switchable.

const en = {
  appName: 'AISHA',
  create: 'Create', gallery: 'Gallery', balance: 'Balance', signOut: 'Sign out',
  signInTitle: 'Sign in', signInHint: 'Open the app from the Telegram bot, or paste a token (aisha token --telegram-id N).',
  token: 'Token', signIn: 'Sign in', badToken: 'That token is not valid.',
  model: 'Model', prompt: 'Prompt', promptPlaceholder: 'A red fox in the snow, golden hour',
  aspectRatio: 'Format', count: 'Pictures', price: 'Price', balanceAfter: 'Balance after',
  createFor: (n: number) => `Create for ${n}`, cancel: 'Cancel', again: 'Again', favourite: 'Favourite',
  unfavourite: 'Unfavourite', openInGallery: 'Open in gallery',
  waiting: 'Waiting…', queued: (p: number | null) => (p === null ? 'In the queue…' : `In the queue: ${p} ahead`),
  drawing: 'Drawing…', done: 'Done', failed: 'Failed', cancelled: 'Cancelled', secondsLeft: (s: number) => `about ${s} s left`,
  allTypes: 'All types', allModels: 'All models', allFormats: 'All formats', favouritesOnly: 'Favourites only',
  search: 'Search prompts', period: 'Period', anyTime: 'Any time', today: 'Today', week: 'This week', month: 'This month',
  saveFilter: 'Save filter', filterName: 'Filter name', savedFilters: 'Saved filters', deleteFilter: 'Delete filter',
  stats: (t: number, f: number, m: number, c: number) => `${t} pictures · ${f} favourites · ${m} in 30 days · ${c} credits spent`,
  empty: 'Nothing here yet.', loadMore: 'Load more',
  position: (i: number, t: number) => `${i} / ${t}`, previous: 'Previous', next: 'Next', delete: 'Delete',
  confirmDelete: 'Delete this picture for good?', yesDelete: 'Yes, delete', keep: 'Keep it', download: 'Download',
  fullPrompt: 'Prompt', close: 'Close',
  credits: (n: number) => `${n} credits`, history: 'History', topUp: 'Top up with Telegram Stars',
  buy: (c: number, s: number) => `${c} credits for ${s} ⭐`, openInTelegram: 'Open the app in Telegram to pay with Stars.',
  paid: 'Paid: the credits arrive in a moment.', payCancelled: 'The payment was cancelled.',
  insufficient: 'Not enough credits.', rateLimited: (s: number) => `Too many requests: try again in ${s} s.`,
  offline: 'The connection was lost.', retry: 'Retry', somethingWrong: 'Something went wrong.',
  language: 'Language',
  columns: ['When', 'Credits', 'Balance', 'What'] as [string, string, string, string],
  avatars: 'Avatars', newAvatar: 'New avatar', avatarName: 'Name', avatarType: 'Type', portrait: 'A person (portrait)',
  style: 'A style', createAvatar: 'Create avatar', addPhotos: 'Add 10–20 photos: pick them or drop them here',
  photoCount: (n: number) => `${n} of 10–20 photos accepted`, accepted: 'accepted', rejected: 'rejected',
  train: (price: number) => `Train for ${price}`, createWith: 'Create with it',
  avatarStatus: { DRAFT: 'draft', TRAINING: 'training', READY: 'ready', FAILED: 'failed', CANCELLED: 'cancelled' } as Record<string, string>,
  withAvatar: (name: string) => `With your avatar “${name}”`,
};

export type Texts = typeof en;

const ru: Texts = {
  appName: 'AISHA',
  create: 'Создать', gallery: 'Галерея', balance: 'Баланс', signOut: 'Выйти',
  signInTitle: 'Вход', signInHint: 'Откройте приложение из Telegram-бота или вставьте токен (aisha token --telegram-id N).',
  token: 'Токен', signIn: 'Войти', badToken: 'Этот токен не подходит.',
  model: 'Модель', prompt: 'Описание', promptPlaceholder: 'Рыжая лиса в снегу, золотой час',
  aspectRatio: 'Формат', count: 'Картинок', price: 'Цена', balanceAfter: 'Баланс после',
  createFor: (n) => `Создать за ${n}`, cancel: 'Отменить', again: 'Ещё раз', favourite: 'В избранное',
  unfavourite: 'Из избранного', openInGallery: 'Открыть в галерее',
  waiting: 'Ждём…', queued: (p) => (p === null ? 'В очереди…' : `В очереди: перед вами ${p}`),
  drawing: 'Рисую…', done: 'Готово', failed: 'Не получилось', cancelled: 'Отменено', secondsLeft: (s) => `осталось около ${s} с`,
  allTypes: 'Все типы', allModels: 'Все модели', allFormats: 'Все форматы', favouritesOnly: 'Только избранное',
  search: 'Поиск по описанию', period: 'Период', anyTime: 'За всё время', today: 'Сегодня', week: 'Неделя', month: 'Месяц',
  saveFilter: 'Сохранить фильтр', filterName: 'Название фильтра', savedFilters: 'Сохранённые фильтры', deleteFilter: 'Удалить фильтр',
  stats: (t, f, m, c) => `${t} картинок · ${f} в избранном · ${m} за 30 дней · потрачено ${c} кредитов`,
  empty: 'Здесь пока пусто.', loadMore: 'Ещё',
  position: (i, t) => `${i} / ${t}`, previous: 'Назад', next: 'Вперёд', delete: 'Удалить',
  confirmDelete: 'Удалить эту картинку навсегда?', yesDelete: 'Да, удалить', keep: 'Оставить', download: 'Скачать',
  fullPrompt: 'Описание', close: 'Закрыть',
  credits: (n) => `${n} кредитов`, history: 'История', topUp: 'Пополнить звёздами Telegram',
  buy: (c, s) => `${c} кредитов за ${s} ⭐`, openInTelegram: 'Чтобы заплатить звёздами, откройте приложение в Telegram.',
  paid: 'Оплачено: кредиты придут через мгновение.', payCancelled: 'Оплата отменена.',
  insufficient: 'Не хватает кредитов.', rateLimited: (s) => `Слишком много запросов: повторите через ${s} с.`,
  offline: 'Связь потеряна.', retry: 'Повторить', somethingWrong: 'Что-то пошло не так.',
  language: 'Язык',
  columns: ['Когда', 'Кредиты', 'Баланс', 'Что'],
  avatars: 'Аватары', newAvatar: 'Новый аватар', avatarName: 'Имя', avatarType: 'Тип', portrait: 'Человек (портрет)',
  style: 'Стиль', createAvatar: 'Создать аватар', addPhotos: 'Добавьте 10–20 фото: выберите или перетащите сюда',
  photoCount: (n) => `Принято ${n} из 10–20 фото`, accepted: 'принято', rejected: 'отклонено',
  train: (price) => `Обучить за ${price}`, createWith: 'Создать с ним',
  avatarStatus: { DRAFT: 'черновик', TRAINING: 'обучается', READY: 'готов', FAILED: 'ошибка', CANCELLED: 'отменён' },
  withAvatar: (name) => `С вашим аватаром «${name}»`,
};

export type Lang = 'en' | 'ru';

export function pickLang(code: string | null | undefined): Lang {
  return code?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function texts(lang: Lang): Texts {
  return lang === 'ru' ? ru : en;
}
