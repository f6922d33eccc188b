//! Gene sets in the GMT format (one set a line: name, description, genes, tab-separated), and
//! their matching against the genes of a data set: genes that match nothing are counted and kept
//! by name, so a caller can report them.

use std::collections::HashMap;
use std::path::Path;

use crate::OmicsError;

/// One gene set as the file lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneSet {
    /// Set name (first field).
    pub name: String,
    /// Description or URL (second field).
    pub description: String,
    /// Genes, in file order, each once.
    pub genes: Vec<String>,
}

/// A gene set matched against the genes of a data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedSet {
    /// Set name.
    pub name: String,
    /// Indices of its genes in the data, in the set's order.
    pub indices: Vec<usize>,
    /// Its genes absent from the data.
    pub unmatched: Vec<String>,
}

impl MatchedSet {
    /// Whether the set is scored among `n_genes` genes of data: between `min` and `max` of its
    /// genes matched (gseapy's size filter), and not every gene of the data (nothing to compare).
    pub fn within(&self, min: usize, max: usize, n_genes: usize) -> bool {
        let n = self.indices.len();
        n >= min && n <= max && n < n_genes
    }
}

/// Parses GMT text (`file` names it in errors). A line with fewer than three fields, a set
/// without genes and a repeated set name are errors; a gene repeated within a set counts once.
pub fn parse_gmt(text: &str, file: &str) -> Result<Vec<GeneSet>, OmicsError> {
    let mut sets: Vec<GeneSet> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        let bad = |detail: String| OmicsError::Parse { file: file.to_string(), line, detail };
        if fields.len() < 2 || fields[0].trim().is_empty() {
            return Err(bad("expected `name<TAB>description<TAB>gene...`".into()));
        }
        let name = fields[0].trim().to_string();
        let mut genes: Vec<String> = Vec::new();
        for g in fields[2..].iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
            if !genes.iter().any(|x| x == g) {
                genes.push(g.to_string());
            }
        }
        if genes.is_empty() {
            return Err(bad(format!("gene set {name} lists no gene")));
        }
        if let Some(first) = seen.insert(name.clone(), line) {
            return Err(bad(format!("gene set {name} was already defined on line {first}")));
        }
        sets.push(GeneSet { name, description: fields[1].to_string(), genes });
    }
    if sets.is_empty() {
        return Err(OmicsError::Parse { file: file.to_string(), line: 0, detail: "no gene set in the file".into() });
    }
    Ok(sets)
}

/// Reads a GMT file.
pub fn read_gmt(path: impl AsRef<Path>) -> Result<Vec<GeneSet>, OmicsError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| OmicsError::io(path, e))?;
    parse_gmt(&text, &path.display().to_string())
}

/// Matches every set against `genes` (the data's gene names, each once).
pub fn match_sets(sets: &[GeneSet], genes: &[String]) -> Vec<MatchedSet> {
    // a gene repeated in the data: its first row
    let mut index: HashMap<&str, usize> = HashMap::new();
    genes.iter().enumerate().for_each(|(i, g)| {
        index.entry(g.as_str()).or_insert(i);
    });
    sets.iter()
        .map(|s| {
            let (mut indices, mut unmatched) = (Vec::new(), Vec::new());
            for g in &s.genes {
                match index.get(g.as_str()) {
                    Some(&i) => indices.push(i),
                    None => unmatched.push(g.clone()),
                }
            }
            MatchedSet { name: s.name.clone(), indices, unmatched }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_and_match_with_the_unmatched_counted() {
        let sets = parse_gmt("A\tdesc\tG1\tG2\tG2\tX9\nB\t\tG3\n", "t.gmt").unwrap();
        assert_eq!(sets[0].genes, ["G1", "G2", "X9"]);
        let genes: Vec<String> = ["G3", "G2", "G1"].iter().map(|s| s.to_string()).collect();
        let m = match_sets(&sets, &genes);
        assert_eq!(m[0].indices, [2, 1]);
        assert_eq!(m[0].unmatched, ["X9"]);
        assert_eq!(m[1].indices, [0]);
    }

    #[test]
    fn bad_files_name_the_line() {
        for (text, line, words) in
            [("A\tdesc\n", 1, "no gene"), ("A\td\tG1\nA\td\tG2\n", 2, "already defined on line 1"), ("\n\tdesc\tG\n", 2, "expected")]
        {
            let e = parse_gmt(text, "s.gmt").unwrap_err().to_string();
            assert!(e.starts_with(&format!("s.gmt:{line}:")) && e.contains(words), "{e}");
        }
    }
}
