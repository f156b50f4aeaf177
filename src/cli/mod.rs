//! Headless commands (placeholder until the inspect command lands).
pub mod inspect;
