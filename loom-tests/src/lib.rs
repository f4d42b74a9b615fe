//! Loom models of the concurrent core (see the README).
