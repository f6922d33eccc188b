//! Image filters whose responses get their own features (pyradiomics image types): the simple
//! point filters (square, square root, logarithm, exponential), the Laplacian of Gaussian
//! (`log_filter.rs`) and the coif1 stationary wavelet (`wavelet.rs`). Each works on the whole image
//! in f64, as pyradiomics does when it does not pre-crop.

use tacefusion_imaging::Volume;

/// An image type of pyradiomics.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageType {
    /// the image itself (`original`)
    Original,
    /// Laplacian of Gaussian with sigma in mm (`log-sigma-<s>-mm-3D`)
    LoG(Sigma),
    /// the 8 level-1 coif1 stationary wavelet decompositions (`wavelet-LLH`, ...)
    Wavelet,
    /// (c x)², c = 1 / sqrt(max |x|) (`square`)
    Square,
    /// sign(x) sqrt(c |x|), c = max |x| (`squareroot`)
    SquareRoot,
    /// sign(x) log(|x| + 1), scaled to the original max |x| (`logarithm`)
    Logarithm,
    /// exp(c x), c = log(max |x|) / max |x| (`exponential`)
    Exponential,
}

/// A LoG sigma in mm, and whether it was written as an integer: pyradiomics names the image type
/// from Python's `str(sigma)`, so `sigma: [1]` gives `log-sigma-1-mm-3D` and `[1.0]` `log-sigma-1-0-mm-3D`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sigma {
    /// sigma in mm
    pub mm: f64,
    /// written as an integer (`1`, not `1.0`)
    pub integer: bool,
}

impl Sigma {
    /// A sigma written as a decimal number (`1.0`), as the study's `log_sigmas_mm` are.
    pub fn decimal(mm: f64) -> Sigma {
        Sigma { mm, integer: false }
    }
}

/// pyradiomics' name of a LoG image type: `str(sigma)` with the dot replaced, e.g. `log-sigma-1-0-mm-3D`.
pub fn log_name(sigma: Sigma) -> String {
    let text = if sigma.integer && sigma.mm.fract() == 0.0 {
        format!("{}", sigma.mm as i64)
    } else if sigma.mm.fract() == 0.0 {
        format!("{:.1}", sigma.mm)
    } else {
        format!("{}", sigma.mm)
    };
    format!("log-sigma-{}-mm-3D", text.replace('.', "-"))
}

/// The filtered images of one image type, each with its name.
pub fn apply(image: &Volume<f64>, kind: &ImageType) -> Vec<(String, Volume<f64>)> {
    apply_in_box(image, kind, [0; 3], image.geometry.size)
}

/// The filtered images of one image type over the box of `size` voxels from voxel `lo` (a ROI's
/// bounding box), on that box's grid: the values of the whole-image response there (scales such as
/// max |x| still come from the whole image), without keeping whole filtered volumes where the filter
/// does not need them (the wavelet's 8 bands).
pub fn apply_in_box(image: &Volume<f64>, kind: &ImageType, lo: [usize; 3], size: [usize; 3]) -> Vec<(String, Volume<f64>)> {
    let max_abs = image.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let boxed = image.crop(lo.map(|v| v as i64), size, 0.0);
    let crop = |v: Volume<f64>| if v.geometry.size == size { v } else { v.crop(lo.map(|v| v as i64), size, 0.0) };
    let map = |f: &dyn Fn(f64) -> f64| Volume { geometry: boxed.geometry, data: boxed.data.iter().map(|&v| f(v)).collect() };
    match kind {
        ImageType::Original => vec![("original".into(), boxed.clone())],
        ImageType::Square => {
            let c = 1.0 / max_abs.sqrt();
            vec![("square".into(), map(&|x| (c * x) * (c * x)))]
        }
        ImageType::SquareRoot => {
            vec![(
                "squareroot".into(),
                map(&|x| {
                    if x > 0.0 {
                        (x * max_abs).sqrt()
                    } else if x < 0.0 {
                        -(-x * max_abs).sqrt()
                    } else {
                        x
                    }
                }),
            )]
        }
        ImageType::Logarithm => {
            // the scale is the whole image's
            let log = |x: f64| {
                if x > 0.0 {
                    (x + 1.0).ln()
                } else if x < 0.0 {
                    -(-(x - 1.0)).ln()
                } else {
                    x
                }
            };
            let new_max = image.data.iter().fold(0.0f64, |m, &v| m.max(log(v).abs()));
            let scale = max_abs / new_max;
            vec![("logarithm".into(), map(&|x| log(x) * scale))]
        }
        ImageType::Exponential => {
            let c = max_abs.ln() / max_abs;
            vec![("exponential".into(), map(&|x| (c * x).exp()))]
        }
        // as pyradiomics: no response (and so no features) for a sigma the image is too small for
        ImageType::LoG(sigma) if !crate::log_filter::pyradiomics_computes(image.geometry.size, image.geometry.spacing, sigma.mm) => {
            Vec::new()
        }
        ImageType::LoG(sigma) => vec![(log_name(*sigma), crop(crate::log_filter::laplacian_of_gaussian(image, sigma.mm)))],
        ImageType::Wavelet => {
            crate::wavelet::coif1_level1_box(image, lo, size).into_iter().map(|(band, v)| (format!("wavelet-{band}"), v)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_imaging::Geometry;

    #[test]
    fn point_filters_follow_pyradiomics_formulas() {
        let image = Volume { geometry: Geometry::axis_aligned([4, 1, 1], [1.0; 3], [0.0; 3]), data: vec![-4.0, 0.0, 1.0, 16.0] };
        let out = |k| apply(&image, &k).remove(0).1.data;
        // max |x| = 16
        assert_eq!(out(ImageType::Square), vec![1.0, 0.0, 1.0 / 16.0, 16.0]);
        assert_eq!(out(ImageType::SquareRoot), vec![-8.0, 0.0, 4.0, 16.0]);
        let e = out(ImageType::Exponential);
        assert!((e[3] - 16.0).abs() < 1e-12 && (e[1] - 1.0).abs() < 1e-12);
        let l = out(ImageType::Logarithm);
        assert!((l[3] - 16.0).abs() < 1e-12 && (l[0] + 5f64.ln() * 16.0 / 17f64.ln()).abs() < 1e-12);
        let cases = [
            (1.0, false, "log-sigma-1-0-mm-3D"),
            (1.0, true, "log-sigma-1-mm-3D"),
            (2.5, false, "log-sigma-2-5-mm-3D"),
            (12.0, true, "log-sigma-12-mm-3D"),
        ];
        for (mm, integer, want) in cases {
            assert_eq!(log_name(Sigma { mm, integer }), want);
        }
    }
}
