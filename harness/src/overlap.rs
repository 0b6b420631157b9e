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
    let mut unit = ();
    let fed: Result<_, std::convert::Infallible> = pipelined(
        &mut unit,
        items,
        chunk,
        |(), item| Ok(Some(item)),
        pure,
        |()| Ok(ordered()),
    );
    match fed {
        Ok(done) => done,
        Err(never) => match never {},
    }
}

/// Runs `ordered` over `items` in order on this thread, with `state`; each
/// chunk of its outputs goes to `pure` on the pool as soon as the chunk is
/// through, so the pool works on one chunk while this thread does the next.
/// Then this thread runs `then` (the pool still busy), and finally helps the
/// pool finish. Returns `pure`'s results in order and what `then` returned;
/// stops at the first error of `ordered` or `then`.
pub(crate) fn pipelined<S, T, V, U, E, R>(
    state: &mut S,
    items: Vec<T>,
    chunk: usize,
    mut ordered: impl FnMut(&mut S, T) -> Result<Option<V>, E>,
    pure: impl Fn(V) -> U + Sync,
    then: impl FnOnce(&mut S) -> Result<R, E>,
) -> Result<(Vec<U>, R), E>
where
    V: Send,
    U: Send,
{
    let done = Done::new();
    let (pure, finished) = (&pure, &done);
    let chunk = chunk.max(1);
    let returned = rayon::in_place_scope(|scope| {
        let mut items = items.into_iter().peekable();
        let mut position = 0;
        while items.peek().is_some() {
            let mut part = Vec::with_capacity(chunk);
            for item in items.by_ref().take(chunk) {
                part.extend(ordered(state, item)?);
            }
            scope.spawn(move |_| finished.put(position, part.into_iter().map(pure).collect()));
            position += 1;
        }
        then(state)
    })?;
    Ok((done.into_ordered(), returned))
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
        let out: Result<(Vec<String>, usize), ()> = pipelined(
            &mut order,
            (0..100u32).collect(),
            LIGHT,
            |order, x| {
                order.push(x);
                Ok((x % 3 != 0).then_some(x))
            },
            |x| format!("<{x}>"),
            |order| Ok(order.len()),
        );
        let (out, seen) = out.unwrap();
        assert_eq!(seen, 100);
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
        let out: Result<(Vec<u32>, ()), u32> = pipelined(
            &mut calls,
            (0..100u32).collect(),
            LIGHT,
            |calls, x| {
                *calls += 1;
                if x == 40 { Err(x) } else { Ok(Some(x)) }
            },
            |x| x,
            |_| Ok(()),
        );
        assert_eq!(out, Err(40));
        assert_eq!(calls, 41);
        let then_fails: Result<(Vec<u32>, ()), u32> = pipelined(
            &mut (),
            vec![1, 2],
            LIGHT,
            |(), x| Ok(Some(x)),
            |x| x,
            |()| Err(7),
        );
        assert_eq!(then_fails, Err(7));
    }

    #[test]
    fn empty_batches_are_fine() {
        let (out, ()) = alongside(Vec::<u8>::new(), 1, |x| x, || ());
        assert!(out.is_empty());
        let out: Result<(Vec<u8>, ()), ()> = pipelined(
            &mut (),
            Vec::<u8>::new(),
            LIGHT,
            |(), x| Ok(Some(x)),
            |x| x,
            |()| Ok(()),
        );
        assert_eq!(out, Ok((Vec::new(), ())));
    }
}
