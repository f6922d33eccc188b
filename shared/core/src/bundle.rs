//! The model bundle: everything a trained study needs to score a patient at another site, in one
//! versioned file. A header (JSON: format version, the software version that made it, the training
//! study, the preprocessing and radiomic settings the inputs must be made with) and named parts: the
//! network weights (`network.mpk`), its shape (`deep_model.json`), the Rad-score, fusion and CRM
//! coefficients with the cut-points (`models.json`), and the training cohort's survival times
//! (`training_survival.parquet`, no identifiers: the censoring distribution of Uno's C and the
//! time-dependent AUC).
//!
//! Layout: `TFBUNDLE\n`, a u64 LE length and the header, then for each part (in the header's order)
//! a u64 LE length and its bytes.

use serde::{Deserialize, Serialize};

const MAGIC: &[u8] = b"TFBUNDLE\n";
/// The bundle format this code writes and reads.
pub const FORMAT: u32 = 1;

/// Why bytes are not a usable bundle.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    /// Wrong magic, truncated, or a malformed header.
    #[error("model bundle: {0}")]
    Format(String),
    /// Made by a format this code does not read.
    #[error("model bundle format {found} (this tacefusion reads format {FORMAT}; it was made by tacefusion {software})")]
    Version {
        /// Its format.
        found: u32,
        /// The software that made it.
        software: String,
    },
    /// A part the caller needs is absent.
    #[error("model bundle has no part {0}")]
    Missing(String),
}

/// What the bundle says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleHeader {
    /// Format version ([`FORMAT`]).
    pub format: u32,
    /// Version of the tacefusion that trained it.
    pub software: String,
    /// Name of the training study.
    pub study: String,
    /// Settings new patients' inputs must be made with (crop, label, phases, radiomics).
    pub settings: serde_json::Value,
    /// Part names and sizes, in file order.
    pub parts: Vec<(String, u64)>,
}

/// A bundle in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBundle {
    /// Its header.
    pub header: BundleHeader,
    /// Its parts' bytes, in the header's order.
    pub parts: Vec<Vec<u8>>,
}

impl ModelBundle {
    /// A bundle of `parts` (name, bytes).
    pub fn new(study: &str, software: &str, settings: serde_json::Value, parts: Vec<(String, Vec<u8>)>) -> Self {
        let header = BundleHeader {
            format: FORMAT,
            software: software.to_string(),
            study: study.to_string(),
            settings,
            parts: parts.iter().map(|(n, b)| (n.clone(), b.len() as u64)).collect(),
        };
        Self { header, parts: parts.into_iter().map(|(_, b)| b).collect() }
    }

    /// The bytes of part `name`.
    pub fn part(&self, name: &str) -> Result<&[u8], BundleError> {
        self.header
            .parts
            .iter()
            .position(|(n, _)| n == name)
            .map(|k| self.parts[k].as_slice())
            .ok_or_else(|| BundleError::Missing(name.into()))
    }

    /// Encodes the bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("bundle header serialises");
        let mut out = MAGIC.to_vec();
        for part in std::iter::once(&header).chain(&self.parts) {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Decodes a bundle, refusing another format version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BundleError> {
        let mut rest = bytes.strip_prefix(MAGIC).ok_or_else(|| BundleError::Format("not a tacefusion model bundle".into()))?;
        let mut take = |what: &str| -> Result<Vec<u8>, BundleError> {
            let truncated = || BundleError::Format(format!("truncated in {what}"));
            let len = u64::from_le_bytes(rest.get(..8).ok_or_else(truncated)?.try_into().expect("8 bytes")) as usize;
            let part = rest.get(8..8usize.checked_add(len).ok_or_else(truncated)?).ok_or_else(truncated)?.to_vec();
            rest = &rest[8 + len..];
            Ok(part)
        };
        let header_bytes = take("the header")?;
        // the version first, so that a future format is named as such
        let raw: serde_json::Value = serde_json::from_slice(&header_bytes).map_err(|e| BundleError::Format(format!("header: {e}")))?;
        let found = raw.get("format").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if found != FORMAT {
            let software = raw.get("software").and_then(|v| v.as_str()).unwrap_or("?").to_string();
            return Err(BundleError::Version { found, software });
        }
        let header: BundleHeader = serde_json::from_value(raw).map_err(|e| BundleError::Format(format!("header: {e}")))?;
        let mut parts = Vec::with_capacity(header.parts.len());
        for (name, size) in &header.parts {
            let part = take(&format!("part {name}"))?;
            if part.len() as u64 != *size {
                return Err(BundleError::Format(format!("part {name}: {} bytes, the header says {size}", part.len())));
            }
            parts.push(part);
        }
        if !rest.is_empty() {
            return Err(BundleError::Format(format!("{} bytes after the last part", rest.len())));
        }
        Ok(Self { header, parts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> ModelBundle {
        ModelBundle::new(
            "study",
            "0.1.0",
            serde_json::json!({ "crop": { "crop_size": [16, 16, 16] } }),
            vec![("network.mpk".into(), vec![1, 2, 3]), ("models.json".into(), b"{}".to_vec())],
        )
    }

    #[test]
    fn round_trip_parts_and_refusals() {
        let b = bundle();
        let bytes = b.to_bytes();
        let back = ModelBundle::from_bytes(&bytes).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.part("models.json").unwrap(), b"{}");
        assert_eq!(back.part("nope"), Err(BundleError::Missing("nope".into())));
        for cut in [4, 20, bytes.len() - 1] {
            assert!(matches!(ModelBundle::from_bytes(&bytes[..cut]), Err(BundleError::Format(_))), "cut at {cut}");
        }
        let mut future = b.clone();
        future.header.format = FORMAT + 1;
        future.header.software = "9.9.9".into();
        let e = ModelBundle::from_bytes(&future.to_bytes()).unwrap_err();
        assert_eq!(e, BundleError::Version { found: FORMAT + 1, software: "9.9.9".into() });
        assert!(e.to_string().contains("9.9.9"));
    }
}
