//! The event queue: a calendar queue of (virtual time, device, event).
//!
//! Time is cut into buckets of a fixed width; scheduling is a push onto a
//! bucket's vector and taking the next bucket sorts it by (time, device,
//! order of scheduling). That is a priority queue with O(1) pushes, and the
//! order of events is a pure function of what was scheduled, so runs are
//! reproducible from their seed.

use crate::SimTime;

/// One scheduled event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scheduled<E> {
    /// When it happens.
    pub at: SimTime,
    /// The simulated device it concerns (or [`ADMIN`] for the administrator).
    pub device: u32,
    /// What happens.
    pub event: E,
    seq: u64,
}

/// The pseudo-device of events that are the administrator's.
pub const ADMIN: u32 = u32::MAX;

/// A calendar queue over a run of fixed length.
#[derive(Debug)]
pub struct EventQueue<E> {
    width: u32,
    buckets: Vec<Vec<Scheduled<E>>>,
    cursor: usize,
    len: usize,
    seq: u64,
}

impl<E> EventQueue<E> {
    /// A queue for a run of `horizon`, in buckets of `width` seconds.
    #[must_use]
    pub fn new(horizon: SimTime, width: u32) -> Self {
        let width = width.max(1);
        let count = (horizon.0 / width) as usize + 1;
        Self {
            width,
            buckets: (0..count).map(|_| Vec::new()).collect(),
            cursor: 0,
            len: 0,
            seq: 0,
        }
    }

    /// Schedules an event. Events past the horizon are dropped (the run ends
    /// first) and `false` is returned; events in the past happen at once.
    pub fn push(&mut self, at: SimTime, device: u32, event: E) -> bool {
        let index = ((at.0 / self.width) as usize).max(self.cursor);
        let Some(bucket) = self.buckets.get_mut(index) else {
            return false;
        };
        self.seq += 1;
        bucket.push(Scheduled {
            at,
            device,
            event,
            seq: self.seq,
        });
        self.len += 1;
        true
    }

    /// The next non-empty bucket's events, in (time, device, scheduling) order.
    /// Events scheduled into the bucket being handled come out in the next call.
    pub fn pop_batch(&mut self) -> Option<Vec<Scheduled<E>>> {
        while let Some(bucket) = self.buckets.get_mut(self.cursor) {
            if bucket.is_empty() {
                self.cursor += 1;
                continue;
            }
            let mut batch = std::mem::take(bucket);
            batch.sort_unstable_by_key(|s| (s.at, s.device, s.seq));
            self.len -= batch.len();
            return Some(batch);
        }
        None
    }

    /// How many events are waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is waiting.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The start of the bucket being handled.
    #[must_use]
    pub fn now(&self) -> SimTime {
        SimTime(
            u32::try_from(self.cursor)
                .unwrap_or(u32::MAX)
                .saturating_mul(self.width),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn events_come_out_in_time_then_device_order() {
        let mut q = EventQueue::new(SimTime::hours(2), 60);
        q.push(SimTime(130), 2, 'c');
        q.push(SimTime(10), 5, 'b');
        q.push(SimTime(10), 1, 'a');
        q.push(SimTime(7200), 1, 'z');
        assert!(!q.push(SimTime(7261), 1, 'x'));
        let order: Vec<char> = std::iter::from_fn(|| q.pop_batch())
            .flatten()
            .map(|s| s.event)
            .collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'z']);
        assert!(q.is_empty());
    }

    #[test]
    fn events_scheduled_while_handling_a_bucket_come_next() {
        let mut q = EventQueue::new(SimTime::hours(1), 60);
        q.push(SimTime(5), 0, 1);
        let first = q.pop_batch().unwrap();
        assert_eq!(first.len(), 1);
        q.push(SimTime(0), 0, 2); // in the past: happens at once
        q.push(SimTime(30), 0, 3);
        let second: Vec<_> = q
            .pop_batch()
            .unwrap()
            .into_iter()
            .map(|s| s.event)
            .collect();
        assert_eq!(second, vec![2, 3]);
    }

    proptest! {
        #[test]
        fn pops_are_sorted_and_complete(times in proptest::collection::vec(0u32..10_000, 0..200)) {
            let mut q = EventQueue::new(SimTime(10_000), 97);
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime(*t), u32::try_from(i % 7).unwrap(), i);
            }
            let out: Vec<_> = std::iter::from_fn(|| q.pop_batch()).flatten().collect();
            prop_assert_eq!(out.len(), times.len());
            prop_assert!(out.windows(2).all(|w| (w[0].at, w[0].device) <= (w[1].at, w[1].device)));
        }
    }
}
