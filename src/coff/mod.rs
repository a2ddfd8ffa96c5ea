//! COFF objects: read sections and symbols, and grow one `.debug$S` section in place.
//!
//! (Being built: see issue 3.)
