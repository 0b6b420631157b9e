//! Hostile input for the packages side.
