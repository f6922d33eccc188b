//! HTML pieces: escaping, tables, number formatting and the page with its style sheet (no script,
//! no external resource).

/// Text made safe inside HTML and SVG.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A number with `digits` decimals; an em dash for a missing one.
pub fn num(v: f64, digits: usize) -> String {
    if v.is_finite() { format!("{v:.digits$}") } else { "\u{2014}".into() }
}

/// A p-value as journals print it.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "\u{2014}".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

/// A table with a header row; cells are HTML already (escape text before).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in header {
        s += &format!("<th>{}</th>", escape(h));
    }
    s += "</tr></thead><tbody>";
    for r in rows {
        s += "<tr>";
        for c in r {
            s += &format!("<td>{c}</td>");
        }
        s += "</tr>";
    }
    s + "</tbody></table>"
}

/// A section of the report.
pub struct Section {
    /// Anchor id.
    pub id: &'static str,
    /// Heading.
    pub title: String,
    /// Content (HTML).
    pub body: String,
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}\
header{background:#123;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}header p{margin:6px 0 0;opacity:.85}\
nav{padding:10px 32px;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0}nav a{margin-right:14px;color:#0b5;text-decoration:none;font-size:14px}\
main{padding:8px 32px 40px;max-width:1300px}section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px 20px 18px;margin:18px 0}\
h2{font-size:18px;border-bottom:2px solid #123;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}\
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th{background:#f0f3f6}td:first-child,th:first-child{text-align:left}.figs{display:flex;flex-wrap:wrap;gap:12px}\
.note{color:#555;font-size:13px}.bad{color:#b00}.good{color:#070}\
svg{background:#fff}svg text{font-size:11px;fill:#222}svg .t{font-size:13px;font-weight:600}svg .xt{text-anchor:middle}\
svg .yt{text-anchor:end}svg .xl{text-anchor:middle;font-size:12px}svg .hr{text-anchor:end}svg .hc{font-size:10px}\
svg .g{stroke:#eee}svg .frame{fill:none;stroke:#999}svg .diag{stroke:#888;stroke-dasharray:4 3}svg .lg{font-size:11px}";

/// The whole page.
pub fn page(title: &str, subtitle: &str, sections: &[Section]) -> String {
    let mut s = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style></head><body><header><h1>{}</h1><p>{}</p></header><nav>",
        escape(title),
        escape(title),
        escape(subtitle)
    );
    for sec in sections {
        s += &format!("<a href=\"#{}\">{}</a>", sec.id, escape(&sec.title));
    }
    s += "</nav><main>";
    for sec in sections {
        s += &format!("<section id=\"{}\"><h2>{}</h2>{}</section>", sec.id, escape(&sec.title), sec.body);
    }
    s + "</main></body></html>\n"
}
