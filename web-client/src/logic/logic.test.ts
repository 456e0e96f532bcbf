import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER, fromSaved, isEmpty, toVariables } from './filters';
import { START, append, visibleRows } from './paging';
import { advance } from './progress';

describe('filters', () => {
  it('send only what narrows', () => {
    expect(toVariables(EMPTY_FILTER)).toEqual({});
    expect(isEmpty(EMPTY_FILTER)).toBe(true);
    const now = new Date('2026-12-08T00:00:00Z');
    const filter = { ...EMPTY_FILTER, type: 'VIDEO' as const, favoritesOnly: true, period: 'week' as const, search: '  fox ' };
    expect(toVariables(filter, now)).toEqual({
      types: ['VIDEO'],
      favoritesOnly: true,
      createdAfter: '2026-12-01T00:00:00.000Z',
      promptContains: 'fox',
    });
  });
  it('read a saved filter back', () => {
    const saved = { types: ['LOCAL' as const], models: [], favoritesOnly: false, aspectRatios: ['16:9'], promptContains: null };
    expect(fromSaved(saved)).toEqual({ ...EMPTY_FILTER, type: 'LOCAL', aspectRatio: '16:9' });
  });
});

describe('paging', () => {
  it('appends pages once each and stops at the end', () => {
    const first = append(START, { items: [{ id: 'a' }, { id: 'b' }], endCursor: 'c1', hasNextPage: true });
    expect(first).toEqual({ items: [{ id: 'a' }, { id: 'b' }], cursor: 'c1', done: false });
    const second = append(first, { items: [{ id: 'b' }, { id: 'c' }], endCursor: 'c2', hasNextPage: false });
    expect(second.items.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(second).toMatchObject({ cursor: 'c2', done: true });
  });
  it('renders only the rows on screen', () => {
    expect(visibleRows(0, 600, 120, 1000)).toEqual({ first: 0, last: 8 });
    expect(visibleRows(12_000, 600, 120, 1000)).toEqual({ first: 97, last: 108 });
    expect(visibleRows(0, 600, 120, 0)).toEqual({ first: 0, last: -1 });
  });
});

describe('progress', () => {
  it('moves forward only and ends at 100 %', () => {
    let view = advance(null, { status: 'QUEUED', progress: 10, queuePosition: 2, eta: 9, error: null });
    expect(view).toMatchObject({ stage: 'queued', percent: 10, queuePosition: 2, finished: false });
    view = advance(view, { status: 'RUNNING', progress: 60, queuePosition: null, eta: 3, error: null });
    view = advance(view, { status: 'RUNNING', progress: 40, queuePosition: null, eta: 4, error: null });
    expect(view.percent).toBe(60);
    view = advance(view, { status: 'COMPLETED', progress: 100, queuePosition: null, eta: null, error: null });
    expect(view).toMatchObject({ stage: 'done', percent: 100, finished: true, eta: null });
    const late = advance(view, { status: 'RUNNING', progress: 70, queuePosition: null, eta: 1, error: null });
    expect(late).toBe(view);
  });
});
