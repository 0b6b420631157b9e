//! Ordered work on this thread, pure work on the other cores at the same time.
//!
//! A batch has steps that must run in order against the workspace (serving a
//! sync, an Apple check-in) and steps that touch nothing shared (writing and
//! parsing JSON). Run one after the other, the other cores idle through every
//! ordered step. These two helpers let the pure work run *while* the ordered
//! work does: the pure items go to the pool in chunks, this thread does the
//! ordered work, then helps finish the chunks. Results come back in item
//! order, so a run is the same on any number of cores.

use std::sync::{Mutex, PoisonError};

/// Items per task handed to the pool for light items (a JSON message):
/// enough to outweigh the cost of a task, few enough that both cores get work
/// from a minute's batch. Heavy items (a device's keys and certificates) go
/// one per task.
pub(crate) const LIGHT: usize = 32;

/// Finished chunks, tagged with their position.
struct Done<U>(Mutex<Vec<(usize, Vec<U>)>>);

impl<U> Done<U> {
    fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    fn put(&self, position: usize, results: Vec<U>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((position, results));
    }

    /// The results of every chunk, in chunk order.
    fn into_ordered(self) -> Vec<U> {
        let mut chunks = self.0.into_inner().unwrap_or_else(PoisonError::into_inner);
        chunks.sort_unstable_by_key(|(position, _)| *position);
        chunks
            .into_iter()
            .flat_map(|(_, results)| results)
            .collect()
    }
}

/// Runs `pure` over `items` on the pool, `chunk` items per task, while this
/// thread runs `ordered`. Returns `pure`'s results in the order of `items`,
/// and what `ordered` returned.
pub(crate) fn alongside<T, U, R>(
    items: Vec<T>,
    chunk: usize,
    pure: impl Fn(T) -> U + Sync,
    ordered: impl FnOnce() -> R,
) -> (Vec<U>, R)
where
    T: Send,
    U: Send,
{
    let done = Done::new();
    let (pure, finished) = (&pure, &done);
    let returned = rayon::in_place_scope(|scope| {
        let mut items = items.into_iter();
        let mut position = 0;
        loop {
            let part: Vec<T> = items.by_ref().take(chunk.max(1)).collect();
            if part.is_empty() {
                break;
            }
            scope.spawn(move |_| finished.put(position, part.into_iter().map(pure).collect()));
            position += 1;
        }
        ordered()
    });
    (done.into_ordered(), returned)
}

/// Runs `ordered` over `items` in order on this thread; each chunk's outputs
/// go to `pure` on the pool as soon as the chunk is through, so the pool works
/// on one chunk while this thread does the next. Returns `pure`'s results in
/// order; stops at `ordered`'s first error.
pub(crate) fn pipelined<T, V, U, E>(
    items: Vec<T>,
    mut ordered: impl FnMut(T) -> Result<Option<V>, E>,
    pure: impl Fn(V) -> U + Sync,
) -> Result<Vec<U>, E>
where
    V: Send,
    U: Send,
{
    let done = Done::new();
    let (pure, finished) = (&pure, &done);
    rayon::in_place_scope(|scope| {
        let mut items = items.into_iter().peekable();
        let mut position = 0;
        while items.peek().is_some() {
            let mut chunk = Vec::with_capacity(LIGHT);
            for item in items.by_ref().take(LIGHT) {
                chunk.extend(ordered(item)?);
            }
            scope.spawn(move |_| finished.put(position, chunk.into_iter().map(pure).collect()));
            position += 1;
        }
        Ok(())
    })?;
    Ok(done.into_ordered())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alongside_keeps_item_order_and_runs_the_ordered_work() {
        let items: Vec<u32> = (0..1000).collect();
        let mut seen = Vec::new();
        let (squares, returned) = alongside(
            items,
            LIGHT,
            |x| u64::from(x) * u64::from(x),
            || {
                seen.extend(0..5);
                "done"
            },
        );
        assert_eq!(returned, "done");
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
        assert_eq!(squares.len(), 1000);
        assert!(
            squares
                .iter()
                .enumerate()
                .all(|(i, &s)| s == (i * i) as u64)
        );
    }

    #[test]
    fn pipelined_runs_ordered_in_order_and_keeps_outputs_in_order() {
        let mut order = Vec::new();
        let out: Result<Vec<String>, ()> = pipelined(
            (0..100u32).collect(),
            |x| {
                order.push(x);
                Ok((x % 3 != 0).then_some(x))
            },
            |x| format!("<{x}>"),
        );
        let out = out.unwrap();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
        let expected: Vec<String> = (0..100u32)
            .filter(|x| x % 3 != 0)
            .map(|x| format!("<{x}>"))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn pipelined_stops_at_the_first_error() {
        let mut calls = 0;
        let out: Result<Vec<u32>, u32> = pipelined(
            (0..100u32).collect(),
            |x| {
                calls += 1;
                if x == 40 { Err(x) } else { Ok(Some(x)) }
            },
            |x| x,
        );
        assert_eq!(out, Err(40));
        assert_eq!(calls, 41);
    }

    #[test]
    fn empty_batches_are_fine() {
        let (out, ()) = alongside(Vec::<u8>::new(), 1, |x| x, || ());
        assert!(out.is_empty());
        let out: Result<Vec<u8>, ()> = pipelined(Vec::<u8>::new(), |x| Ok(Some(x)), |x| x);
        assert_eq!(out, Ok(Vec::new()));
    }
}
