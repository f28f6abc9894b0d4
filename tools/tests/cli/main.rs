//! The operator CLIs run as processes over temporary directories.

mod decrypt;
mod housekeeping;
mod keygen;
mod util;
