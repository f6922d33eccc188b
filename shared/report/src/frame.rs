//! The rows a query returns, as the report reads them: named columns of text, numbers or nulls.

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (also booleans, as `true` / `false`).
    Text(String),
    /// A number (NaN for a missing one).
    Num(f64),
    /// SQL NULL.
    Null,
}

/// The result of one query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Frame {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn at(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// Row `r`'s value of `column` as text ("" when null or absent).
    pub fn text(&self, r: usize, column: &str) -> String {
        match self.at(column).map(|c| &self.rows[r][c]) {
            Some(Cell::Text(s)) => s.clone(),
            Some(Cell::Num(v)) => format!("{v}"),
            _ => String::new(),
        }
    }

    /// Row `r`'s value of `column` as a number (NaN when null, absent or not a number).
    pub fn num(&self, r: usize, column: &str) -> f64 {
        match self.at(column).map(|c| &self.rows[r][c]) {
            Some(Cell::Num(v)) => *v,
            Some(Cell::Text(s)) => s.parse().unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }

    /// Indices of the rows where `column` equals `value`.
    pub fn rows_where(&self, column: &str, value: &str) -> Vec<usize> {
        (0..self.len()).filter(|&r| self.text(r, column) == value).collect()
    }

    /// The distinct values of `column`, in first-seen order.
    pub fn distinct(&self, column: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in 0..self.len() {
            let v = self.text(r, column);
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}
