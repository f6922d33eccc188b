//! Bulk expression: a genes x samples matrix read from TSV or CSV (first column the gene, first row
//! the samples) with its declared scale. Scores that want log expression get `log2(x + 1)` of
//! counts and TPM; a log2 matrix is used as it is.

use std::collections::HashMap;
use std::path::Path;

use tacefusion_core::LineCounter;

use crate::OmicsError;

/// What the numbers of an expression matrix are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Raw read counts.
    Counts,
    /// Transcripts per million.
    Tpm,
    /// log2 expression (of counts, TPM or intensities).
    Log2,
}

impl Scale {
    /// The scale of a name as studies write it (`counts`, `tpm`, `log2`).
    pub fn from_name(name: &str) -> Result<Self, OmicsError> {
        match name {
            "counts" => Ok(Scale::Counts),
            "tpm" => Ok(Scale::Tpm),
            "log2" => Ok(Scale::Log2),
            other => Err(OmicsError::Invalid(format!("expression scale {other:?}: one of counts, tpm, log2"))),
        }
    }
}

/// A genes x samples matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    /// Gene names, each once.
    pub genes: Vec<String>,
    /// Sample names.
    pub samples: Vec<String>,
    /// Values, gene-major: `values[g * samples + s]`.
    pub values: Vec<f64>,
    /// Their scale.
    pub scale: Scale,
}

impl Expression {
    /// Value of gene `g` in sample `s`.
    pub fn get(&self, g: usize, s: usize) -> f64 {
        self.values[g * self.samples.len() + s]
    }

    /// The values of sample `s`, one per gene.
    pub fn sample(&self, s: usize) -> Vec<f64> {
        (0..self.genes.len()).map(|g| self.get(g, s)).collect()
    }

    /// The matrix on the log2 scale (`log2(x + 1)` of counts and TPM).
    pub fn log2(&self) -> Expression {
        match self.scale {
            Scale::Log2 => self.clone(),
            Scale::Counts | Scale::Tpm => {
                Expression { values: self.values.iter().map(|v| (v + 1.0).log2()).collect(), scale: Scale::Log2, ..self.clone() }
            }
        }
    }

    /// A matrix from columns (a Parquet table: one text column of genes, one numeric column per
    /// sample), checked as text input is: each gene and sample once, finite values, no negative
    /// count or TPM. `file` names the source in errors.
    pub fn from_columns(genes: Vec<String>, samples: Vec<(String, Vec<f64>)>, scale: Scale, file: &str) -> Result<Self, OmicsError> {
        let bad = |detail: String| OmicsError::Invalid(format!("{file}: {detail}"));
        if samples.is_empty() || genes.is_empty() {
            return Err(bad(format!("{} genes x {} samples", genes.len(), samples.len())));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (row, g) in genes.iter().enumerate() {
            if let Some(first) = seen.insert(g.as_str(), row) {
                return Err(bad(format!("gene {g} in rows {} and {}", first + 1, row + 1)));
            }
        }
        let mut names: HashMap<&str, ()> = HashMap::new();
        for (s, column) in &samples {
            if names.insert(s.as_str(), ()).is_some() {
                return Err(bad(format!("sample {s} appears twice")));
            }
            if column.len() != genes.len() {
                return Err(bad(format!("sample {s}: {} values for {} genes", column.len(), genes.len())));
            }
        }
        let mut values = Vec::with_capacity(genes.len() * samples.len());
        for (g, gene) in genes.iter().enumerate() {
            for (s, column) in &samples {
                let v = column[g];
                if !v.is_finite() || (v < 0.0 && scale != Scale::Log2) {
                    return Err(bad(format!("gene {gene}, sample {s}: {v} on the {scale:?} scale")));
                }
                values.push(v);
            }
        }
        Ok(Expression { genes, samples: samples.into_iter().map(|s| s.0).collect(), values, scale })
    }

    /// Parses delimited text (`file` names it in errors): tab-separated, or comma-separated when
    /// `comma`; fields may be quoted (as R's `write.csv` writes them) and blank lines are skipped.
    /// A repeated gene or sample, a row of the wrong length, a value that is not a finite number,
    /// and a negative count or TPM are errors naming the line and the sample.
    pub fn parse(text: &str, comma: bool, scale: Scale, file: &str) -> Result<Self, OmicsError> {
        let bad = |line: usize, detail: String| OmicsError::Parse { file: file.to_string(), line, detail };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(if comma { b',' } else { b'\t' })
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut lines = LineCounter::new(text.as_bytes());
        let mut line_at = move |byte: u64| lines.line_at(byte);
        let mut records = reader.records().map(|r| match r {
            Ok(record) => Ok((line_at(record.position().map_or(0, |p| p.byte())), record)),
            Err(e) => Err(bad(e.position().map_or(0, |p| line_at(p.byte())), format!("unreadable row: {e}"))),
        });
        let (header_line, header) = records.next().ok_or_else(|| bad(1, "empty file".into()))??;
        let samples: Vec<String> = header.iter().skip(1).map(str::to_string).collect();
        if samples.is_empty() {
            return Err(bad(header_line, "the header names no sample".into()));
        }
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for s in &samples {
            if seen.insert(s.as_str(), ()).is_some() {
                return Err(bad(header_line, format!("sample {s} appears twice")));
            }
        }
        let (mut genes, mut values) = (Vec::new(), Vec::new());
        let mut rows: HashMap<String, usize> = HashMap::new();
        for record in records {
            let (line, record) = record?;
            // a line of only spaces or tabs (as spreadsheets leave at the end) is blank
            if record.iter().all(str::is_empty) {
                continue;
            }
            if record.len() != samples.len() + 1 {
                return Err(bad(line, format!("{} fields, the header has {}", record.len(), samples.len() + 1)));
            }
            let gene = record[0].to_string();
            if let Some(first) = rows.insert(gene.clone(), line) {
                return Err(bad(line, format!("gene {gene} already on line {first}")));
            }
            for (s, f) in record.iter().skip(1).enumerate() {
                let v: f64 = f
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| bad(line, format!("gene {gene}, sample {}: {f:?} is not a number", samples[s])))?;
                if v < 0.0 && scale != Scale::Log2 {
                    return Err(bad(line, format!("gene {gene}, sample {}: negative value {v} on the {scale:?} scale", samples[s])));
                }
                values.push(v);
            }
            genes.push(gene);
        }
        if genes.is_empty() {
            return Err(bad(2, "no gene row".into()));
        }
        Ok(Expression { genes, samples, values, scale })
    }

    /// Reads a `.tsv`/`.txt` (tab) or `.csv` (comma) file.
    pub fn read(path: impl AsRef<Path>, scale: Scale) -> Result<Self, OmicsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| OmicsError::io(path, e))?;
        let comma = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        Self::parse(&text, comma, scale, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_matrix_and_names_bad_cells() {
        let e = Expression::parse("\tS1\tS2\nG1\t1\t3\nG2\t0\t7\n", false, Scale::Counts, "x.tsv").unwrap();
        assert_eq!((e.get(1, 1), e.sample(0)), (7.0, vec![1.0, 0.0]));
        assert_eq!(e.log2().get(1, 1), 3.0);
        for (text, words) in [
            ("\tS1\tS2\nG1\t1\tx\n", "x.tsv:2: gene G1, sample S2: \"x\" is not a number"),
            ("\tS1\tS2\nG1\t1\t2\nG1\t1\t2\n", "x.tsv:3: gene G1 already on line 2"),
            ("\tS1\tS2\nG1\t1\n", "x.tsv:2: 2 fields"),
            ("\tS1\tS2\nG1\t1\t-2\n", "negative value -2"),
        ] {
            let err = Expression::parse(text, false, Scale::Tpm, "x.tsv").unwrap_err().to_string();
            assert!(err.contains(words), "{err}");
        }
        // R's write.csv quotes names; CRLF line ends; a blank line does not shift the line numbers
        let r = Expression::parse("\"\",\"S1\",\"S2\"\r\n\"TP53\",1,3\r\n\"MYC\",0,7\r\n", true, Scale::Counts, "r.csv").unwrap();
        assert_eq!(
            (r.genes.as_slice(), r.samples.as_slice(), r.get(1, 1)),
            (&["TP53".to_string(), "MYC".into()][..], &["S1".to_string(), "S2".into()][..], 7.0)
        );
        let trailing = Expression::parse("\tS1\nG1\t2\n \t \n\t\n", false, Scale::Log2, "x.tsv").unwrap();
        assert_eq!(trailing.genes, ["G1"]);
        let err = Expression::parse("\tS1\n\nG1\tx\n", false, Scale::Log2, "x.tsv").unwrap_err().to_string();
        assert!(err.contains("x.tsv:3: gene G1"), "{err}");
        // classic Mac line ends (a lone CR) count as lines too
        let err = Expression::parse("\tS1\r\rG1\tx\r", false, Scale::Log2, "x.tsv").unwrap_err().to_string();
        assert!(err.contains("x.tsv:3: gene G1"), "{err}");
    }
}
