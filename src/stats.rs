//! `tacefusion stats`: Cox, Kaplan-Meier, log-rank and C-index on a CSV file, printed as a readable
//! summary or as JSON (`--json`).

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};
use tacefusion_survival::{CoxModel, CoxOptions, KaplanMeier, LogRankTest, SurvivalData, Ties, harrell_c};

use crate::input::{self, Columns};

/// The statistics `tacefusion stats` computes.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Cox proportional hazards regression.
    Cox {
        #[command(flatten)]
        common: CommonArgs,
        /// Comma-separated covariate columns.
        #[arg(long, value_delimiter = ',', required = true)]
        covariates: Vec<String>,
        /// Handling of tied event times.
        #[arg(long, value_enum, default_value_t = TiesArg::Efron)]
        ties: TiesArg,
    },
    /// Kaplan-Meier curves with log(-log) 95% bands, overall or per group.
    Km {
        #[command(flatten)]
        common: CommonArgs,
        /// Column of group labels: one curve per group.
        #[arg(long)]
        group: Option<String>,
    },
    /// Log-rank test between the groups of a column (two or more).
    Logrank {
        #[command(flatten)]
        common: CommonArgs,
        /// Column of group labels.
        #[arg(long)]
        group: String,
    },
    /// Harrell's C of a risk score (higher risk = shorter survival).
    Cindex {
        #[command(flatten)]
        common: CommonArgs,
        /// Column of the risk score.
        #[arg(long)]
        risk: String,
    },
}

/// Arguments every statistic takes.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// The CSV file (header row, comma-separated).
    #[arg(long)]
    csv: String,
    /// Column of survival times (any unit; >= 0).
    #[arg(long)]
    time: String,
    /// Column of event indicators (1 = event, 0 = censored).
    #[arg(long)]
    event: String,
    /// Drop rows with a missing value in a used column (they are counted) instead of failing.
    #[arg(long)]
    drop_missing: bool,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

/// Tie handling on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TiesArg {
    /// Efron (lifelines, R)
    Efron,
    /// Breslow (scikit-survival, glmnet)
    Breslow,
}

/// Runs one `stats` command and prints its result.
pub fn run(cmd: StatsCommand) -> Result<()> {
    let (json, value, text) = match cmd {
        StatsCommand::Cox { common, covariates, ties } => {
            let names: Vec<&str> = covariates.iter().map(String::as_str).collect();
            let input = read(&common, names.clone(), None)?;
            let ties = match ties {
                TiesArg::Efron => Ties::Efron,
                TiesArg::Breslow => Ties::Breslow,
            };
            let model = CoxModel::fit(&input.covariates(&names)?, &input.data, &CoxOptions { ties, ..Default::default() })?;
            (common.json, cox_json(&model, input.dropped_missing), cox_text(&model, input.dropped_missing))
        }
        StatsCommand::Km { common, group } => {
            let input = read(&common, vec![], group.as_deref())?;
            let (value, text) = km(&input)?;
            (common.json, value, text)
        }
        StatsCommand::Logrank { common, group } => {
            let input = read(&common, vec![], Some(&group))?;
            let (codes, labels) = input::encode_groups(input.group.as_ref().expect("group was read"));
            if labels.len() < 2 {
                bail!("{}: column {group:?} has a single group ({:?}); log-rank needs two or more", common.csv, labels[0]);
            }
            let test = LogRankTest::new(&input.data, &codes)?;
            let per_group: Map<String, Value> = labels
                .iter()
                .enumerate()
                .map(|(k, l)| (l.clone(), json!({"observed": test.observed[k], "expected": test.expected[k]})))
                .collect();
            let value = json!({"chi2": test.chi2, "df": test.df, "p": test.p, "groups": per_group, "n": input.data.len(), "dropped_missing": input.dropped_missing});
            let mut text = format!("log-rank test, {} groups, n = {}\n", labels.len(), input.data.len());
            text += &format!("{:<16} {:>10} {:>10}\n", "group", "observed", "expected");
            for (k, l) in labels.iter().enumerate() {
                text += &format!("{:<16} {:>10.0} {:>10.3}\n", l, test.observed[k], test.expected[k]);
            }
            text += &format!("chi2 = {:.4} on {} df, p = {:.4e}\n", test.chi2, test.df, test.p);
            (common.json, value, text)
        }
        StatsCommand::Cindex { common, risk } => {
            let input = read(&common, vec![&risk], None)?;
            let c = harrell_c(&input.data, &input.numeric[0])?;
            let value = json!({
                "harrell": c.c_index, "concordant": c.concordant, "discordant": c.discordant,
                "tied_risk": c.tied_risk, "tied_time": c.tied_time, "n": input.data.len(), "dropped_missing": input.dropped_missing,
            });
            let text = format!(
                "Harrell's C = {:.6} (n = {})\nconcordant {}, discordant {}, tied risk {}, tied time {}\n",
                c.c_index,
                input.data.len(),
                c.concordant,
                c.discordant,
                c.tied_risk,
                c.tied_time
            );
            (common.json, value, text)
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{text}");
    }
    Ok(())
}

fn read(common: &CommonArgs, numeric: Vec<&str>, group: Option<&str>) -> Result<input::Input> {
    let input = input::read(&common.csv, &Columns { time: &common.time, event: &common.event, numeric, group }, common.drop_missing)?;
    if input.dropped_missing > 0 {
        eprintln!("dropped {} rows with missing values ({} kept)", input.dropped_missing, input.data.len());
    }
    Ok(input)
}

fn keyed(names: &[String], values: &[f64]) -> Value {
    Value::Object(names.iter().cloned().zip(values.iter().map(|&v| json!(v))).collect())
}

fn cox_json(m: &CoxModel, dropped: usize) -> Value {
    json!({
        "coef": keyed(&m.covariates, &m.coef),
        "se": keyed(&m.covariates, &m.se),
        "z": keyed(&m.covariates, &m.z),
        "p": keyed(&m.covariates, &m.p),
        "hazard_ratio": keyed(&m.covariates, &m.hazard_ratio),
        "hazard_ratio_lower": keyed(&m.covariates, &m.coef_lower.iter().map(|v| v.exp()).collect::<Vec<_>>()),
        "hazard_ratio_upper": keyed(&m.covariates, &m.coef_upper.iter().map(|v| v.exp()).collect::<Vec<_>>()),
        "loglik": m.loglik,
        "loglik_null": m.loglik_null,
        "likelihood_ratio_test": m.likelihood_ratio,
        "wald_test": m.wald,
        "score_test": m.score,
        "concordance": m.concordance,
        "n": m.n,
        "events": m.events,
        "ties": m.ties,
        "iterations": m.iterations,
        "dropped_missing": dropped,
    })
}

fn cox_text(m: &CoxModel, dropped: usize) -> String {
    let mut s = format!("Cox proportional hazards, {:?} ties: n = {}, events = {}", m.ties, m.n, m.events);
    if dropped > 0 {
        s += &format!(" ({dropped} rows dropped for missing values)");
    }
    s += &format!("\n{:<16} {:>10} {:>10} {:>10} {:>8} {:>10} {:>20}\n", "covariate", "coef", "se", "HR", "z", "p", "HR 95% CI");
    for j in 0..m.coef.len() {
        s += &format!(
            "{:<16} {:>10.4} {:>10.4} {:>10.4} {:>8.3} {:>10.3e} {:>9.4} - {:<9.4}\n",
            m.covariates[j],
            m.coef[j],
            m.se[j],
            m.hazard_ratio[j],
            m.z[j],
            m.p[j],
            m.coef_lower[j].exp(),
            m.coef_upper[j].exp()
        );
    }
    s += &format!("log-likelihood {:.4} (null {:.4}), concordance {:.4}\n", m.loglik, m.loglik_null, m.concordance);
    for (name, t) in [("likelihood ratio", m.likelihood_ratio), ("Wald", m.wald), ("score (log-rank)", m.score)] {
        s += &format!("{name} test = {:.3} on {} df, p = {:.3e}\n", t.statistic, t.df, t.p);
    }
    s
}

fn km_value(km: &KaplanMeier) -> Value {
    let med = km.median();
    json!({
        "time": km.time, "survival": km.survival, "ci_lower": km.ci_lower, "ci_upper": km.ci_upper,
        "at_risk": km.at_risk, "events": km.events, "censored": km.censored,
        "median": med.median, "median_ci_lower": med.lower, "median_ci_upper": med.upper,
    })
}

fn km_text(label: Option<&str>, data: &SurvivalData, km: &KaplanMeier) -> String {
    let med = km.median();
    let show = |v: Option<f64>| v.map_or("NA".to_string(), |x| format!("{x}"));
    let mut s = match label {
        Some(l) => format!("group {l}: "),
        None => String::new(),
    };
    s += &format!(
        "n = {}, events = {}, median survival {} (95% CI {} - {})\n",
        data.len(),
        data.n_events(),
        show(med.median),
        show(med.lower),
        show(med.upper)
    );
    s += &format!("{:>10} {:>8} {:>7} {:>10} {:>10} {:>10}\n", "time", "at risk", "events", "survival", "lower", "upper");
    for k in 0..km.time.len() {
        if km.events[k] > 0.0 || k == 0 {
            s += &format!(
                "{:>10} {:>8} {:>7} {:>10.4} {:>10.4} {:>10.4}\n",
                km.time[k], km.at_risk[k], km.events[k], km.survival[k], km.ci_lower[k], km.ci_upper[k]
            );
        }
    }
    s
}

fn km(input: &input::Input) -> Result<(Value, String)> {
    let Some(groups) = &input.group else {
        let km = KaplanMeier::fit(&input.data);
        let mut value = km_value(&km);
        value["n"] = json!(input.data.len());
        value["dropped_missing"] = json!(input.dropped_missing);
        return Ok((value, km_text(None, &input.data, &km)));
    };
    let (codes, labels) = input::encode_groups(groups);
    let mut per_group = Map::new();
    let mut text = String::new();
    for (k, label) in labels.iter().enumerate() {
        let idx: Vec<usize> = (0..codes.len()).filter(|&i| codes[i] == k as i64).collect();
        let data = input.data.select(&idx);
        let km = KaplanMeier::fit(&data);
        per_group.insert(label.clone(), km_value(&km));
        text += &km_text(Some(label), &data, &km);
    }
    Ok((json!({"groups": per_group, "n": input.data.len(), "dropped_missing": input.dropped_missing}), text))
}
