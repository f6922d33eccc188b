//! A CSV table read as text, with typed access to columns and errors that name the file, the row
//! and the column.
//!
//! Row numbers in errors are the line numbers a person sees in an editor (the header is line 1, the
//! first data row is line 2).

use std::path::{Path, PathBuf};

/// Why a table or one of its cells could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file could not be opened or is not valid CSV.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: PathBuf,
        /// What the CSV reader said.
        message: String,
    },
    /// The file holds a header but no data row, or nothing at all.
    #[error("{file}: no data rows")]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// A column asked for is not in the header.
    #[error("{file}: no column {column:?} (columns: {available})")]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column asked for.
        column: String,
        /// The header, comma-separated.
        available: String,
    },
    /// A cell that must hold a number does not.
    #[error("{file}: line {line}, column {column:?}: {problem} (value {value:?})")]
    BadValue {
        /// The file.
        file: PathBuf,
        /// Line in the file (header = 1).
        line: usize,
        /// The column.
        column: String,
        /// The text of the cell.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// A CSV file held as strings, header first.
#[derive(Debug, Clone)]
pub struct Table {
    file: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Line in the file where each row starts (blank lines are skipped, quoted fields may span lines).
    lines: Vec<usize>,
}

/// Cell spellings read as a missing value.
pub const MISSING_SPELLINGS: &[&str] = &["", "NA", "NaN", "nan", "N/A", "."];

/// The line of a byte offset in a file, counted on from the last offset asked (offsets come in
/// file order): line breaks are LF, CRLF or a lone CR; a record's offset may lie before the blank
/// lines that precede it, which count too. The csv crate's own count leaves out those blank lines
/// and counts a CRLF ending as no line (BurntSushi/rust-csv#395), so readers of delimited text
/// count here from each record's byte offset.
pub struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    /// A counter over the whole text, at line 1.
    pub fn new(text: &'a [u8]) -> Self {
        Self { text, at: 0, line: 1 }
    }

    /// The line (from 1) of the record at byte offset `byte`; offsets must come in file order.
    pub fn line_at(&mut self, byte: u64) -> usize {
        let mut byte = (byte as usize).clamp(self.at, self.text.len());
        while matches!(self.text.get(byte), Some(b'\n' | b'\r')) {
            byte += 1;
        }
        let seen = &self.text[self.at..byte];
        let breaks = seen.iter().enumerate().filter(|&(i, &b)| b == b'\n' || (b == b'\r' && seen.get(i + 1) != Some(&b'\n'))).count();
        self.line += breaks;
        self.at = byte;
        self.line
    }
}

impl Table {
    /// Reads a whole CSV file (comma-separated, one header row).
    pub fn from_csv_path(path: impl AsRef<Path>) -> Result<Self, TableError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| TableError::Read { file: path.to_path_buf(), message: e.to_string() })?;
        // tables exported on Windows end their lines with CRLF, which the csv crate does not count
        let mut lines_before = LineCounter::new(&bytes);
        let read_err = |e: csv::Error, lines_before: &mut LineCounter| {
            let message = match (e.kind(), e.position()) {
                (csv::ErrorKind::UnequalLengths { expected_len, len, .. }, Some(p)) => {
                    format!("line {}: {len} fields where the header has {expected_len}", lines_before.line_at(p.byte()))
                }
                (_, Some(p)) => format!("line {}: {e}", lines_before.line_at(p.byte())),
                _ => e.to_string(),
            };
            TableError::Read { file: path.to_path_buf(), message }
        };
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(&bytes[..]);
        let header: Vec<String> =
            reader.headers().map_err(|e| read_err(e, &mut lines_before))?.iter().map(|s| s.trim().to_string()).collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| read_err(e, &mut lines_before))?;
            lines.push(record.position().map_or(rows.len() + 2, |p| lines_before.line_at(p.byte())));
            rows.push(record.iter().map(str::to_string).collect());
        }
        if header.is_empty() || rows.is_empty() {
            return Err(TableError::Empty { file: path.to_path_buf() });
        }
        Ok(Self { file: path.to_path_buf(), header, rows, lines })
    }

    /// The file the table came from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no data row (never the case for a table that was read).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Column names in file order.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The line in the file of data row `row` (0-based).
    pub fn line_of(&self, row: usize) -> usize {
        self.lines[row]
    }

    /// Position of a column, or an error naming the columns there are.
    pub fn column_index(&self, column: &str) -> Result<usize, TableError> {
        self.header.iter().position(|h| h == column).ok_or_else(|| TableError::MissingColumn {
            file: self.file.clone(),
            column: column.to_string(),
            available: self.header.join(","),
        })
    }

    /// The raw text of a column.
    pub fn text_column(&self, column: &str) -> Result<Vec<&str>, TableError> {
        let j = self.column_index(column)?;
        Ok(self.rows.iter().map(|r| r[j].as_str()).collect())
    }

    /// A numeric column; `None` where the cell is one of [`MISSING_SPELLINGS`].
    pub fn numeric_column(&self, column: &str) -> Result<Vec<Option<f64>>, TableError> {
        let j = self.column_index(column)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let text = r[j].trim();
                if MISSING_SPELLINGS.contains(&text) {
                    return Ok(None);
                }
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(self.bad_value(i, column, text, "not a finite number")),
                }
            })
            .collect()
    }

    /// An error for the cell at data row `row` (0-based) of `column`.
    pub fn bad_value(&self, row: usize, column: &str, value: &str, problem: &str) -> TableError {
        TableError::BadValue {
            file: self.file.clone(),
            line: self.line_of(row),
            column: column.to_string(),
            value: value.to_string(),
            problem: problem.to_string(),
        }
    }

    /// The text of one cell.
    pub fn cell(&self, row: usize, column: usize) -> &str {
        &self.rows[row][column]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tacefusion-core-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
        path
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let path = write("bad.csv", "t,e\n1,1\nabc,0\n");
        let table = Table::from_csv_path(&path).unwrap();
        let err = table.numeric_column("t").unwrap_err().to_string();
        assert!(err.contains("bad.csv") && err.contains("line 3") && err.contains("\"t\"") && err.contains("abc"), "{err}");
        let err = table.numeric_column("x").unwrap_err().to_string();
        assert!(err.contains("no column \"x\"") && err.contains("t,e"), "{err}");
    }

    #[test]
    fn line_numbers_survive_blank_lines_multi_line_fields_and_any_line_ending() {
        // (file, line of the bad `t`, line of the row of the wrong length)
        let cases = [
            ("t,note\n1,a\n\n2,\"two\nlines\"\nx,b\n", 6),
            ("t,note\r\n1,a\r\n\r\n2,\"two\r\nlines\"\r\nx,b\r\n", 6),
            ("t,note\r1,a\r\r2,\"two\rlines\"\rx,b\r", 6),
            ("t,note\r\n1,a\r\nx,b\r\n", 3),
            ("\r\nt,note\r\n1,a\r\nx,b", 4),
        ];
        for (i, (text, line)) in cases.into_iter().enumerate() {
            let table = Table::from_csv_path(write(&format!("lines{i}.csv"), text)).unwrap();
            let err = table.numeric_column("t").unwrap_err().to_string();
            assert!(err.contains(&format!("line {line},")), "{text:?}: {err}");
            let ending = if text.ends_with(['\n', '\r']) { "" } else { "\r\n" };
            let short = write(&format!("short{i}.csv"), &format!("{text}{ending}3\r\n"));
            let err = Table::from_csv_path(&short).unwrap_err().to_string();
            assert!(err.contains(&format!("line {}: 1 fields where the header has 2", line + 1)), "{text:?}: {err}");
        }
    }

    #[test]
    fn missing_cells_and_empty_files() {
        let path = write("na.csv", "t,e\n1,1\nNA,0\n,1\n");
        let table = Table::from_csv_path(&path).unwrap();
        assert_eq!(table.numeric_column("t").unwrap(), vec![Some(1.0), None, None]);
        let empty = write("empty.csv", "t,e\n");
        assert!(matches!(Table::from_csv_path(&empty), Err(TableError::Empty { .. })));
        let nothing = write("nothing.csv", "");
        assert!(matches!(Table::from_csv_path(&nothing), Err(TableError::Empty { .. })));
    }
}
