//! The built-in immune marker gene sets (`data/immune_markers.gmt`, sources and citations in
//! `data/README.md`): Danaher et al. 2017 immune cell types, Rooney et al. 2015 cytolytic activity,
//! Ayers et al. 2017 IFN-gamma and T-cell-inflamed profiles; and the immune score, the union of the
//! cell-type markers. And the ESTIMATE stromal and immune signatures (Yoshihara et al. 2013,
//! `data/estimate_signatures.gmt`) with the ESTIMATE score, their sum.

use crate::OmicsError;
use crate::gmt::{GeneSet, parse_gmt};
use crate::ssgsea::SetScores;

/// The GMT text of the built-in immune sets.
pub const IMMUNE_GMT: &str = include_str!("../data/immune_markers.gmt");

/// Name of the immune score: one set of every cell-type marker of the collection.
pub const IMMUNE_SCORE: &str = "IMMUNE_SCORE";

/// The GMT text of the ESTIMATE signatures (141 genes each, symbols as the ESTIMATE package has them).
pub const ESTIMATE_GMT: &str = include_str!("../data/estimate_signatures.gmt");

/// The ESTIMATE stromal signature.
pub const ESTIMATE_STROMAL: &str = "ESTIMATE_STROMAL_SIGNATURE";

/// The ESTIMATE immune signature.
pub const ESTIMATE_IMMUNE: &str = "ESTIMATE_IMMUNE_SIGNATURE";

/// The ESTIMATE score: stromal plus immune enrichment.
pub const ESTIMATE_SCORE: &str = "ESTIMATE_SCORE";

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

/// The two ESTIMATE signatures.
pub fn estimate_sets() -> Vec<GeneSet> {
    parse_gmt(ESTIMATE_GMT, "estimate_signatures.gmt (built in)").expect("the built-in GMT parses")
}

/// ESTIMATE's scores from the raw (unnormalised) ssGSEA enrichment of its two signatures: the
/// stromal and immune scores as they are, and their sum, the ESTIMATE score (Yoshihara et al.
/// 2013). Without both signatures scored, the scores are returned unchanged.
pub fn with_estimate_score(raw: SetScores) -> SetScores {
    let find = |name: &str| raw.sets.iter().position(|s| s == name);
    let (Some(stromal), Some(immune)) = (find(ESTIMATE_STROMAL), find(ESTIMATE_IMMUNE)) else {
        return raw;
    };
    let sum: Vec<f64> = (0..raw.samples.len()).map(|j| raw.get(stromal, j) + raw.get(immune, j)).collect();
    let mut out = raw;
    out.sets.push(ESTIMATE_SCORE.into());
    out.scores.extend(sum);
    out
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

    #[test]
    fn the_estimate_signatures_have_141_genes_each_and_none_in_common() {
        let sets = estimate_sets();
        let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [ESTIMATE_STROMAL, ESTIMATE_IMMUNE]);
        for s in &sets {
            let distinct: std::collections::HashSet<&String> = s.genes.iter().collect();
            assert_eq!((s.genes.len(), distinct.len()), (141, 141), "{}", s.name);
        }
        assert!(sets[0].genes.iter().all(|g| !sets[1].genes.contains(g)));
        // first and last genes of each list as the package's SI_geneset.gmt has them
        assert_eq!((sets[0].genes[0].as_str(), sets[0].genes[140].as_str()), ("DCN", "CD200"));
        assert_eq!((sets[1].genes[0].as_str(), sets[1].genes[140].as_str()), ("LCP2", "CD27"));
    }

    #[test]
    fn the_estimate_score_is_the_sum_of_stromal_and_immune() {
        let raw = SetScores {
            sets: vec![ESTIMATE_STROMAL.into(), "OTHER".into(), ESTIMATE_IMMUNE.into()],
            samples: vec!["a".into(), "b".into()],
            scores: vec![1.0, -2.0, 10.0, 20.0, 0.5, 4.0],
        };
        let out = with_estimate_score(raw.clone());
        assert_eq!(out.sets.last().unwrap(), ESTIMATE_SCORE);
        assert_eq!((out.get(3, 0), out.get(3, 1)), (1.5, 2.0));
        assert_eq!(&out.scores[..6], &raw.scores[..]);
        let without = SetScores { sets: vec![ESTIMATE_STROMAL.into()], samples: vec!["a".into()], scores: vec![1.0] };
        assert_eq!(with_estimate_score(without.clone()), without);
    }
}
