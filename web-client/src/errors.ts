// What an error means to a person: never a raw code.
import { ApiError, NetworkError } from './api/graphql';
import type { Texts } from './i18n';

export interface Explained {
  text: string;
  /** What the user can do about it. */
  action: 'top-up' | 'retry' | 'sign-in' | null;
}

export function explain(error: unknown, t: Texts): Explained {
  if (error instanceof NetworkError) return { text: t.offline, action: 'retry' };
  if (!(error instanceof ApiError)) return { text: t.somethingWrong, action: 'retry' };
  switch (error.code) {
    case 'INSUFFICIENT_CREDITS':
      return { text: t.insufficient, action: 'top-up' };
    case 'RATE_LIMITED': {
      const wait = Number(error.details.retryAfter ?? 30);
      return { text: t.rateLimited(Number.isFinite(wait) ? Math.ceil(wait) : 30), action: null };
    }
    case 'UNAUTHENTICATED':
      return { text: t.badToken, action: 'sign-in' };
    case 'BAD_USER_INPUT':
    case 'NOT_FOUND':
    case 'FORBIDDEN':
    case 'UNAVAILABLE':
      return { text: error.message, action: error.code === 'UNAVAILABLE' ? 'retry' : null };
    default:
      return { text: t.somethingWrong, action: 'retry' };
  }
}
