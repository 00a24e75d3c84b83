//! Records from JSON Lines, CSV/TSV and Parquet files, each a JSON object
//! with its position in the file, for [`super`] to turn into points.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

/// The input file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
    /// Comma-separated values with a header row (`.csv`).
    Csv,
    /// Tab-separated values with a header row (`.tsv`).
    Tsv,
    /// Apache Parquet (`.parquet`).
    Parquet,
}

impl Format {
    /// The format a file name says, if it says one.
    pub fn of(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        Some(match name.rsplit('.').next()? {
            "jsonl" | "ndjson" | "json" => Self::Jsonl,
            "csv" => Self::Csv,
            "tsv" | "tab" => Self::Tsv,
            "parquet" | "pq" => Self::Parquet,
            _ => return None,
        })
    }
}

/// One record: its number in the file (from 1: the line for JSON Lines, the
/// row after the header for CSV, the row for Parquet) and its fields.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where it is, for messages.
    pub number: u64,
    /// Its fields.
    pub fields: Map<String, Value>,
    /// How far into the file it ends: bytes for text formats, its row
    /// number for Parquet (the progress bar's position once it is written).
    pub end: u64,
}

/// The records of a file, in order, and the total their `end`s run to.
pub struct Records {
    /// The records.
    pub iter: Box<dyn Iterator<Item = Result<Record>> + Send>,
    /// The file's bytes (text formats) or rows (Parquet); `None` for a
    /// gzipped file, whose records' ends count uncompressed bytes.
    pub total: Option<u64>,
    /// Whether `total` counts rows (Parquet) rather than bytes.
    pub counts_rows: bool,
}

/// Opens `path` as `format`.
pub fn open(path: &Path, format: Format) -> Result<Records> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let bytes = file.metadata()?.len();
    let gzipped = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let text = |file: File| -> Box<dyn Read + Send> {
        if gzipped {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        }
    };
    let total = (!gzipped).then_some(bytes);
    let name = path.display().to_string();
    Ok(match format {
        Format::Jsonl => Records {
            iter: Box::new(jsonl(BufReader::with_capacity(1 << 20, text(file)), name)),
            total,
            counts_rows: false,
        },
        Format::Csv | Format::Tsv => {
            let delimiter = if format == Format::Csv { b',' } else { b'\t' };
            Records {
                iter: Box::new(csv_records(text(file), delimiter, name)?),
                total,
                counts_rows: false,
            }
        }
        Format::Parquet => {
            if gzipped {
                bail!("{name}: a Parquet file compresses its own pages; gunzip it first");
            }
            let (iter, rows) = parquet_records(file, name)?;
            Records {
                iter,
                total: Some(rows),
                counts_rows: true,
            }
        }
    })
}

fn jsonl(
    mut reader: impl BufRead + Send,
    name: String,
) -> impl Iterator<Item = Result<Record>> + Send {
    let (mut number, mut end) = (0u64, 0u64);
    let mut line = String::new();
    std::iter::from_fn(move || {
        loop {
            line.clear();
            number += 1;
            let read = match reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => {
                    return Some(Err(
                        anyhow::Error::new(e).context(format!("{name} line {number}: cannot read"))
                    ));
                }
            };
            end += read as u64;
            if line.trim().is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(fields)) => Ok(Record {
                    number,
                    fields,
                    end,
                }),
                Ok(other) => Err(anyhow::anyhow!(
                    "{name} line {number}: a record must be a JSON object, got {}",
                    kind(&other)
                )),
                Err(e) => Err(anyhow::anyhow!("{name} line {number}: not JSON: {e}")),
            });
        }
    })
}

fn csv_records(
    reader: Box<dyn Read + Send>,
    delimiter: u8,
    name: String,
) -> Result<impl Iterator<Item = Result<Record>> + Send> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(reader);
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{name}: cannot read the header row"))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(dup) = headers
        .iter()
        .enumerate()
        .find(|(i, h)| headers[..*i].contains(h))
    {
        bail!("{name}: the header names column {:?} twice", dup.1);
    }
    Ok(reader.into_records().enumerate().map(move |(i, row)| {
        let number = i as u64 + 1;
        let row = row.with_context(|| format!("{name} row {number}"))?;
        // Where the record starts: the bar lags one record behind.
        let end = row.position().map_or(0, csv::Position::byte);
        let fields = headers
            .iter()
            .zip(row.iter())
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(h, cell)| (h.clone(), cell_value(cell)))
            .collect();
        Ok(Record {
            number,
            fields,
            end,
        })
    }))
}

/// A CSV cell as JSON: a number or boolean when the cell is one written the
/// way JSON writes it (`17`, `-2.5`, `true`; not `017`, `1e3` or ` 5`), a
/// JSON array when it is one (vectors), otherwise the string.
pub fn cell_value(cell: &str) -> Value {
    let parsed = serde_json::from_str::<Value>(cell);
    match parsed {
        Ok(value @ Value::Array(_)) if cell.starts_with('[') => value,
        Ok(value @ (Value::Number(_) | Value::Bool(_))) if written_as_json(&value, cell) => value,
        _ => Value::String(cell.to_string()),
    }
}

/// Whether `cell` is exactly how JSON writes `value`.
fn written_as_json(value: &Value, cell: &str) -> bool {
    let canonical = value.to_string();
    canonical.as_str() == cell
}

type RowIter = Box<dyn Iterator<Item = Result<Record>> + Send>;

fn parquet_records(file: File, name: String) -> Result<(RowIter, u64)> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader =
        SerializedFileReader::new(file).with_context(|| format!("{name}: not a Parquet file"))?;
    let rows = u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
    let iter = reader.into_iter().enumerate().map(move |(i, row)| {
        let number = i as u64 + 1;
        let row = row.with_context(|| format!("{name} row {number}"))?;
        match row.to_json_value() {
            Value::Object(fields) => Ok(Record {
                number,
                fields: fields.into_iter().filter(|(_, v)| !v.is_null()).collect(),
                end: number,
            }),
            other => bail!("{name} row {number}: not a record: {}", kind(&other)),
        }
    });
    Ok((Box::new(iter), rows))
}

/// A JSON value's kind, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_keep_their_json_types_only_when_written_as_json_writes_them() {
        assert_eq!(cell_value("17"), Value::from(17));
        assert_eq!(cell_value("-2.5"), Value::from(-2.5));
        assert_eq!(cell_value("true"), Value::from(true));
        for text in ["017", "1e3", " 5", "1.50", "True", "abc", "[1, oops"] {
            assert_eq!(cell_value(text), Value::from(text), "{text}");
        }
        assert_eq!(cell_value("[0.5, 1]"), serde_json::json!([0.5, 1]));
    }

    #[test]
    fn formats_follow_the_file_name() {
        for (name, format) in [
            ("a.jsonl", Some(Format::Jsonl)),
            ("a.JSONL.gz", Some(Format::Jsonl)),
            ("dir/b.csv", Some(Format::Csv)),
            ("b.tsv", Some(Format::Tsv)),
            ("c.parquet", Some(Format::Parquet)),
            ("d.txt", None),
        ] {
            assert_eq!(Format::of(Path::new(name)), format, "{name}");
        }
    }
}
