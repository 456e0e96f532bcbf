// The gallery's filter as the screen holds it, and as the API takes it (`GalleryFilter`).
import type { VariablesOf } from '../api/graphql';
import type { Gallery } from '../api/operations';

/** The schema's `ImageType`: a type the schema no longer has fails the build. */
export type ImageType = NonNullable<NonNullable<VariablesOf<typeof Gallery>['filter']>['types']>[number];

export type Period = 'all' | 'day' | 'week' | 'month';

export interface FilterState {
  type: ImageType | null;
  model: string | null;
  favoritesOnly: boolean;
  period: Period;
  aspectRatio: string | null;
  search: string;
}

export const EMPTY_FILTER: FilterState = {
  type: null,
  model: null,
  favoritesOnly: false,
  period: 'all',
  aspectRatio: null,
  search: '',
};

const DAYS: Record<Exclude<Period, 'all'>, number> = { day: 1, week: 7, month: 30 };

export interface FilterVariables {
  types?: ImageType[];
  models?: string[];
  favoritesOnly?: boolean;
  createdAfter?: string;
  aspectRatios?: string[];
  promptContains?: string;
}

/** Only what narrows goes out: an empty filter is `{}`. `now` fixes the period's start. */
export function toVariables(filter: FilterState, now: Date = new Date()): FilterVariables {
  const out: FilterVariables = {};
  if (filter.type) out.types = [filter.type];
  if (filter.model) out.models = [filter.model];
  if (filter.favoritesOnly) out.favoritesOnly = true;
  if (filter.period !== 'all') {
    out.createdAfter = new Date(now.getTime() - DAYS[filter.period] * 86_400_000).toISOString();
  }
  if (filter.aspectRatio) out.aspectRatios = [filter.aspectRatio];
  const search = filter.search.trim();
  if (search) out.promptContains = search.slice(0, 200);
  return out;
}

/** A saved filter (the API's shape) as the screen holds it; what the screen cannot show is dropped. */
export function fromSaved(saved: {
  types: ImageType[];
  models: string[];
  favoritesOnly: boolean;
  aspectRatios: string[];
  promptContains: string | null;
}): FilterState {
  return {
    type: saved.types[0] ?? null,
    model: saved.models[0] ?? null,
    favoritesOnly: saved.favoritesOnly,
    period: 'all',
    aspectRatio: saved.aspectRatios[0] ?? null,
    search: saved.promptContains ?? '',
  };
}

export function isEmpty(filter: FilterState): boolean {
  return Object.keys(toVariables(filter)).length === 0;
}
