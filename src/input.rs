//! Reading survival outcomes, covariates and groups from a CSV file, with errors that name the file,
//! the line and the column, and rows with missing values dropped only when asked (and counted).

use anyhow::{Result, bail};
use tacefusion_core::{Table, TableError};
use tacefusion_survival::{Covariates, SurvivalData};

/// What `stats` reads from the table.
pub struct Columns<'a> {
    pub time: &'a str,
    pub event: &'a str,
    /// Further numeric columns (covariates or a risk score).
    pub numeric: Vec<&'a str>,
    /// A column of group labels (any text).
    pub group: Option<&'a str>,
}

/// The rows kept, in file order.
pub struct Input {
    pub data: SurvivalData,
    /// One vector per requested numeric column.
    pub numeric: Vec<Vec<f64>>,
    /// Group label per kept row, if a group column was asked for.
    pub group: Option<Vec<String>>,
    /// Rows dropped for a missing value (only with `--drop-missing`).
    pub dropped_missing: usize,
}

impl Input {
    /// The numeric columns as named covariates.
    pub fn covariates(&self, names: &[&str]) -> Result<Covariates> {
        Ok(Covariates::from_columns(names.iter().map(|s| s.to_string()).collect(), &self.numeric)?)
    }
}

fn missing_error(table: &Table, row: usize, column: &str) -> TableError {
    table.bad_value(
        row,
        column,
        table.cell(row, table.column_index(column).unwrap_or(0)),
        "missing value (pass --drop-missing to drop such rows)",
    )
}

/// Reads and validates: time finite and >= 0, event 0 or 1, numeric columns finite.
pub fn read(path: &str, columns: &Columns<'_>, drop_missing: bool) -> Result<Input> {
    let table = Table::from_csv_path(path)?;
    let time = table.numeric_column(columns.time)?;
    let event = table.numeric_column(columns.event)?;
    let numeric: Vec<Vec<Option<f64>>> = columns.numeric.iter().map(|c| table.numeric_column(c)).collect::<Result<_, _>>()?;
    let group: Option<Vec<&str>> = columns.group.map(|g| table.text_column(g)).transpose()?;

    let mut kept = Vec::with_capacity(table.len());
    for row in 0..table.len() {
        let mut missing: Option<&str> = None;
        let cells = [(columns.time, time[row]), (columns.event, event[row])]
            .into_iter()
            .chain(columns.numeric.iter().zip(&numeric).map(|(c, v)| (*c, v[row])));
        for (name, value) in cells {
            if value.is_none() && missing.is_none() {
                missing = Some(name);
            }
        }
        if let (Some(g), Some(labels)) = (columns.group, &group)
            && tacefusion_core::table::MISSING_SPELLINGS.contains(&labels[row].trim())
            && missing.is_none()
        {
            missing = Some(g);
        }
        if let Some(name) = missing {
            if drop_missing {
                continue;
            }
            return Err(missing_error(&table, row, name).into());
        }
        let t = time[row].expect("checked");
        if t < 0.0 {
            return Err(table.bad_value(row, columns.time, &t.to_string(), "negative survival time").into());
        }
        let e = event[row].expect("checked");
        if e != 0.0 && e != 1.0 {
            return Err(table.bad_value(row, columns.event, &e.to_string(), "event indicator must be 0 or 1").into());
        }
        kept.push(row);
    }
    if kept.is_empty() {
        bail!("{path}: no row left after dropping {} rows with missing values", table.len());
    }
    let data = SurvivalData::new(
        kept.iter().map(|&r| time[r].expect("checked")).collect(),
        kept.iter().map(|&r| event[r] == Some(1.0)).collect(),
    )?;
    Ok(Input {
        data,
        numeric: numeric.iter().map(|col| kept.iter().map(|&r| col[r].expect("checked")).collect()).collect(),
        group: group.map(|g| kept.iter().map(|&r| g[r].trim().to_string()).collect()),
        dropped_missing: table.len() - kept.len(),
    })
}

/// Integer codes for text labels, in sorted label order (numerically when every label is a number),
/// with the labels in code order.
pub fn encode_groups(labels: &[String]) -> (Vec<i64>, Vec<String>) {
    // distinct spellings first (sort + dedup on the text), then numeric order when every label is a
    // number; "1" and "1.0" stay two groups, each with its own rows
    let mut distinct: Vec<String> = labels.to_vec();
    distinct.sort();
    distinct.dedup();
    if distinct.iter().all(|l| l.parse::<f64>().is_ok()) {
        distinct.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse::<f64>().unwrap()));
    }
    let codes = labels.iter().map(|l| distinct.iter().position(|d| d == l).expect("present") as i64).collect();
    (codes, distinct)
}
