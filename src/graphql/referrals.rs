//! `me.referrals`: the user's referral code and link, and how their invitations went.

use async_graphql::{Context, SimpleObject};

use super::context::services;
use crate::domain::{Result, referrals::ReferralReward, referrals::start_parameter};

#[derive(SimpleObject)]
pub struct Referrals {
    /// The code alone.
    code: String,
    /// `ref_<code>`: the bot's `/start` payload, or a Mini App's `startapp`.
    start_parameter: String,
    /// The bot's `t.me` link that starts it with the code; null when the server does not know
    /// the bot's name (`TELEGRAM_BOT_USERNAME`).
    link: Option<String>,
    /// Users who arrived through the code.
    count: i64,
    /// Those whose first top-up paid the reward.
    rewarded: i64,
    credits_earned: i64,
    /// The reward for a friend's first top-up: a number of credits, or null.
    reward_credits: Option<i64>,
    /// The reward as a percent of that top-up's credits, or null.
    reward_percent: Option<i64>,
}

pub async fn of_user(ctx: &Context<'_>, user_id: i64) -> Result<Referrals> {
    let referrals = &services(ctx).referrals;
    let stats = referrals.of_user(user_id).await?;
    let (reward_credits, reward_percent) = match referrals.reward() {
        ReferralReward::Off => (None, None),
        ReferralReward::Credits(n) => (Some(n), None),
        ReferralReward::Percent(p) => (None, Some(p)),
    };
    Ok(Referrals {
        link: referrals.link(&stats.code),
        start_parameter: start_parameter(&stats.code),
        code: stats.code,
        count: stats.count,
        rewarded: stats.rewarded,
        credits_earned: stats.credits_earned,
        reward_credits,
        reward_percent,
    })
}
