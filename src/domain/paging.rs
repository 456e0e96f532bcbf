//! Keyset pages, newest first, read either way from a cursor: what every list of the domain
//! takes and gives (the gallery, generations, the ledger).

/// Which way a page goes from its cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageRequest<C> {
    /// The `n` items after the cursor (older), or the newest `n`.
    First(usize, Option<C>),
    /// The `n` items before the cursor (newer), or the oldest `n`.
    Last(usize, Option<C>),
}

/// The seek a repository runs for a [`PageRequest`]: from `cursor` (excluded), towards newer
/// items when `newer`, at most `limit` rows, in the order of the walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seek<C> {
    pub cursor: Option<C>,
    pub newer: bool,
    pub limit: u64,
}

/// One page, newest first whichever way it was read.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<C: Copy> PageRequest<C> {
    /// One row more than the page, to know whether there are more.
    pub fn seek(&self) -> Seek<C> {
        match *self {
            PageRequest::First(n, cursor) => Seek { cursor, newer: false, limit: n as u64 + 1 },
            PageRequest::Last(n, cursor) => Seek { cursor, newer: true, limit: n as u64 + 1 },
        }
    }

    /// The page of the rows that [`PageRequest::seek`] found, in the order it found them.
    pub fn page<T>(&self, mut rows: Vec<T>) -> Page<T> {
        match *self {
            PageRequest::First(n, after) => {
                let has_next = rows.len() > n;
                rows.truncate(n);
                Page { items: rows, has_previous: after.is_some(), has_next }
            }
            PageRequest::Last(n, before) => {
                let has_previous = rows.len() > n;
                rows.truncate(n);
                rows.reverse();
                Page { items: rows, has_previous, has_next: before.is_some() }
            }
        }
    }
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_newest_first_either_way_and_know_their_neighbours() {
        // Ids 10 (oldest) … 1 (newest) walked from cursor 5.
        let forward = PageRequest::First(2, Some(5));
        assert_eq!(forward.seek(), Seek { cursor: Some(5), newer: false, limit: 3 });
        assert_eq!(forward.page(vec![6, 7, 8]), Page { items: vec![6, 7], has_previous: true, has_next: true });
        let backward = PageRequest::Last(2, Some(5));
        assert!(backward.seek().newer);
        assert_eq!(backward.page(vec![4, 3]), Page { items: vec![3, 4], has_previous: false, has_next: true });
        let oldest = PageRequest::<i64>::Last(2, None);
        assert_eq!(oldest.page(vec![10, 9, 8]), Page { items: vec![9, 10], has_previous: true, has_next: false });
    }
}
