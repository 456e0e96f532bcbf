//! What the bot says, in Russian and English. Placeholders in braces are filled by [`fill`].

use serde::{Deserialize, Serialize};

use super::operations::AvatarStatus;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    Ru,
    #[default]
    En,
}

impl Lang {
    /// Russian for Russian-speaking (and neighbouring) Telegram clients, English otherwise.
    pub fn from_code(code: Option<&str>) -> Lang {
        match code.map(|c| c.split('-').next().unwrap_or(c).to_ascii_lowercase()) {
            Some(c) if matches!(c.as_str(), "ru" | "uk" | "be" | "kk") => Lang::Ru,
            _ => Lang::En,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
}

pub struct Texts {
    pub menu: &'static str,
    pub btn_create: &'static str,
    pub btn_avatars: &'static str,
    pub btn_gallery: &'static str,
    pub btn_balance: &'static str,
    pub btn_help: &'static str,
    pub btn_language: &'static str,
    pub btn_back: &'static str,
    pub btn_menu: &'static str,
    pub help: &'static str,
    pub paysupport: &'static str,
    pub choose_language: &'static str,
    pub avatars: &'static str,
    pub no_avatars: &'static str,
    pub btn_new_avatar: &'static str,
    pub ask_avatar_name: &'static str,
    pub ask_avatar_kind: &'static str,
    pub btn_portrait: &'static str,
    pub btn_style: &'static str,
    pub ask_photos: &'static str,
    pub photo_rejected: &'static str,
    pub btn_add_photos: &'static str,
    pub btn_train: &'static str,
    pub btn_use_avatar: &'static str,
    pub btn_cancel_training: &'static str,
    pub avatar_card: &'static str,
    pub training: &'static str,
    pub avatar_ready: &'static str,
    pub avatar_failed: &'static str,
    /// `{name}`, `{error}`: a retraining failed; the avatar works as before.
    pub avatar_retrain_failed: &'static str,
    /// On the card of an avatar training anew: `{progress}`.
    pub avatar_retraining: &'static str,
    /// `{trainer}`.
    pub avatar_trainer: &'static str,
    /// `{price}`.
    pub btn_retrain: &'static str,
    pub confirm_delete_avatar: &'static str,
    pub status_draft: &'static str,
    pub status_training: &'static str,
    pub status_ready: &'static str,
    pub status_failed: &'static str,
    pub status_cancelled: &'static str,
    pub ask_prompt: &'static str,
    pub btn_styles: &'static str,
    pub btn_video: &'static str,
    pub btn_open_app: &'static str,
    pub video_intro: &'static str,
    pub btn_animate: &'static str,
    pub btn_animate_again: &'static str,
    pub animate_started: &'static str,
    pub video_type: &'static str,
    pub styles: &'static str,
    /// `{category}`.
    pub style_list: &'static str,
    pub favorite_styles: &'static str,
    pub no_favorite_styles: &'static str,
    pub btn_favorite_styles: &'static str,
    /// `{icon}`, `{name}`, `{prompt}` (with … for the subject).
    pub style_card: &'static str,
    pub btn_use_style: &'static str,
    pub btn_favorite_style: &'static str,
    pub btn_unfavorite_style: &'static str,
    /// `{name}`: the template's.
    pub ask_subject: &'static str,
    pub ask_ratio: &'static str,
    pub ask_count: &'static str,
    /// `{model}`, `{ratio}`, `{count}`, `{prompt}`, `{price}` (to pay), `{discount}`, `{balance}`.
    pub confirm: &'static str,
    /// After the price, when a promo discount applies: `{percent}`, `{price}` (without it).
    pub confirm_discount: &'static str,
    pub btn_confirm: &'static str,
    pub not_enough: &'static str,
    pub btn_top_up: &'static str,
    pub progress_queued: &'static str,
    pub progress_running: &'static str,
    /// After the progress: `{seconds}` left, about.
    pub progress_eta: &'static str,
    /// Every picture blocked by the model's safety filter (the generation failed, refunded).
    pub blocked_all: &'static str,
    /// After a result: `{blocked}` of `{asked}` pictures blocked, their share refunded.
    pub blocked_some: &'static str,
    pub done: &'static str,
    pub failed: &'static str,
    pub cancelled: &'static str,
    pub result: &'static str,
    pub btn_again: &'static str,
    pub btn_prompt: &'static str,
    pub btn_same_seed: &'static str,
    pub btn_rename_avatar: &'static str,
    pub btn_main_avatar: &'static str,
    /// `{name}`: the avatar's name now.
    pub ask_avatar_rename: &'static str,
    /// On the avatar card of the main avatar.
    pub avatar_is_main: &'static str,
    pub btn_variations: &'static str,
    pub btn_edit_prompt: &'static str,
    /// Asking for a new prompt for a picture made again: `{prompt}` (the old one).
    pub ask_edited_prompt: &'static str,
    /// `{count}` variations started.
    pub variations_started: &'static str,
    pub btn_open_gallery: &'static str,
    pub prompt_was: &'static str,
    /// After `prompt_was` when the prompt sent differs from the user's words: `{original}`.
    pub prompt_original: &'static str,
    pub btn_enhance: &'static str,
    /// `{prompt}`: the suggestion.
    pub suggestion: &'static str,
    pub btn_use_suggestion: &'static str,
    pub btn_keep_mine: &'static str,
    pub gallery_empty: &'static str,
    pub caption: &'static str,
    pub btn_filters: &'static str,
    pub btn_stats: &'static str,
    pub confirm_delete: &'static str,
    pub btn_delete: &'static str,
    pub btn_cancel: &'static str,
    pub filters: &'static str,
    pub all_types: &'static str,
    pub favorites_only: &'static str,
    pub today: &'static str,
    pub week: &'static str,
    pub month: &'static str,
    pub all_time: &'static str,
    pub stats: &'static str,
    pub balance: &'static str,
    pub no_transactions: &'static str,
    pub packages: &'static str,
    pub package: &'static str,
    pub invoice_title: &'static str,
    pub invoice_description: &'static str,
    /// `{credits}`, `{bonus}` (the promo bonus, or nothing), `{balance}`.
    pub paid: &'static str,
    /// `{bonus}` credits a promo code added to a top-up.
    pub paid_bonus: &'static str,
    pub refundable: &'static str,
    pub no_refundable: &'static str,
    pub btn_refund: &'static str,
    pub confirm_refund: &'static str,
    pub btn_confirm_refund: &'static str,
    pub refunded: &'static str,
    pub btn_promo: &'static str,
    pub btn_settings: &'static str,
    pub btn_invite: &'static str,
    /// The operator blocked the user: `{reason}` as the API said it.
    pub blocked: &'static str,
    /// `{link}`, `{reward}`, `{count}`, `{rewarded}`, `{earned}`.
    pub invite: &'static str,
    /// `{credits}` for a friend's first top-up.
    pub invite_reward_credits: &'static str,
    /// `{percent}` of a friend's first top-up.
    pub invite_reward_percent: &'static str,
    pub btn_history: &'static str,
    pub btn_spending: &'static str,
    /// `{total}`, `{rows}`.
    pub history: &'static str,
    /// `{period}`, `{spent}`, `{charged}`, `{refunded}`, `{models}`, `{topups}`, `{stars}`, `{credits}`.
    pub spending: &'static str,
    /// One model of the spending screen: `{model}`, `{spent}`, `{count}`.
    pub spending_model: &'static str,
    /// `{ratio}`, `{count}`, `{quick}`, `{max}`, `{details}`.
    pub settings: &'static str,
    pub btn_setting_ratio: &'static str,
    pub btn_setting_count: &'static str,
    pub btn_setting_quick: &'static str,
    pub btn_setting_details: &'static str,
    pub on: &'static str,
    pub off: &'static str,
    /// Under a result, with technical details on: `{model}`, `{seed}` (` · seed N`, if one was
    /// given), `{seconds}`.
    pub technical: &'static str,
    pub ask_promo: &'static str,
    /// A `CREDITS` code: `{code}`, `{credits}`, `{balance}`.
    pub promo_credits: &'static str,
    /// A `BONUS_PERCENT` code: `{code}`, `{percent}`.
    pub promo_bonus: &'static str,
    /// A `DISCOUNT_PERCENT` code: `{code}`, `{percent}`.
    pub promo_discount: &'static str,
    /// The API's reason a code was refused: `{reason}`.
    pub promo_refused: &'static str,
    pub btn_export_data: &'static str,
    pub btn_delete_account: &'static str,
    pub export_preparing: &'static str,
    /// The archive's caption: `{images}`, `{photos}`, `{size}` (MB), `{link}`.
    pub export_ready: &'static str,
    pub confirm_delete_account: &'static str,
    pub btn_confirm_delete_account: &'static str,
    pub btn_keep_account: &'static str,
    /// `{cancelled}`: generations and trainings stopped and refunded first.
    pub account_deleted: &'static str,
    pub unknown_command: &'static str,
    pub error: &'static str,
    pub gone: &'static str,
    /// Over a rate limit; `{seconds}` to wait.
    pub slow_down: &'static str,
}

const RU: Texts = Texts {
    menu: "✨ AISHA — ИИ-фотостудия\n\nБаланс: {balance} кредитов\nЧто создадим?",
    btn_create: "🎨 Творчество",
    btn_avatars: "🧑‍🎨 Мои аватары",
    btn_gallery: "🎭 Мои работы",
    btn_balance: "💰 Баланс",
    btn_help: "❓ Помощь",
    btn_language: "🌐 Язык",
    btn_back: "◀️ Назад",
    btn_menu: "🏠 Меню",
    help: "AISHA рисует картинки по описанию (Google Imagen 4) и хранит их в вашей галерее.\n\n\
           /start — главное меню\n/language — язык\n/paysupport — вопросы об оплате\n/promo КОД — промокод\n/settings — настройки\n/invite — пригласить друзей\n/mydata — скачать мои данные\n/deletemydata — удалить аккаунт\n/help — эта справка\n\n\
           Картинка стоит несколько кредитов; кредиты покупаются за Telegram Stars. Если генерация не \
           удалась, кредиты возвращаются автоматически.",
    paysupport: "Вопросы об оплате: опишите проблему ответом на это сообщение и укажите дату платежа. \
                 Покупку, кредиты которой ещё не потрачены, можно вернуть в Stars кнопкой ниже; за \
                 неудачные генерации кредиты возвращаются сами.",
    choose_language: "Выберите язык / Choose a language",
    avatars: "🧑‍🎨 Ваши аватары:",
    no_avatars: "🧑‍🎨 Аватар учится по 10–20 вашим фото и потом рисует вас в любой сцене. Создадим первый?",
    btn_new_avatar: "➕ Новый аватар",
    ask_avatar_name: "Как назовём аватар? (до 64 символов)",
    ask_avatar_kind: "Чему он будет учиться?",
    btn_portrait: "👤 Человек (портрет)",
    btn_style: "🎨 Стиль",
    ask_photos: "📸 Пришлите 10–20 фото для «{name}»: разные ракурсы, хороший свет, без посторонних в кадре. Можно альбомом.\n\nПринято: {count}/20",
    photo_rejected: "❌ Фото не принято — {reason}",
    btn_add_photos: "📸 Добавить фото",
    btn_train: "🚀 Обучить за {price}",
    btn_use_avatar: "🎨 Создать с ним",
    btn_cancel_training: "✖️ Отменить обучение",
    avatar_card: "🧑‍🎨 {name}\nСтатус: {status}\nФото: {photos}/20\nКартинок создано: {generations}",
    training: "⏳ Обучаю «{name}»… {progress}%",
    avatar_ready: "✅ Аватар «{name}» готов! Опишите сцену — и в ней будете вы.",
    avatar_failed: "❌ Обучение «{name}» не удалось: {error}\nКредиты возвращены.",
    avatar_retrain_failed: "❌ Переобучение «{name}» не удалось: {error}\nКредиты возвращены, аватар работает как прежде.",
    avatar_retraining: "\n🔁 Переобучается… {progress}% (пока работает прежняя версия)",
    avatar_trainer: "\nОбучение: {trainer}",
    btn_retrain: "🔁 Переобучить за {price}",
    confirm_delete_avatar: "Удалить аватар «{name}» вместе с фото? Картинки, созданные с ним, останутся в галерее.",
    status_draft: "черновик — собираем фото",
    status_training: "обучается",
    status_ready: "готов",
    status_failed: "обучение не удалось",
    status_cancelled: "обучение отменено",
    ask_prompt: "🎨 Опишите картинку одним сообщением (до 2000 символов).",
    btn_styles: "🖼 Готовые стили",
    btn_video: "🎬 Видео",
    btn_open_app: "📱 Открыть приложение",
    video_intro: "🎬 Видео из картинки: откройте свою картинку в галерее и нажмите «🎬 Оживить». Получится короткий ролик; цена — за ролик.",
    btn_animate: "🎬 Оживить",
    btn_animate_again: "🎬 Ещё ролик",
    animate_started: "🎬 Оживляю картинку: ролик будет через пару минут · {cost} кредитов",
    video_type: "🎬 Видео",
    styles: "🖼 Выберите категорию стилей:",
    style_list: "🖼 {category}: выберите стиль.",
    favorite_styles: "⭐ Избранные стили:",
    no_favorite_styles: "⭐ В избранном пока пусто: отметьте стиль звёздочкой на его карточке.",
    btn_favorite_styles: "⭐ Избранные",
    style_card: "{icon} {name}\n\n{prompt}",
    btn_use_style: "✅ Создать в этом стиле",
    btn_favorite_style: "☆ В избранное",
    btn_unfavorite_style: "★ Убрать из избранного",
    ask_subject: "{name}: кто или что будет на картинке? Например: «рыжий кот в шляпе».",
    ask_ratio: "Формат картинки?",
    ask_count: "Сколько вариантов?",
    confirm: "{model} · {ratio} · {count} шт.\n«{prompt}»\n\nЦена: {price} кредитов{discount} (баланс {balance}).",
    confirm_discount: " (скидка {percent}% по промокоду, без неё {price})",
    btn_confirm: "✅ Создать за {price}",
    not_enough: "Не хватает кредитов: нужно {needed}, есть {available}.",
    btn_top_up: "⭐ Пополнить",
    progress_queued: "⏳ В очереди…",
    progress_running: "⏳ Рисую… {progress}%",
    progress_eta: " · ещё ~{seconds} с",
    blocked_all: "🛡 Фильтр безопасности модели не пропустил ни одной картинки: так бывает, если в запросе видят откровенное или жестокое. Кредиты возвращены — попробуйте переформулировать.",
    blocked_some: "🛡 Фильтр безопасности модели скрыл {blocked} из {asked}; их стоимость вернулась на баланс.",
    done: "✅ Готово!",
    failed: "❌ Не получилось: {error}\nКредиты возвращены.",
    cancelled: "✖️ Отменено, кредиты возвращены.",
    result: "Готово: «{prompt}»",
    btn_again: "🔁 Ещё раз",
    btn_prompt: "📝 Промпт",
    btn_same_seed: "🎯 Тот же seed",
    btn_rename_avatar: "✏️ Переименовать",
    btn_main_avatar: "⭐ Сделать основным",
    ask_avatar_rename: "✏️ Как назвать аватар «{name}»? Пришлите новое имя.",
    avatar_is_main: "\n⭐ Основной аватар",
    btn_variations: "🎲 Вариации",
    btn_edit_prompt: "✏️ Изменить промпт",
    ask_edited_prompt: "✏️ Пришлите новый промпт — картинка будет с тем же seed.\n\nБыло:\n{prompt}",
    variations_started: "🎲 Делаю вариаций: {count}.",
    btn_open_gallery: "🖼 В галерею",
    prompt_was: "Промпт:\n{prompt}",
    prompt_original: "\n\nВаши слова:\n{original}",
    btn_enhance: "✨ Улучшить промпт",
    suggestion: "✨ Предлагаю такой промпт:\n\n{prompt}\n\nСоздать с ним?",
    btn_use_suggestion: "✅ Да, с этим промптом",
    btn_keep_mine: "◀️ Оставить мой",
    gallery_empty: "В галерее пока пусто (или ничего не подходит под фильтр).",
    caption: "{index}/{total} · {model}\n{prompt}",
    btn_filters: "🔎 Фильтры",
    btn_stats: "📊 Статистика",
    confirm_delete: "Удалить эту картинку навсегда?",
    btn_delete: "🗑 Удалить",
    btn_cancel: "✖️ Отмена",
    filters: "Фильтры галереи",
    all_types: "Все типы",
    favorites_only: "Только избранное",
    today: "Сегодня",
    week: "Неделя",
    month: "Месяц",
    all_time: "Всё время",
    stats: "📊 Всего: {total}\n❤️ Избранное: {favorites}\n🗓 За 30 дней: {last30}\n💳 Потрачено кредитов: {spent}\n{types}",
    balance: "💰 Баланс: {balance} кредитов\n\nПоследние операции:\n{rows}",
    no_transactions: "пока нет",
    packages: "⭐ Пополнение за Telegram Stars:",
    package: "{credits} кредитов за {stars} ⭐",
    invoice_title: "{credits} кредитов AISHA",
    invoice_description: "Пополнение баланса AISHA на {credits} кредитов.",
    paid: "✅ Оплачено: +{credits} кредитов{bonus}. Баланс: {balance}.",
    paid_bonus: " и +{bonus} бонусных по промокоду",
    refundable: "Можно вернуть:",
    no_refundable: "Вернуть нечего: у покупок последнего времени кредиты уже потрачены или они возвращены.",
    btn_refund: "↩️ {stars} ⭐ от {day}",
    confirm_refund: "Вернуть {stars} ⭐? С баланса спишется {credits} кредитов.",
    btn_confirm_refund: "↩️ Вернуть {stars} ⭐",
    refunded: "↩️ Возвращено {stars} ⭐, списано {credits} кредитов. Баланс: {balance}.",
    btn_promo: "🎟 Промокод",
    btn_settings: "⚙️ Настройки",
    btn_invite: "🎁 Пригласить друзей",
    blocked: "⛔ Извините — {reason}. Если это ошибка, напишите в поддержку.",
    invite: "🎁 Пригласите друзей — ваша ссылка:\n{link}\n\n{reward}\n\nПришли по ссылке: {count}\nПополнили баланс: {rewarded}\nЗаработано кредитов: {earned}",
    invite_reward_credits: "Когда друг впервые пополнит баланс, вы получите {credits} кредитов.",
    invite_reward_percent: "Когда друг впервые пополнит баланс, вы получите {percent}% его кредитов.",
    btn_history: "📜 История",
    btn_spending: "📊 Расходы",
    history: "📜 Операции (всего {total}):\n{rows}",
    spending: "📊 Расходы — {period}\n\nПотрачено: {spent} кредитов (списано {charged}, возвращено {refunded})\n{models}\n\n⭐ Пополнений: {topups}, {stars} ⭐ → {credits} кредитов",
    spending_model: "• {model}: {spent} ({count}×)",
    settings: "⚙️ Настройки\n\nФормат по умолчанию: {ratio}\nКартинок по умолчанию: {count}\nБыстрый режим (без подтверждения до {max} кредитов): {quick}\nТехнические детали: {details}",
    btn_setting_ratio: "Формат: {value}",
    btn_setting_count: "Картинок: {value}",
    btn_setting_quick: "⚡ Быстрый режим: {value}",
    btn_setting_details: "🔧 Детали: {value}",
    on: "вкл",
    off: "выкл",
    technical: "🔧 {model}{seed} · {seconds} с",
    ask_promo: "🎟 Отправьте промокод одним сообщением.",
    promo_credits: "🎟 Промокод {code}: +{credits} кредитов. Баланс: {balance}.",
    promo_bonus: "🎟 Промокод {code}: следующее пополнение даст на {percent}% больше кредитов.",
    promo_discount: "🎟 Промокод {code}: следующая генерация или обучение обойдётся на {percent}% дешевле.",
    promo_refused: "🎟 Промокод не принят: {reason}.\n\nОтправьте другой или вернитесь назад.",
    btn_export_data: "📦 Мои данные",
    btn_delete_account: "🗑 Удалить аккаунт",
    export_preparing: "📦 Собираю архив ваших данных…",
    export_ready: "📦 Ваши данные: {images} картинок, {photos} фото, {size} МБ. Ссылка действует сутки:\n{link}",
    confirm_delete_account: "🗑 Удалить аккаунт?\n\nБудут удалены все ваши картинки, фото, аватары, настройки и история генераций; \
                             идущие генерации остановятся с возвратом кредитов. Оставшиеся кредиты сгорят. \
                             Записи о платежах сохранятся без ваших данных, как требует закон. Отменить это нельзя.\n\n\
                             Сначала можно скачать свои данные: /mydata",
    btn_confirm_delete_account: "🗑 Да, удалить всё",
    btn_keep_account: "◀️ Нет, оставить",
    account_deleted: "Ваш аккаунт удалён (остановлено генераций: {cancelled}). Спасибо, что были с нами. /start начнёт всё заново.",
    unknown_command: "Не понимаю. Откройте меню: /start",
    error: "Что-то пошло не так. Попробуйте ещё раз.",
    gone: "Этой картинки больше нет.",
    slow_down: "Слишком много запросов подряд. Попробуйте снова через {seconds} с.",
};

const EN: Texts = Texts {
    menu: "✨ AISHA — AI photo studio\n\nBalance: {balance} credits\nWhat shall we make?",
    btn_create: "🎨 Create image",
    btn_avatars: "🧑‍🎨 My avatars",
    btn_gallery: "🎭 My works",
    btn_balance: "💰 Balance",
    btn_help: "❓ Help",
    btn_language: "🌐 Language",
    btn_back: "◀️ Back",
    btn_menu: "🏠 Menu",
    help: "AISHA draws pictures from a description (Google Imagen 4) and keeps them in your gallery.\n\n\
           /start — main menu\n/language — language\n/paysupport — payment questions\n/promo CODE — a promo code\n/settings — settings\n/invite — invite friends\n/mydata — download my data\n/deletemydata — delete my account\n/help — this help\n\n\
           A picture costs a few credits; credits are bought with Telegram Stars. When a generation \
           fails, its credits come back automatically.",
    paysupport: "Payment questions: reply to this message with what went wrong and the date of the payment. \
                 A purchase whose credits are unspent can be refunded in Stars with a button below; \
                 credits for failed generations come back by themselves.",
    choose_language: "Выберите язык / Choose a language",
    avatars: "🧑‍🎨 Your avatars:",
    no_avatars: "🧑‍🎨 An avatar learns from 10–20 of your photos and then draws you in any scene. Shall we make the first?",
    btn_new_avatar: "➕ New avatar",
    ask_avatar_name: "What shall we call the avatar? (up to 64 characters)",
    ask_avatar_kind: "What will it learn?",
    btn_portrait: "👤 A person (portrait)",
    btn_style: "🎨 A style",
    ask_photos: "📸 Send 10–20 photos for “{name}”: different angles, good light, nobody else in the frame. Albums work too.\n\nAccepted: {count}/20",
    photo_rejected: "❌ Photo refused — {reason}",
    btn_add_photos: "📸 Add photos",
    btn_train: "🚀 Train for {price}",
    btn_use_avatar: "🎨 Create with it",
    btn_cancel_training: "✖️ Cancel training",
    avatar_card: "🧑‍🎨 {name}\nStatus: {status}\nPhotos: {photos}/20\nImages made: {generations}",
    training: "⏳ Training “{name}”… {progress}%",
    avatar_ready: "✅ Avatar “{name}” is ready! Describe a scene and you will be in it.",
    avatar_failed: "❌ Training “{name}” failed: {error}\nYour credits were refunded.",
    avatar_retrain_failed: "❌ Training “{name}” anew failed: {error}\nYour credits were refunded; the avatar works as before.",
    avatar_retraining: "\n🔁 Training anew… {progress}% (the current version works meanwhile)",
    avatar_trainer: "\nTrained with: {trainer}",
    btn_retrain: "🔁 Train anew for {price}",
    confirm_delete_avatar: "Delete avatar “{name}” with its photos? Images made with it stay in the gallery.",
    status_draft: "draft — collecting photos",
    status_training: "training",
    status_ready: "ready",
    status_failed: "training failed",
    status_cancelled: "training cancelled",
    ask_prompt: "🎨 Describe the picture in one message (up to 2000 characters).",
    btn_styles: "🖼 Ready-made styles",
    btn_video: "🎬 Video",
    btn_open_app: "📱 Open the app",
    video_intro: "🎬 Video from a picture: open one of your pictures in the gallery and press \"🎬 Animate\". You get a short clip, priced per clip.",
    btn_animate: "🎬 Animate",
    btn_animate_again: "🎬 Another clip",
    animate_started: "🎬 Animating your picture: the clip takes a couple of minutes · {cost} credits",
    video_type: "🎬 Video",
    styles: "🖼 Pick a category of styles:",
    style_list: "🖼 {category}: pick a style.",
    favorite_styles: "⭐ Your favourite styles:",
    no_favorite_styles: "⭐ No favourites yet: mark a style with the star on its card.",
    btn_favorite_styles: "⭐ Favourites",
    style_card: "{icon} {name}\n\n{prompt}",
    btn_use_style: "✅ Create in this style",
    btn_favorite_style: "☆ Add to favourites",
    btn_unfavorite_style: "★ Remove from favourites",
    ask_subject: "{name}: who or what is in the picture? For example: “a ginger cat in a hat”.",
    ask_ratio: "Which format?",
    ask_count: "How many variants?",
    confirm: "{model} · {ratio} · {count} image(s)\n“{prompt}”\n\nPrice: {price} credits{discount} (balance {balance}).",
    confirm_discount: " ({percent}% off with your promo code, {price} without)",
    btn_confirm: "✅ Create for {price}",
    not_enough: "Not enough credits: {needed} needed, {available} available.",
    btn_top_up: "⭐ Top up",
    progress_queued: "⏳ Queued…",
    progress_running: "⏳ Drawing… {progress}%",
    progress_eta: " · about {seconds} s left",
    blocked_all: "🛡 The model's safety filter blocked every picture: it does that when it sees explicit or violent content in a request. Your credits were refunded; try rewording it.",
    blocked_some: "🛡 The model's safety filter held back {blocked} of {asked} pictures; their share is back on your balance.",
    done: "✅ Done!",
    failed: "❌ That did not work: {error}\nYour credits were refunded.",
    cancelled: "✖️ Cancelled, credits refunded.",
    result: "Ready: “{prompt}”",
    btn_again: "🔁 Again",
    btn_prompt: "📝 Prompt",
    btn_same_seed: "🎯 Same seed",
    btn_rename_avatar: "✏️ Rename",
    btn_main_avatar: "⭐ Make main",
    ask_avatar_rename: "✏️ What should “{name}” be called? Send the new name.",
    avatar_is_main: "\n⭐ Main avatar",
    btn_variations: "🎲 Variations",
    btn_edit_prompt: "✏️ Edit prompt",
    ask_edited_prompt: "✏️ Send the new prompt; the picture keeps its seed.\n\nIt was:\n{prompt}",
    variations_started: "🎲 Making {count} variations.",
    btn_open_gallery: "🖼 Open in gallery",
    prompt_was: "Prompt:\n{prompt}",
    prompt_original: "\n\nYour words:\n{original}",
    btn_enhance: "✨ Improve the prompt",
    suggestion: "✨ How about this prompt:\n\n{prompt}\n\nCreate with it?",
    btn_use_suggestion: "✅ Yes, use this prompt",
    btn_keep_mine: "◀️ Keep mine",
    gallery_empty: "Nothing in the gallery yet (or nothing matches the filter).",
    caption: "{index}/{total} · {model}\n{prompt}",
    btn_filters: "🔎 Filters",
    btn_stats: "📊 Stats",
    confirm_delete: "Delete this picture for good?",
    btn_delete: "🗑 Delete",
    btn_cancel: "✖️ Cancel",
    filters: "Gallery filters",
    all_types: "All types",
    favorites_only: "Favourites only",
    today: "Today",
    week: "Week",
    month: "Month",
    all_time: "All time",
    stats: "📊 Total: {total}\n❤️ Favourites: {favorites}\n🗓 Last 30 days: {last30}\n💳 Credits spent: {spent}\n{types}",
    balance: "💰 Balance: {balance} credits\n\nLatest transactions:\n{rows}",
    no_transactions: "none yet",
    packages: "⭐ Top up with Telegram Stars:",
    package: "{credits} credits for {stars} ⭐",
    invoice_title: "{credits} AISHA credits",
    invoice_description: "Adds {credits} credits to your AISHA balance.",
    paid: "✅ Paid: +{credits} credits{bonus}. Balance: {balance}.",
    paid_bonus: " and +{bonus} bonus credits from your promo code",
    refundable: "These can be refunded:",
    no_refundable: "Nothing to refund: your recent purchases' credits are spent, or they were refunded.",
    btn_refund: "↩️ {stars} ⭐ of {day}",
    confirm_refund: "Refund {stars} ⭐? {credits} credits will be taken from your balance.",
    btn_confirm_refund: "↩️ Refund {stars} ⭐",
    refunded: "↩️ Refunded {stars} ⭐; {credits} credits were taken back. Balance: {balance}.",
    btn_promo: "🎟 Promo code",
    btn_settings: "⚙️ Settings",
    btn_invite: "🎁 Invite friends",
    blocked: "⛔ Sorry — {reason}. If you think this is a mistake, please contact support.",
    invite: "🎁 Invite friends with your link:\n{link}\n\n{reward}\n\nFriends who joined: {count}\nFriends who topped up: {rewarded}\nCredits earned: {earned}",
    invite_reward_credits: "When a friend first tops up, you get {credits} credits.",
    invite_reward_percent: "When a friend first tops up, you get {percent}% of their credits.",
    btn_history: "📜 History",
    btn_spending: "📊 Spending",
    history: "📜 Transactions ({total} in all):\n{rows}",
    spending: "📊 Spending — {period}\n\nSpent: {spent} credits (charged {charged}, refunded {refunded})\n{models}\n\n⭐ Top-ups: {topups}, {stars} ⭐ → {credits} credits",
    spending_model: "• {model}: {spent} ({count}×)",
    settings: "⚙️ Settings\n\nDefault format: {ratio}\nDefault number of images: {count}\nQuick mode (no confirmation up to {max} credits): {quick}\nTechnical details: {details}",
    btn_setting_ratio: "Format: {value}",
    btn_setting_count: "Images: {value}",
    btn_setting_quick: "⚡ Quick mode: {value}",
    btn_setting_details: "🔧 Details: {value}",
    on: "on",
    off: "off",
    technical: "🔧 {model}{seed} · {seconds} s",
    ask_promo: "🎟 Send the promo code as a message.",
    promo_credits: "🎟 Promo code {code}: +{credits} credits. Balance: {balance}.",
    promo_bonus: "🎟 Promo code {code}: your next top-up gives {percent}% more credits.",
    promo_discount: "🎟 Promo code {code}: your next generation or training costs {percent}% less.",
    promo_refused: "🎟 That promo code was not accepted: {reason}.\n\nSend another, or go back.",
    btn_export_data: "📦 My data",
    btn_delete_account: "🗑 Delete my account",
    export_preparing: "📦 Putting together the archive of your data…",
    export_ready: "📦 Your data: {images} images, {photos} photos, {size} MB. The link works for a day:\n{link}",
    confirm_delete_account: "🗑 Delete your account?\n\nAll your images, photos, avatars, settings and generation history will be erased; \
                             running generations stop and their credits are refunded. Credits left are lost. \
                             Payment records stay, with nothing that says they were yours, as the law requires. This cannot be undone.\n\n\
                             You can download your data first: /mydata",
    btn_confirm_delete_account: "🗑 Yes, delete everything",
    btn_keep_account: "◀️ No, keep it",
    account_deleted: "Your account is deleted ({cancelled} running generations stopped). Thank you for being with us. /start begins anew.",
    unknown_command: "I did not get that. Open the menu: /start",
    error: "Something went wrong. Please try again.",
    gone: "That picture is gone.",
    slow_down: "Too many requests in a row. Try again in {seconds} s.",
};

impl Texts {
    /// An avatar's status in words.
    pub fn avatar_status(&self, status: AvatarStatus) -> &'static str {
        match status {
            AvatarStatus::Draft => self.status_draft,
            AvatarStatus::Training => self.status_training,
            AvatarStatus::Ready => self.status_ready,
            AvatarStatus::Failed => self.status_failed,
            AvatarStatus::Cancelled => self.status_cancelled,
        }
    }
}

/// Fills `{name}` placeholders.
pub fn fill(template: &str, values: &[(&str, &(dyn std::fmt::Display + Sync))]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

/// Cuts text to at most `max` characters (Telegram counts characters), marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_and_filling() {
        assert_eq!(Lang::from_code(Some("ru-RU")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("de")), Lang::En);
        assert_eq!(Lang::from_code(None), Lang::En);
        assert_eq!(fill("{a} and {b}", &[("a", &1), ("b", &"x")]), "1 and x");
        assert_eq!(truncate("абвгд", 3), "аб…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
