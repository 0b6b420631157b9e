//! How much command history a store keeps, so a queue never grows without
//! bound (issue #18; Fleet's 1.33M stale queue rows are the counter-example).

/// The retention rule of every command queue, on every store and both
/// platforms (Apple's queues in `mdm-apple`, the Android agent's in
/// `mdm-android`): a device keeps its pending commands (all of them, until
/// their final result) and its **last `finished_per_device` finished
/// commands** with their results; when another one finishes, the oldest
/// beyond that is deleted in the same step (the same transaction, on a
/// durable store). A late result for a deleted command is treated as one
/// for an unknown command (ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Finished commands (with results) kept per device.
    pub finished_per_device: usize,
}

impl Retention {
    /// The default: the last 20 finished commands of each device.
    pub const DEFAULT: Self = Self {
        finished_per_device: 20,
    };
}

impl Default for Retention {
    fn default() -> Self {
        Self::DEFAULT
    }
}
