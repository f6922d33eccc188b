//! The built-in immune marker gene sets (`data/immune_markers.gmt`, sources and citations in
//! `data/README.md`): Danaher et al. 2017 immune cell types, Rooney et al. 2015 cytolytic activity,
//! Ayers et al. 2017 IFN-gamma and T-cell-inflamed profiles; and the immune score, the union of the
//! cell-type markers.

use crate::OmicsError;
use crate::gmt::{GeneSet, parse_gmt};

/// The GMT text of the built-in immune sets.
pub const IMMUNE_GMT: &str = include_str!("../data/immune_markers.gmt");

/// Name of the immune score: one set of every cell-type marker of the collection.
pub const IMMUNE_SCORE: &str = "IMMUNE_SCORE";

/// Prefix of the sets whose union is the immune score.
const CELL_TYPE_PREFIX: &str = "DANAHER_";

/// The built-in immune sets and the immune score.
pub fn immune_sets() -> Vec<GeneSet> {
    with_immune_score(parse_gmt(IMMUNE_GMT, "immune_markers.gmt (built in)").expect("the built-in GMT parses"))
}

/// Immune sets from a GMT file of the study (no immune score is added unless it has `DANAHER_`
/// cell-type sets).
pub fn immune_sets_from(path: &std::path::Path) -> Result<Vec<GeneSet>, OmicsError> {
    Ok(with_immune_score(crate::gmt::read_gmt(path)?))
}

fn with_immune_score(mut sets: Vec<GeneSet>) -> Vec<GeneSet> {
    let mut genes: Vec<String> = Vec::new();
    for g in sets.iter().filter(|s| s.name.starts_with(CELL_TYPE_PREFIX)).flat_map(|s| &s.genes) {
        if !genes.contains(g) {
            genes.push(g.clone());
        }
    }
    if !genes.is_empty() && !sets.iter().any(|s| s.name == IMMUNE_SCORE) {
        sets.push(GeneSet { name: IMMUNE_SCORE.into(), description: "union of the DANAHER_ cell-type markers".into(), genes });
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_sets_parse_with_the_immune_score_last() {
        let sets = immune_sets();
        assert_eq!(sets.len(), 18);
        let cyt = sets.iter().find(|s| s.name == "ROONEY_CYTOLYTIC_ACTIVITY").unwrap();
        assert_eq!(cyt.genes, ["GZMA", "PRF1"]);
        let score = sets.last().unwrap();
        assert_eq!(score.name, IMMUNE_SCORE);
        // 14 cell types, 60 genes, none in two types
        assert_eq!(score.genes.len(), 60);
        assert!(score.genes.contains(&"FOXP3".to_string()) && !score.genes.contains(&"IDO1".to_string()));
    }
}
