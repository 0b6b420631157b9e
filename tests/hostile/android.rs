//! Hostile input for the android side.
