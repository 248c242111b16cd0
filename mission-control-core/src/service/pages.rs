//! Answers bounded in bytes, not only in items: a page of tasks, comments or changes stops at
//! its `limit` of items or at about [`PAGE_MAX_BYTES`] of JSON, whichever comes first, and says
//! that more follow. An item is bounded by the domain's own limits (a task or a comment of
//! 10,000 characters is some tens of kilobytes), and a page always holds at least one, so
//! paging always moves on however large the items are.
//!
//! Why bytes: a page of 500 tasks with long descriptions is 20 MB, and a client that asks for
//! it and never reads the answer would make the server hold all of it. Items are read in small
//! chunks inside one read transaction (the page shows one moment), so no more than a chunk past
//! the budget is ever read.

use serde::Serialize;

use super::MissionControl;
use super::tasks::TaskPage;
use crate::error::Result;
use crate::store::{TaskCursor, TaskFilter, changes, tasks};

/// The most JSON one page of tasks or comments carries, give or take one item.
pub const PAGE_MAX_BYTES: usize = 1024 * 1024;
/// The most one page of the change log carries (payload bytes), give or take one change: what
/// a resuming client or event stream holds at a time.
pub const CHANGES_PAGE_MAX_BYTES: usize = 256 * 1024;
/// Items read from the database at a time while a page fills.
const CHUNK: usize = 32;

/// The length of `item` as JSON, without building the text.
pub(crate) fn json_len<T: Serialize>(item: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, item) {
        Ok(()) => counter.0,
        // Cannot happen for the domain's types; count it as a full page so it stands alone.
        Err(_) => PAGE_MAX_BYTES,
    }
}

/// Up to `limit` items whose sizes add up to at most `max_bytes` (at least one item), read in
/// chunks by `read(last, n)`: the `n` items after `last` (after the page's own start when
/// `last` is `None`). The items, and whether more follow.
pub(crate) fn collect_within<T>(
    limit: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
    mut read: impl FnMut(Option<&T>, usize) -> Result<Vec<T>>,
) -> Result<(Vec<T>, bool)> {
    let limit = limit.max(1);
    let mut kept: Vec<T> = Vec::new();
    let mut bytes = 0usize;
    loop {
        // One more than the limit, to know whether more follow.
        let want = (limit + 1 - kept.len()).min(CHUNK);
        let chunk = read(kept.last(), want)?;
        let last_chunk = chunk.len() < want;
        for item in chunk {
            let item_bytes = size(&item) + 1;
            if kept.len() == limit || (!kept.is_empty() && bytes + item_bytes > max_bytes) {
                return Ok((kept, true));
            }
            bytes += item_bytes;
            kept.push(item);
        }
        if last_chunk {
            return Ok((kept, false));
        }
    }
}

impl MissionControl {
    /// Up to `limit` tasks matching `filter` after `after`, oldest first, within `max_bytes` of
    /// JSON (at least one task): one page, where the next starts, and the change log's position
    /// at the time of the read.
    pub async fn list_tasks_within(
        &self,
        filter: TaskFilter,
        after: Option<TaskCursor>,
        limit: usize,
        max_bytes: usize,
    ) -> Result<TaskPage> {
        self.read_snapshot(move |conn| {
            let seq = changes::latest(conn)?;
            let (tasks, more) = collect_within(limit, max_bytes, json_len, |last, n| {
                let from = last.map(TaskCursor::after);
                tasks::page(conn, &filter, from.as_ref().or(after.as_ref()), n)
            })?;
            let next = if more {
                tasks.last().map(TaskCursor::after)
            } else {
                None
            };
            Ok(TaskPage { tasks, next, seq })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_from(items: &[usize]) -> impl FnMut(Option<&usize>, usize) -> Result<Vec<usize>> {
        let items = items.to_vec();
        move |last, n| {
            let start = last.map_or(0, |l| items.iter().position(|i| i == l).unwrap() + 1);
            Ok(items[start..].iter().take(n).copied().collect())
        }
    }

    #[test]
    fn a_page_stops_at_its_limit_or_its_bytes_and_says_more_follow() {
        let items: Vec<usize> = (0..100).collect();
        let size = |_: &usize| 9; // 10 bytes each with the separator
        let (page, more) = collect_within(10, 1000, size, read_from(&items)).unwrap();
        assert_eq!((page.len(), more), (10, true));
        let (page, more) = collect_within(500, 255, size, read_from(&items)).unwrap();
        assert_eq!((page.len(), more), (25, true));
        let (page, more) = collect_within(500, 100_000, size, read_from(&items)).unwrap();
        assert_eq!((page.len(), more), (100, false));
        let (page, more) = collect_within(100, 100_000, size, read_from(&items)).unwrap();
        assert_eq!(
            (page.len(), more),
            (100, false),
            "exactly the limit, and no more"
        );
    }

    #[test]
    fn one_item_larger_than_the_budget_still_makes_a_page() {
        let items: Vec<usize> = (0..3).collect();
        let (page, more) = collect_within(10, 5, |_| 1000, read_from(&items)).unwrap();
        assert_eq!((page, more), (vec![0], true));
    }
}
