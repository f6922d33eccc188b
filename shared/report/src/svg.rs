//! Figures as inline SVG: line and step plots with optional intervals, scatter plots, forest plots
//! and heatmaps, drawn on a fixed canvas with labelled axes. Everything is computed here; the page
//! needs no script and no network.

use std::fmt::Write as _;

use crate::html::escape;

/// Colours of series, in order (colour-blind safe, Okabe-Ito).
pub const PALETTE: [&str; 8] = ["#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

/// One series of a plot.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points (x, y), in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Lower and upper bound per point (drawn as bars for markers, a band for lines).
    pub bounds: Vec<(f64, f64)>,
    /// Draw as a step function (Kaplan-Meier).
    pub step: bool,
    /// Draw markers instead of a line.
    pub markers: bool,
    /// Dashed line.
    pub dashed: bool,
}

/// A plot with two numeric axes.
#[derive(Debug, Clone)]
pub struct Plot {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// X range (None: from the data).
    pub x_range: Option<(f64, f64)>,
    /// Y range (None: from the data).
    pub y_range: Option<(f64, f64)>,
    /// Series.
    pub series: Vec<Series>,
    /// Also draw the line y = x (calibration).
    pub diagonal: bool,
}

const W: f64 = 520.0;
const H: f64 = 340.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 48.0;

/// Round tick positions covering [lo, hi].
pub fn ticks(lo: f64, hi: f64, want: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let raw = (hi - lo) / want.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil();
    // whole multiples of the step, rounded to its precision (3 x 0.2 is 0.6, not 0.6000000000000001)
    let digits = (-step.log10().floor()).max(0.0) as i32 + 2;
    let round = |v: f64| (v * 10f64.powi(digits)).round() / 10f64.powi(digits);
    (0..).map(|k| round((first + k as f64) * step)).take_while(|v| *v <= hi + step * 1e-9).collect()
}

fn label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1000.0 || v.abs() < 0.01 {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

impl Plot {
    /// The series cut at the right end of the x range (a step function carried to it), so that
    /// nothing is drawn outside the frame.
    fn clipped(&self) -> Vec<Series> {
        let Some((_, x1)) = self.x_range else { return self.series.clone() };
        self.series
            .iter()
            .map(|s| {
                let keep = s.points.iter().position(|p| p.0 > x1).unwrap_or(s.points.len());
                let mut c =
                    Series { points: s.points[..keep].to_vec(), bounds: s.bounds[..keep.min(s.bounds.len())].to_vec(), ..s.clone() };
                if s.step && keep < s.points.len() && keep > 0 {
                    c.points.push((x1, s.points[keep - 1].1));
                    if let Some(&b) = s.bounds.get(keep - 1) {
                        c.bounds.push(b);
                    }
                }
                c
            })
            .collect()
    }

    /// The SVG element.
    pub fn svg(&self) -> String {
        let clipped = self.clipped();
        let xs = clipped.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = clipped.iter().flat_map(|s| s.points.iter().map(|p| p.1).chain(s.bounds.iter().flat_map(|b| [b.0, b.1])));
        let (x0, x1) = self.x_range.unwrap_or_else(|| span(xs));
        let (y0, y1) = self.y_range.unwrap_or_else(|| span(ys));
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
        let py = |y: f64| TOP + ph - (y.clamp(y0, y1) - y0) / (y1 - y0) * ph;
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img"><title>{}</title>"#,
            escape(&self.title)
        );
        let _ = write!(s, r#"<text x="{}" y="18" class="t">{}</text>"#, LEFT, escape(&self.title));
        for t in ticks(x0, x1, 6) {
            let _ = write!(
                s,
                r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" class="g"/><text x="{0:.1}" y="{3}" class="xt">{4}</text>"#,
                px(t),
                TOP,
                TOP + ph,
                TOP + ph + 14.0,
                label(t)
            );
        }
        for t in ticks(y0, y1, 5) {
            let _ = write!(
                s,
                r#"<line x1="{1}" x2="{2}" y1="{0:.1}" y2="{0:.1}" class="g"/><text x="{3}" y="{4:.1}" class="yt">{5}</text>"#,
                py(t),
                LEFT,
                LEFT + pw,
                LEFT - 5.0,
                py(t) + 4.0,
                label(t)
            );
        }
        let _ = write!(s, r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" class="frame"/>"#);
        let _ = write!(s, r#"<text x="{}" y="{}" class="xl">{}</text>"#, LEFT + pw / 2.0, H - 8.0, escape(&self.x_label));
        let _ = write!(s, r#"<text transform="translate(14,{}) rotate(-90)" class="xl">{}</text>"#, TOP + ph / 2.0, escape(&self.y_label));
        if self.diagonal {
            let (a, b) = (x0.max(y0), x1.min(y1));
            let _ = write!(s, r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="diag"/>"#, px(a), py(a), px(b), py(b));
        }
        for (k, series) in clipped.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            let dash = if series.dashed { r#" stroke-dasharray="5 3""# } else { "" };
            let finite: Vec<(usize, (f64, f64))> =
                series.points.iter().copied().enumerate().filter(|(_, p)| p.0.is_finite() && p.1.is_finite()).collect();
            if series.markers {
                for &(i, (x, y)) in &finite {
                    if let Some(&(lo, hi)) = series.bounds.get(i).filter(|b| b.0.is_finite() && b.1.is_finite()) {
                        let _ = write!(
                            s,
                            r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="{colour}"/>"#,
                            px(x),
                            py(lo),
                            py(hi)
                        );
                    }
                    let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/>"#, px(x), py(y));
                }
            } else if !finite.is_empty() {
                if series.bounds.len() == series.points.len() {
                    // a band between the bounds
                    let mut band = String::new();
                    let mut prev: Option<(f64, f64, f64)> = None;
                    let mut upper = Vec::new();
                    let mut lower = Vec::new();
                    for &(i, (x, _)) in &finite {
                        let (lo, hi) = series.bounds[i];
                        if !(lo.is_finite() && hi.is_finite()) {
                            continue;
                        }
                        if let (true, Some((_, plo, phi))) = (series.step, prev) {
                            upper.push((px(x), py(phi)));
                            lower.push((px(x), py(plo)));
                        }
                        upper.push((px(x), py(hi)));
                        lower.push((px(x), py(lo)));
                        prev = Some((x, lo, hi));
                    }
                    for (x, y) in upper.iter().chain(lower.iter().rev()) {
                        let _ = write!(band, "{x:.1},{y:.1} ");
                    }
                    if !upper.is_empty() {
                        let _ = write!(s, r#"<polygon points="{}" fill="{colour}" fill-opacity="0.12" stroke="none"/>"#, band.trim_end());
                    }
                }
                let mut path = String::new();
                let mut last_y: Option<f64> = None;
                for &(_, (x, y)) in &finite {
                    match (last_y, series.step) {
                        (None, _) => {
                            let _ = write!(path, "M{:.1},{:.1}", px(x), py(y));
                        }
                        (Some(prev), true) => {
                            let _ = write!(path, " L{:.1},{:.1} L{:.1},{:.1}", px(x), py(prev), px(x), py(y));
                        }
                        (Some(_), false) => {
                            let _ = write!(path, " L{:.1},{:.1}", px(x), py(y));
                        }
                    }
                    last_y = Some(y);
                }
                let _ = write!(s, r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>"#);
            }
            let ly = TOP + 10.0 + 18.0 * k as f64;
            let _ = write!(
                s,
                r#"<rect x="{}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}" class="lg">{}</text>"#,
                W - RIGHT + 12.0,
                ly - 9.0,
                W - RIGHT + 28.0,
                ly + 1.0,
                escape(&series.label)
            );
        }
        s.push_str("</svg>");
        s
    }
}

/// A heatmap: rows x columns of values on a diverging scale centred at 0, clipped at `limit`.
pub fn heatmap(title: &str, rows: &[String], columns: &[String], values: &[Vec<f64>], limit: f64, legend: &str) -> String {
    let cell_w = (560.0 / columns.len().max(1) as f64).clamp(4.0, 60.0);
    let cell_h = 13.0;
    let left = 300.0;
    let top = 40.0 + if columns.len() <= 12 { 70.0 } else { 0.0 };
    let (w, h) = (left + cell_w * columns.len() as f64 + 90.0, top + cell_h * rows.len() as f64 + 30.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img"><title>{0}</title><text x="10" y="18" class="t">{0}</text>"#,
        escape(title)
    );
    let colour = |v: f64| {
        if !v.is_finite() {
            return "#dddddd".to_string();
        }
        let t = (v / limit).clamp(-1.0, 1.0);
        // white at 0, red up, blue down
        let (r, g, b) =
            if t >= 0.0 { (255.0, 255.0 * (1.0 - t), 255.0 * (1.0 - t)) } else { (255.0 * (1.0 + t), 255.0 * (1.0 + t), 255.0) };
        format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
    };
    for (i, row) in rows.iter().enumerate() {
        let y = top + cell_h * i as f64;
        let _ = write!(s, r#"<text x="{}" y="{:.1}" class="hr">{}</text>"#, left - 4.0, y + 10.0, escape(row));
        for (j, v) in values[i].iter().enumerate() {
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{cell_w:.1}" height="{cell_h}" fill="{}"><title>{} / {}: {v:.3}</title></rect>"#,
                left + cell_w * j as f64,
                colour(*v),
                escape(row),
                escape(&columns[j])
            );
        }
    }
    if columns.len() <= 12 {
        for (j, c) in columns.iter().enumerate() {
            let x = left + cell_w * (j as f64 + 0.5);
            let _ = write!(s, r#"<text transform="translate({x:.1},{}) rotate(-60)" class="hc">{}</text>"#, top - 4.0, escape(c));
        }
    }
    let lx = left + cell_w * columns.len() as f64 + 20.0;
    for k in 0..=10 {
        let v = limit * (1.0 - k as f64 / 5.0);
        let _ = write!(s, r#"<rect x="{lx:.1}" y="{:.1}" width="14" height="10" fill="{}"/>"#, top + 10.0 * k as f64, colour(v));
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" class="lg">+{limit}</text><text x="{:.1}" y="{:.1}" class="lg">-{limit}</text><text x="{lx:.1}" y="{:.1}" class="lg">{}</text>"#,
        lx + 18.0,
        top + 9.0,
        lx + 18.0,
        top + 109.0,
        top + 125.0,
        escape(legend)
    );
    s.push_str("</svg>");
    s
}

/// A forest plot: one row per term with an estimate and its interval on a log axis.
pub fn forest(title: &str, rows: &[(String, f64, f64, f64)], x_label: &str) -> String {
    let (left, width, row_h, top) = (260.0, 300.0, 22.0, 34.0);
    let h = top + row_h * rows.len() as f64 + 40.0;
    let finite = rows.iter().flat_map(|r| [r.2, r.3, r.1]).filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = span(finite.map(f64::ln));
    let (lo, hi) = (lo.min(0.0) - 0.1, hi.max(0.0) + 0.1);
    let px = |v: f64| left + (v.ln() - lo) / (hi - lo) * width;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {h:.0}" width="{0}" height="{h:.0}" role="img"><title>{1}</title><text x="10" y="18" class="t">{1}</text>"#,
        left + width + 180.0,
        escape(title)
    );
    let _ = write!(s, r#"<line x1="{0:.1}" x2="{0:.1}" y1="{top}" y2="{1:.1}" class="diag"/>"#, px(1.0), top + row_h * rows.len() as f64);
    for (i, (name, est, l, u)) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = write!(s, r#"<text x="{}" y="{:.1}" class="hr">{}</text>"#, left - 8.0, y + 4.0, escape(name));
        if l.is_finite() && u.is_finite() && *l > 0.0 {
            let _ = write!(
                s,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="1.6"/>"#,
                px(*l),
                px(*u),
                PALETTE[0]
            );
        }
        if est.is_finite() && *est > 0.0 {
            let _ = write!(s, r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{}"/>"#, px(*est) - 4.0, y - 4.0, PALETTE[0]);
        }
        let _ = write!(s, r#"<text x="{}" y="{:.1}" class="lg">{:.2} ({:.2} to {:.2})</text>"#, left + width + 10.0, y + 4.0, est, l, u);
    }
    let axis_y = top + row_h * rows.len() as f64;
    for t in ticks(lo.exp(), hi.exp(), 5).into_iter().filter(|t| *t > 0.0) {
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" class="xt">{}</text>"#, px(t), axis_y + 14.0, label(t));
    }
    let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" class="xl">{}</text></svg>"#, left + width / 2.0, axis_y + 32.0, escape(x_label));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 1.0, 5), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(ticks(0.0, 60.0, 6), [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        let t = ticks(0.013, 0.97, 4);
        assert!(t.first().unwrap() >= &0.013 && t.last().unwrap() <= &0.97 && t.len() >= 3);
    }

    #[test]
    fn a_plot_is_one_svg_element_with_escaped_text() {
        let p = Plot {
            title: "KM <crm> & co".into(),
            x_label: "months".into(),
            y_label: "S(t)".into(),
            x_range: None,
            y_range: Some((0.0, 1.0)),
            series: vec![Series {
                label: "low".into(),
                points: vec![(0.0, 1.0), (5.0, 0.8), (9.0, 0.5)],
                step: true,
                ..Default::default()
            }],
            diagonal: false,
        };
        let svg = p.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>") && svg.matches("<svg").count() == 1);
        assert!(svg.contains("KM &lt;crm&gt; &amp; co") && !svg.contains("<crm>"));
        assert!(svg.contains(" L") && !svg.contains("NaN"));
        // cut at the x range: the step is carried to its end, nothing beyond
        let cut = Plot { x_range: Some((0.0, 6.0)), ..p }.clipped();
        assert_eq!(cut[0].points, [(0.0, 1.0), (5.0, 0.8), (6.0, 0.8)]);
    }
}
