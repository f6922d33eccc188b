//! Output tables as Parquet bytes: named columns of text, floats, integers or booleans, written
//! the same way every time (same rows, same bytes), and read back for the fan-in stages.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::executor::ExecError;

/// One column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Text.
    Text(Vec<String>),
    /// Floating point (NaN allowed).
    Float(Vec<f64>),
    /// Integers.
    Int(Vec<i64>),
    /// Booleans.
    Bool(Vec<bool>),
}

impl Column {
    fn array(&self) -> (DataType, ArrayRef) {
        match self {
            Column::Text(v) => (DataType::Utf8, Arc::new(StringArray::from(v.iter().map(String::as_str).collect::<Vec<_>>()))),
            Column::Float(v) => (DataType::Float64, Arc::new(Float64Array::from(v.clone()))),
            Column::Int(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
            Column::Bool(v) => (DataType::Boolean, Arc::new(BooleanArray::from(v.clone()))),
        }
    }
}

/// A table to write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// (name, values), all of the same length.
    pub columns: Vec<(String, Column)>,
}

impl Table {
    /// Adds a column.
    pub fn with(mut self, name: &str, column: Column) -> Self {
        self.columns.push((name.to_string(), column));
        self
    }

    /// The table as Parquet bytes.
    pub fn to_parquet(&self) -> Result<Vec<u8>, String> {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = self
            .columns
            .iter()
            .map(|(name, c)| {
                let (t, a) = c.array();
                (Field::new(name, t, false), a)
            })
            .unzip();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut bytes, schema, None).map_err(|e| e.to_string())?;
        writer.write(&batch).map_err(|e| e.to_string())?;
        writer.close().map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}

/// The columns of Parquet bytes, by name: text, float, integer or boolean values.
pub fn read_parquet(bytes: bytes::Bytes) -> Result<Vec<(String, Column)>, String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| e.to_string())?.build().map_err(|e| e.to_string())?;
    let mut out: Vec<(String, Column)> = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        for (n, field) in batch.schema().fields().iter().enumerate() {
            let a = batch.column(n);
            let column = match field.data_type() {
                DataType::Utf8 => {
                    let a = a.as_any().downcast_ref::<StringArray>().ok_or("not text")?;
                    Column::Text((0..a.len()).map(|i| a.value(i).to_string()).collect())
                }
                DataType::Float64 => Column::Float(a.as_any().downcast_ref::<Float64Array>().ok_or("not float")?.values().to_vec()),
                DataType::Int64 => Column::Int(a.as_any().downcast_ref::<Int64Array>().ok_or("not int")?.values().to_vec()),
                DataType::Boolean => {
                    let a = a.as_any().downcast_ref::<BooleanArray>().ok_or("not bool")?;
                    Column::Bool((0..a.len()).map(|i| a.value(i)).collect())
                }
                other => return Err(format!("column {}: type {other} is not read", field.name())),
            };
            match out.iter_mut().find(|(name, _)| name == field.name()) {
                None => out.push((field.name().clone(), column)),
                Some((_, existing)) => match (existing, column) {
                    (Column::Text(a), Column::Text(b)) => a.extend(b),
                    (Column::Float(a), Column::Float(b)) => a.extend(b),
                    (Column::Int(a), Column::Int(b)) => a.extend(b),
                    (Column::Bool(a), Column::Bool(b)) => a.extend(b),
                    _ => return Err(format!("column {} changes type between batches", field.name())),
                },
            }
        }
    }
    Ok(out)
}

/// A table read back from an input file, whose accessors name the file and the column in their
/// errors (a malformed input is the task's bad input, not a crash).
#[derive(Debug, Clone)]
pub struct ReadTable {
    /// Object-store path of the file.
    pub source: String,
    /// The columns.
    pub columns: Vec<(String, Column)>,
}

impl ReadTable {
    /// Reads the Parquet bytes of `source`.
    pub fn read(source: &str, bytes: bytes::Bytes) -> Result<Self, ExecError> {
        let columns = read_parquet(bytes).map_err(|e| ExecError::BadInput(format!("{source}: {e}")))?;
        Ok(Self { source: source.to_string(), columns })
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Result<&Column, ExecError> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .ok_or_else(|| ExecError::BadInput(format!("{}: no column {name}", self.source)))
    }

    fn wrong(&self, name: &str, kind: &str) -> ExecError {
        ExecError::BadInput(format!("{}: column {name} is not {kind}", self.source))
    }

    /// A float column.
    pub fn floats(&self, name: &str) -> Result<&[f64], ExecError> {
        match self.column(name)? {
            Column::Float(v) => Ok(v),
            _ => Err(self.wrong(name, "numeric")),
        }
    }

    /// An integer column.
    pub fn ints(&self, name: &str) -> Result<&[i64], ExecError> {
        match self.column(name)? {
            Column::Int(v) => Ok(v),
            _ => Err(self.wrong(name, "an integer")),
        }
    }

    /// A boolean column.
    pub fn bools(&self, name: &str) -> Result<&[bool], ExecError> {
        match self.column(name)? {
            Column::Bool(v) => Ok(v),
            _ => Err(self.wrong(name, "boolean")),
        }
    }

    /// A text column.
    pub fn texts(&self, name: &str) -> Result<&[String], ExecError> {
        match self.column(name)? {
            Column::Text(v) => Ok(v),
            _ => Err(self.wrong(name, "text")),
        }
    }

    /// Number of rows (of the first column).
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| match c {
            Column::Text(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::Bool(v) => v.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_round_trip_and_bytes_repeat() {
        let t = Table::default()
            .with("id", Column::Text(vec!["a".into(), "b".into()]))
            .with("x", Column::Float(vec![1.5, f64::NAN]))
            .with("n", Column::Int(vec![3, -4]))
            .with("ok", Column::Bool(vec![true, false]));
        let bytes = t.to_parquet().unwrap();
        assert_eq!(bytes, t.to_parquet().unwrap(), "same table, same bytes");
        let back = read_parquet(bytes.into()).unwrap();
        assert_eq!(back[0], ("id".to_string(), Column::Text(vec!["a".into(), "b".into()])));
        assert!(matches!(&back[1].1, Column::Float(v) if v[0] == 1.5 && v[1].is_nan()));
        assert_eq!(back[2].1, Column::Int(vec![3, -4]));
        assert_eq!(back[3].1, Column::Bool(vec![true, false]));
    }
}
