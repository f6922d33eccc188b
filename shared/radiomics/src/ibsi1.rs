//! IBSI 1 image processing that pyradiomics does not do, used when [`Settings`] asks for it:
//! interpolation of image and mask onto IBSI's grid (centred on the image, whole image, mask by
//! interpolation and a partial-volume threshold; `tacefusion_imaging::interpolate`), and intensity
//! outlier filtering (mean +- n SD of the ROI) combined with a re-segmentation range.

use tacefusion_imaging::Volume;
use tacefusion_imaging::interpolate::{interpolate_image, interpolate_mask};

use crate::error::RadiomicsError;
use crate::extract::{Resegment, ResegmentMode, Settings, resegment_bounds};
use crate::roi::Roi;

/// Image and mask interpolated as `settings.interpolation` asks (None when it does not), with the
/// settings left to apply. Comes first in the pipeline, as IBSI interpolates before re-segmentation
/// and discretisation; pyradiomics' own resampling (`resample`) cannot be combined with it.
pub(crate) fn interpolated(
    image: &Volume<f32>,
    mask: &Volume<f32>,
    settings: &Settings,
) -> Result<Option<(Volume<f32>, Volume<f32>, Settings)>, RadiomicsError> {
    let Some(interpolation) = settings.interpolation else { return Ok(None) };
    if settings.resample.is_some() {
        return Err(RadiomicsError::Setting {
            name: "interpolation",
            detail: "IBSI interpolation and pyradiomics' resampledPixelSpacing exclude each other".into(),
        });
    }
    if let Some(difference) = image.geometry.difference(&mask.geometry, 1e-3) {
        return Err(RadiomicsError::GridMismatch { difference });
    }
    let invalid =
        |e: tacefusion_imaging::interpolate::InterpolationError| RadiomicsError::Setting { name: "interpolation", detail: e.to_string() };
    let new_image = interpolate_image(image, &interpolation).map_err(invalid)?;
    let new_mask = interpolate_mask(mask, settings.label, &interpolation).map_err(invalid)?;
    Ok(Some((new_image, new_mask, Settings { interpolation: None, ..settings.clone() })))
}

/// The intensity interval the intensity mask is re-segmented to: the range of `settings.resegment`
/// and, with `settings.outlier_sigma` = n, IBSI's outlier filter `[mean - n SD, mean + n SD]` (mean
/// and population SD of the ROI before re-segmentation); both given, their intersection, as IBSI
/// combines re-segmentation methods. None when neither is set.
pub(crate) fn resegment_interval(roi: &Roi, settings: &Settings) -> Result<Option<(f64, f64)>, RadiomicsError> {
    let range = settings.resegment.as_ref().map(|r| resegment_bounds(roi, r)).transpose()?;
    let outliers = match settings.outlier_sigma {
        Some(n) if n.is_finite() && n > 0.0 => {
            Some(resegment_bounds(roi, &Resegment { range: vec![-n, n], mode: ResegmentMode::Sigma, shape: false })?)
        }
        Some(n) => return Err(RadiomicsError::Setting { name: "outlier_sigma", detail: format!("{n}: a positive number of SD expected") }),
        None => None,
    };
    Ok(match (range, outliers) {
        (Some((a, b)), Some((c, d))) => Some((a.max(c), b.min(d))),
        (one, other) => one.or(other),
    })
}

#[cfg(test)]
mod tests {
    use tacefusion_imaging::Geometry;

    use super::*;
    use crate::roi::Discretization;

    #[test]
    fn outlier_filter_intersects_the_range() {
        // values 0..=9 and 100: mean 13.636..., population SD 27.3...; 3 SD keep everything below 95.7
        let g = Geometry::axis_aligned([11, 1, 1], [1.0; 3], [0.0; 3]);
        let mut data: Vec<f32> = (0..10).map(|v| v as f32).collect();
        data.push(100.0);
        let image = Volume { geometry: g, data };
        let mask = Volume { geometry: g, data: vec![1.0; 11] };
        let roi = Roi::new(&image, &mask, 1.0, Discretization::BinWidth(1.0)).unwrap();
        let values: Vec<f64> = roi.values().collect();
        let mean = values.iter().sum::<f64>() / 11.0;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 11.0).sqrt();
        let range = Resegment { range: vec![2.0, 200.0], mode: ResegmentMode::Absolute, shape: false };
        let cases: [(Option<Resegment>, Option<f64>, Option<(f64, f64)>); 4] = [
            (None, None, None),
            (Some(range.clone()), None, Some((2.0, 200.0))),
            (None, Some(3.0), Some((mean - 3.0 * sd, mean + 3.0 * sd))),
            (Some(range), Some(3.0), Some((2.0, mean + 3.0 * sd))),
        ];
        for (resegment, outlier_sigma, want) in cases {
            let settings = Settings { resegment, outlier_sigma, ..Default::default() };
            assert_eq!(resegment_interval(&roi, &settings).unwrap(), want);
        }
        let bad = Settings { outlier_sigma: Some(-1.0), ..Default::default() };
        assert!(resegment_interval(&roi, &bad).is_err());
    }
}
