//! The patients a network trains on or scores: their crops `[channels, a, b, c]` side by side with
//! their survival, and the batch tensors made from them.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// Why crops and outcomes do not fit together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DataError {
    /// The voxels are not `n` crops of the shape.
    #[error("{voxels} voxels are not {n} crops of shape {shape:?}")]
    Voxels {
        /// Patients.
        n: usize,
        /// Crop shape.
        shape: [usize; 4],
        /// Voxels present.
        voxels: usize,
    },
    /// Outcomes and crops differ in number.
    #[error("{crops} crops but {times} times and {events} event flags")]
    Outcomes {
        /// Crops.
        crops: usize,
        /// Times.
        times: usize,
        /// Event flags.
        events: usize,
    },
    /// A survival time that cannot be used.
    #[error("patient {patient}: survival time {time} is not a finite number >= 0")]
    Time {
        /// The patient.
        patient: String,
        /// The time.
        time: f64,
    },
    /// A crop of another shape was added.
    #[error("patient {patient}: crop of shape {got:?}, the others are {want:?}")]
    Shape {
        /// The patient.
        patient: String,
        /// Its shape.
        got: Vec<usize>,
        /// Everyone else's.
        want: [usize; 4],
    },
}

/// Crops of `n` patients, with survival (times in months, death observed) when known.
#[derive(Debug, Clone, PartialEq)]
pub struct CropSet {
    /// `[channels, a, b, c]` of every crop.
    pub shape: [usize; 4],
    /// Patient ids, in row order.
    pub ids: Vec<String>,
    /// `n * channels * a * b * c` values, C order.
    pub voxels: Vec<f32>,
    /// Survival time per patient (empty when scoring patients without outcomes).
    pub time: Vec<f64>,
    /// Death observed per patient.
    pub event: Vec<bool>,
}

impl CropSet {
    /// An empty set of crops of `shape`.
    pub fn new(shape: [usize; 4]) -> Self {
        Self { shape, ids: Vec::new(), voxels: Vec::new(), time: Vec::new(), event: Vec::new() }
    }

    /// Adds one patient's crop (with its outcome, or `None` when scoring only).
    pub fn push(&mut self, id: &str, shape: &[usize], voxels: &[f32], outcome: Option<(f64, bool)>) -> Result<(), DataError> {
        if shape != self.shape || voxels.len() != self.crop_len() {
            return Err(DataError::Shape { patient: id.to_string(), got: shape.to_vec(), want: self.shape });
        }
        self.ids.push(id.to_string());
        self.voxels.extend_from_slice(voxels);
        if let Some((t, e)) = outcome {
            self.time.push(t);
            self.event.push(e);
        }
        Ok(())
    }

    /// Checks that voxels, ids and outcomes agree.
    pub fn check(&self, with_outcomes: bool) -> Result<(), DataError> {
        let n = self.ids.len();
        if self.voxels.len() != n * self.crop_len() {
            return Err(DataError::Voxels { n, shape: self.shape, voxels: self.voxels.len() });
        }
        if with_outcomes && (self.time.len() != n || self.event.len() != n) {
            return Err(DataError::Outcomes { crops: n, times: self.time.len(), events: self.event.len() });
        }
        if with_outcomes && let Some(i) = self.time.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(DataError::Time { patient: self.ids[i].clone(), time: self.time[i] });
        }
        Ok(())
    }

    /// Patients.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No patient.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Values per crop.
    pub fn crop_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// The crop of patient `i`.
    pub fn crop(&self, i: usize) -> &[f32] {
        let len = self.crop_len();
        &self.voxels[i * len..(i + 1) * len]
    }

    /// The patients `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Self {
        let mut out = Self::new(self.shape);
        for &i in rows {
            out.ids.push(self.ids[i].clone());
            out.voxels.extend_from_slice(self.crop(i));
            if i < self.time.len() {
                out.time.push(self.time[i]);
                out.event.push(self.event[i]);
            }
        }
        out
    }
}

/// A batch tensor `[rows, channels, a, b, c]` from crops laid end to end.
pub fn batch_tensor<B: Backend>(shape: [usize; 4], values: Vec<f32>, device: &B::Device) -> Tensor<B, 5> {
    let rows = values.len() / shape.iter().product::<usize>();
    let [c, a, b, d] = shape;
    Tensor::from_data(TensorData::new(values, [rows, c, a, b, d]), device)
}
