//! Hostile input for the certs side.
