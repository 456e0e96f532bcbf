// Cursor paging through a connection: pages are appended in order, an item seen twice (the
// gallery changed between pages) is kept once, and the next cursor is the last page's.

export interface Page<T> {
  items: T[];
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface Paged<T> {
  items: T[];
  cursor: string | null;
  done: boolean;
}

export const START: Paged<never> = { items: [], cursor: null, done: false };

export function append<T extends { id: string }>(state: Paged<T>, page: Page<T>): Paged<T> {
  const seen = new Set(state.items.map((item) => item.id));
  const fresh = page.items.filter((item) => !seen.has(item.id));
  return {
    items: [...state.items, ...fresh],
    cursor: page.endCursor ?? state.cursor,
    done: !page.hasNextPage,
  };
}

/** Which rows of `rowHeight` px are on screen (plus `overscan` above and below). */
export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan = 3,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rowCount - 1, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, last: Math.max(first - 1, last) };
}
