//! Hostile input for the model side.
