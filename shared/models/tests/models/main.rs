//! Integration tests of the deep-learning model: the loss against the survival crate's partial
//! likelihood, and training on crops with a planted effect.

mod loss;
mod training;
