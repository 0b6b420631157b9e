//! Hostile input for the apple side.
