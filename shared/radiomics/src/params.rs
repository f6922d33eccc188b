//! pyradiomics parameter files (YAML): `setting`, `imageType` and `featureClass`, read so that a user
//! switches from pyradiomics without rewriting their settings. Unknown keys are errors that name the
//! key and line; settings this extractor does not implement are errors too. Three bookkeeping settings
//! are accepted without effect: `minimumROIDimensions`, `geometryTolerance` (image and mask must match
//! within 1e-3 mm) and `additionalInfo`. Resampling (`resampledPixelSpacing`) is read with the
//! B-spline interpolator only, pyradiomics' default; `preCrop` and `padDistance` crop with padding;
//! `force2D` and `force2Ddimension` compute the texture classes within slices.
//!
//! The YAML read here is the subset parameter files use: nested block mappings by indentation,
//! `- item` block lists, flow lists `[a, b]`, `{}` and empty values, numbers, booleans, quoted and
//! bare strings, `#` comments.

use crate::error::RadiomicsError;
use crate::extract::{FeatureClass, Normalize, Resegment, ResegmentMode, Settings};
use crate::filters::{ImageType, Sigma};
use crate::neighbourhood::SliceAxis;
use crate::roi::Discretization;

/// A parsed YAML value of the supported subset.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// empty value, `~`, `null` or `{}`
    Null,
    /// a number, and whether it was written as an integer (`1`, not `1.0`)
    Number(f64, bool),
    /// `true` / `false`
    Bool(bool),
    /// a string
    Text(String),
    /// a list
    List(Vec<Yaml>),
    /// a mapping, in file order, each key with its line
    Map(Vec<(String, usize, Yaml)>),
}

impl std::fmt::Display for Yaml {
    /// The value as the file writes it (a number, `"text"`, `[a, b]`), for error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Yaml::Null => write!(f, "nothing"),
            Yaml::Number(n, true) => write!(f, "{}", *n as i64),
            Yaml::Number(n, false) => write!(f, "{n}"),
            Yaml::Bool(b) => write!(f, "{b}"),
            Yaml::Text(t) => write!(f, "{t:?}"),
            Yaml::List(items) => {
                write!(f, "[")?;
                for (k, v) in items.iter().enumerate() {
                    write!(f, "{}{v}", if k > 0 { ", " } else { "" })?;
                }
                write!(f, "]")
            }
            Yaml::Map(_) => write!(f, "a mapping"),
        }
    }
}

fn err(line: usize, detail: String) -> RadiomicsError {
    RadiomicsError::Setting { name: "parameter file", detail: format!("line {line}: {detail}") }
}

fn scalar(text: &str, line: usize) -> Result<Yaml, RadiomicsError> {
    let t = text.trim();
    Ok(match t {
        "" | "~" | "null" | "{}" => Yaml::Null,
        "true" | "True" => Yaml::Bool(true),
        "false" | "False" => Yaml::Bool(false),
        _ if t.starts_with('[') => {
            let inner = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')).ok_or_else(|| err(line, format!("unclosed list {t:?}")))?;
            if inner.trim().is_empty() {
                Yaml::List(Vec::new())
            } else {
                Yaml::List(inner.split(',').map(|v| scalar(v, line)).collect::<Result<_, _>>()?)
            }
        }
        _ if (t.starts_with('\'') && t.ends_with('\'') || t.starts_with('"') && t.ends_with('"')) && t.len() >= 2 => {
            Yaml::Text(t[1..t.len() - 1].to_string())
        }
        _ => match (t.parse::<i64>(), t.parse::<f64>()) {
            (Ok(i), _) => Yaml::Number(i as f64, true),
            (_, Ok(x)) => Yaml::Number(x, false),
            _ => Yaml::Text(t.to_string()),
        },
    })
}

struct Line {
    number: usize,
    indent: usize,
    text: String,
}

/// Parses the YAML subset.
pub fn parse_yaml(text: &str) -> Result<Yaml, RadiomicsError> {
    let lines: Vec<Line> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let content = match l.find(" #") {
                Some(p) => &l[..p],
                None if l.trim_start().starts_with('#') => "",
                None => l,
            };
            (!content.trim().is_empty()).then(|| Line {
                number: i + 1,
                indent: content.len() - content.trim_start().len(),
                text: content.trim().to_string(),
            })
        })
        .collect();
    let mut pos = 0;
    let value = block(&lines, &mut pos, 0)?;
    if pos < lines.len() {
        return Err(err(lines[pos].number, format!("unexpected indentation at {:?}", lines[pos].text)));
    }
    Ok(value)
}

fn block(lines: &[Line], pos: &mut usize, indent: usize) -> Result<Yaml, RadiomicsError> {
    if *pos >= lines.len() || lines[*pos].indent < indent {
        return Ok(Yaml::Null);
    }
    let indent = lines[*pos].indent;
    if lines[*pos].text.starts_with("- ") || lines[*pos].text == "-" {
        let mut items = Vec::new();
        while *pos < lines.len() && lines[*pos].indent == indent && lines[*pos].text.starts_with('-') {
            items.push(scalar(lines[*pos].text[1..].trim(), lines[*pos].number)?);
            *pos += 1;
        }
        return Ok(Yaml::List(items));
    }
    let mut map = Vec::new();
    while *pos < lines.len() && lines[*pos].indent == indent {
        let line = &lines[*pos];
        let (key, rest) =
            line.text.split_once(':').ok_or_else(|| err(line.number, format!("expected `key: value`, got {:?}", line.text)))?;
        let key = key.trim().trim_matches(|c| c == '\'' || c == '"').to_string();
        *pos += 1;
        let value = if rest.trim().is_empty() {
            if *pos < lines.len() && lines[*pos].indent > indent { block(lines, pos, indent + 1)? } else { Yaml::Null }
        } else {
            scalar(rest, line.number)?
        };
        map.push((key, line.number, value));
    }
    Ok(Yaml::Map(map))
}

fn number(v: &Yaml, key: &str, line: usize) -> Result<f64, RadiomicsError> {
    match v {
        Yaml::Number(n, _) => Ok(*n),
        other => Err(err(line, format!("{key} must be a number, got {other}"))),
    }
}

/// Reads a pyradiomics parameter file into extraction settings.
pub fn settings_from_yaml(text: &str) -> Result<Settings, RadiomicsError> {
    let Yaml::Map(top) = parse_yaml(text)? else { return Err(err(1, "a parameter file is a mapping".into())) };
    let mut s = Settings { shape_within_resegmented_box: true, ..Settings::default() };
    let (mut pending_scale, mut pending_outliers) = (None, None);
    // pyradiomics' default interpolator is sitkBSpline; `interpolator: ~` turns resampling off
    let (mut spacing, mut bspline) = (None, true);
    // pyradiomics' `force2D` (default false) and `force2Ddimension` (default 0), in either order
    let (mut force2d, mut slice_axis) = (false, SliceAxis::Z);
    // pyradiomics uses binCount whenever it is set, binWidth otherwise, in whatever order they come
    let mut bin_count = None;
    // whether featureClass chose the classes (else every class, shape2D included under force2D)
    let mut classes_given = false;
    for (key, line, value) in &top {
        match (key.as_str(), value) {
            ("setting", Yaml::Map(entries)) => {
                for (k, l, v) in entries {
                    match k.as_str() {
                        // an empty value leaves pyradiomics' default (binWidth 25, no binCount)
                        "binWidth" | "binCount" if *v == Yaml::Null => {}
                        "binWidth" => {
                            if bin_count.is_none() {
                                s.discretization = Discretization::BinWidth(number(v, k, *l)?);
                            }
                        }
                        "binCount" => {
                            let n = number(v, k, *l)?;
                            if !(n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64) {
                                return Err(err(*l, format!("binCount must be a whole number of at least 1, got {n}")));
                            }
                            bin_count = Some(n as u32);
                            s.discretization = Discretization::BinCount(n as u32);
                        }
                        "label" => s.label = number(v, k, *l)?,
                        "voxelArrayShift" => s.voxel_array_shift = number(v, k, *l)?,
                        // accepted with the value this extractor implements
                        "correctMask" if *v == Yaml::Bool(false) => {}
                        "force2D" => match v {
                            Yaml::Bool(b) => force2d = *b,
                            other => return Err(err(*l, format!("force2D must be true or false, got {other}"))),
                        },
                        "force2Ddimension" => {
                            let d = number(v, k, *l)?;
                            slice_axis = [0.0, 1.0, 2.0]
                                .iter()
                                .position(|&x| x == d)
                                .and_then(SliceAxis::from_dimension)
                                .ok_or_else(|| err(*l, format!("force2Ddimension must be 0, 1 or 2, got {d}")))?;
                        }
                        "weightingNorm" if *v == Yaml::Text("no_weighting".into()) => s.merge_directions = true,
                        "minimumROIDimensions" => {
                            let d = number(v, k, *l)?;
                            if ![1.0, 2.0, 3.0].contains(&d) {
                                return Err(err(*l, format!("minimumROIDimensions must be 1, 2 or 3, got {d}")));
                            }
                            s.minimum_roi_dimensions = d as usize;
                        }
                        "geometryTolerance" if *v == Yaml::Null => {}
                        "geometryTolerance" => {
                            let t = number(v, k, *l)?;
                            if !(t.is_finite() && t >= 0.0) {
                                return Err(err(*l, format!("geometryTolerance must be a number >= 0, got {t}")));
                            }
                            s.geometry_tolerance = Some(t);
                        }
                        "additionalInfo" | "distances" | "symmetricalGLCM" | "gldm_a" | "weightingNorm" => {
                            let default_ok = matches!((k.as_str(), v), ("distances", Yaml::List(d)) if matches!(d.as_slice(), [Yaml::Number(x, _)] if *x == 1.0))
                                || matches!(
                                    (k.as_str(), v),
                                    ("symmetricalGLCM", Yaml::Bool(true))
                                        | ("gldm_a", Yaml::Number(0.0, _))
                                        | ("weightingNorm", Yaml::Null)
                                )
                                || k == "additionalInfo";
                            if !default_ok {
                                return Err(err(*l, format!("setting {k} = {v} is not supported yet (only pyradiomics' default)")));
                            }
                        }
                        "normalize" => match v {
                            Yaml::Bool(true) => {
                                s.normalize.get_or_insert(Normalize { scale: 1.0, outliers: None });
                            }
                            Yaml::Bool(false) => {}
                            other => return Err(err(*l, format!("normalize must be true or false, got {other}"))),
                        },
                        "normalizeScale" => {
                            let scale = number(v, k, *l)?;
                            if let Some(n) = &mut s.normalize {
                                n.scale = scale;
                            } else {
                                pending_scale = Some(scale);
                            }
                        }
                        "removeOutliers" if *v != Yaml::Null => pending_outliers = Some(number(v, k, *l)?),
                        "removeOutliers" => {}
                        "resegmentRange" => match v {
                            Yaml::List(items) if (1..=2).contains(&items.len()) => {
                                let range = items.iter().map(|x| number(x, k, *l)).collect::<Result<Vec<_>, _>>()?;
                                s.resegment
                                    .get_or_insert(Resegment { range: Vec::new(), mode: ResegmentMode::Absolute, shape: false })
                                    .range = range;
                            }
                            Yaml::Null => {}
                            other => return Err(err(*l, format!("resegmentRange must be a list of one or two numbers, got {other}"))),
                        },
                        "resegmentMode" => {
                            let mode = match v {
                                Yaml::Text(t) if t == "absolute" => ResegmentMode::Absolute,
                                Yaml::Text(t) if t == "relative" => ResegmentMode::Relative,
                                Yaml::Text(t) if t == "sigma" => ResegmentMode::Sigma,
                                other => return Err(err(*l, format!("resegmentMode must be absolute, relative or sigma, got {other}"))),
                            };
                            s.resegment.get_or_insert(Resegment { range: Vec::new(), mode, shape: false }).mode = mode;
                        }
                        "resegmentShape" => match v {
                            Yaml::Bool(b) => {
                                s.resegment
                                    .get_or_insert(Resegment { range: Vec::new(), mode: ResegmentMode::Absolute, shape: *b })
                                    .shape = *b;
                            }
                            other => return Err(err(*l, format!("resegmentShape must be true or false, got {other}"))),
                        },
                        "resampledPixelSpacing" => match v {
                            Yaml::Null => spacing = None,
                            Yaml::List(items) if items.len() == 3 => {
                                let mut out = [0.0; 3];
                                for (o, x) in out.iter_mut().zip(items) {
                                    *o = number(x, k, *l)?;
                                    if !(o.is_finite() && *o >= 0.0) {
                                        return Err(err(*l, format!("resampledPixelSpacing {o} must be >= 0 (0 keeps the spacing)")));
                                    }
                                }
                                spacing = Some(out);
                            }
                            other => return Err(err(*l, format!("resampledPixelSpacing must be a list of three spacings, got {other}"))),
                        },
                        "interpolator" => match v {
                            Yaml::Null => bspline = false,
                            // SimpleITK 2.x (pyradiomics 3) numbers sitkBSpline 23; its 3 is no
                            // interpolator, and pyradiomics fails on it
                            Yaml::Number(n, _) if *n == 23.0 => bspline = true,
                            Yaml::Text(t) if t == "sitkBSpline" || t == "sitkBSpline3" => bspline = true,
                            other => {
                                return Err(err(*l, format!("interpolator {other} is not implemented (only sitkBSpline, the default)")));
                            }
                        },
                        "padDistance" if *v == Yaml::Null => {}
                        "padDistance" => {
                            let p = number(v, k, *l)?;
                            if !(p >= 0.0 && p.fract() == 0.0 && p <= 1e6) {
                                return Err(err(*l, format!("padDistance {p} must be a whole number of voxels >= 0")));
                            }
                            s.pad_distance = p as usize;
                        }
                        "preCrop" => match v {
                            Yaml::Null => {}
                            Yaml::Bool(b) => s.pre_crop = *b,
                            other => return Err(err(*l, format!("preCrop must be true or false, got {other}"))),
                        },
                        other => return Err(err(*l, format!("unknown setting {other:?}"))),
                    }
                }
            }
            ("setting", Yaml::Null) => {}
            ("imageType", Yaml::Null) => {}
            ("imageType", Yaml::Map(types)) => {
                let mut kinds = Vec::new();
                for (t, l, v) in types {
                    let options = match v {
                        Yaml::Map(m) => m.clone(),
                        Yaml::Null => Vec::new(),
                        other => return Err(err(*l, format!("imageType {t}: options must be a mapping, got {other}"))),
                    };
                    let unknown = |allowed: &[&str]| {
                        options
                            .iter()
                            .find(|(k, _, _)| !allowed.contains(&k.as_str()))
                            .map(|(k, kl, _)| err(*kl, format!("unknown option {k:?} of imageType {t}")))
                    };
                    match t.as_str() {
                        "Original" | "Square" | "SquareRoot" | "Logarithm" | "Exponential" => {
                            if let Some(e) = unknown(&[]) {
                                return Err(e);
                            }
                            kinds.push(match t.as_str() {
                                "Original" => ImageType::Original,
                                "Square" => ImageType::Square,
                                "SquareRoot" => ImageType::SquareRoot,
                                "Logarithm" => ImageType::Logarithm,
                                _ => ImageType::Exponential,
                            });
                        }
                        "LoG" => {
                            if let Some(e) = unknown(&["sigma"]) {
                                return Err(e);
                            }
                            let Some((_, sl, Yaml::List(sigmas))) = options.iter().find(|(k, _, _)| k == "sigma") else {
                                return Err(err(*l, "imageType LoG needs `sigma: [..]` (mm)".into()));
                            };
                            for sigma in sigmas {
                                let s = number(sigma, "sigma", *sl)?;
                                if s <= 0.0 {
                                    return Err(err(*sl, format!("LoG sigma {s} must be positive")));
                                }
                                kinds.push(ImageType::LoG(Sigma { mm: s, integer: matches!(sigma, Yaml::Number(_, true)) }));
                            }
                        }
                        "Wavelet" => {
                            for (k, kl, v) in &options {
                                let default = matches!((k.as_str(), v), ("wavelet", Yaml::Text(w)) if w == "coif1")
                                    || matches!((k.as_str(), v), ("level", Yaml::Number(n, _)) if *n == 1.0)
                                    || matches!((k.as_str(), v), ("start_level", Yaml::Number(n, _)) if *n == 0.0);
                                if !default {
                                    return Err(err(*kl, format!("Wavelet {k} = {v}: only coif1, level 1, start_level 0 are implemented")));
                                }
                            }
                            kinds.push(ImageType::Wavelet);
                        }
                        other => {
                            return Err(err(
                                *l,
                                format!(
                                    "imageType {other} is not implemented (Original, LoG, Wavelet, Square, SquareRoot, Logarithm, Exponential)"
                                ),
                            ));
                        }
                    }
                }
                s.image_types = kinds;
            }
            // `featureClass: {}` (or empty): every class, as with no featureClass at all
            ("featureClass", Yaml::Null) => {}
            ("featureClass", Yaml::Map(classes)) => {
                classes_given = true;
                let mut enabled = Vec::new();
                for (c, l, v) in classes {
                    let class = FeatureClass::from_name(c).ok_or_else(|| err(*l, format!("unknown feature class {c:?}")))?;
                    if !matches!(v, Yaml::Null) && *v != Yaml::List(Vec::new()) {
                        return Err(err(
                            *l,
                            format!("featureClass {c}: choosing single features is not supported yet; list the class with no features"),
                        ));
                    }
                    enabled.push(class);
                }
                s.classes = FeatureClass::ALL.into_iter().filter(|c| enabled.contains(c)).collect();
            }
            ("voxelSetting", _) => return Err(err(*line, "voxel-based extraction (voxelSetting) is not supported".into())),
            (other, _) => return Err(err(*line, format!("unknown top-level key {other:?} (setting, imageType, featureClass)"))),
        }
    }
    if let Some(n) = &mut s.normalize {
        if let Some(scale) = pending_scale {
            n.scale = scale;
        }
        n.outliers = pending_outliers;
    }
    if bspline {
        s.resample = spacing;
    }
    s.force2d = force2d.then_some(slice_axis);
    if force2d && !classes_given {
        // pyradiomics then enables shape2D too: its features for a one-slice ROI, an error for any
        // other; not implemented here, so the classes must be listed
        return Err(err(
            1,
            "force2D with no featureClass section enables shape2D, which is not implemented: list the feature classes to compute".into(),
        ));
    }
    // resegmentMode or resegmentShape without resegmentRange: no re-segmentation, as in pyradiomics
    if s.resegment.as_ref().is_some_and(|r| r.range.is_empty()) {
        s.resegment = None;
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
