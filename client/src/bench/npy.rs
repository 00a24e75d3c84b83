//! Minimal NumPy `.npy` reading and writing (format version 1.0, C order,
//! little-endian `f4`, `i4` and `i8`): the vector benchmark directory's format.

use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// A 2-D array read from a `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Array<T> {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row-major values.
    pub data: Vec<T>,
}

impl<T> Array<T> {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

fn write(path: &Path, descr: &str, rows: usize, cols: usize, bytes: &[u8]) -> Result<()> {
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let file = std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&u16::try_from(header.len())?.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Writes `f32` rows.
pub fn write_f32(path: &Path, rows: usize, cols: usize, data: &[f32]) -> Result<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    write(path, "<f4", rows, cols, &bytes)
}

/// Writes `i32` rows.
pub fn write_i32(path: &Path, rows: usize, cols: usize, data: &[i32]) -> Result<()> {
    let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    write(path, "<i4", rows, cols, &bytes)
}

fn read(path: &Path) -> Result<(String, usize, usize, Vec<u8>)> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("open {}", path.display()))?
        .read_to_end(&mut bytes)?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("{}: not a .npy file", path.display());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => bail!("{}: unsupported .npy version {v}", path.display()),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len])?.to_string();
    if header.contains("'fortran_order': True") {
        bail!("{}: Fortran order is not supported", path.display());
    }
    let descr = header
        .split("'descr':")
        .nth(1)
        .and_then(|s| s.split('\'').nth(1))
        .context("no descr")?
        .to_string();
    let shape = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .context("no shape")?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [r] => (*r, 1),
        other => bail!(
            "{}: expected a 2-D array, got shape {other:?}",
            path.display()
        ),
    };
    Ok((descr, rows, cols, bytes[start + header_len..].to_vec()))
}

/// Reads an `f4` array.
pub fn read_f32(path: &Path) -> Result<Array<f32>> {
    let (descr, rows, cols, body) = read(path)?;
    if descr != "<f4" {
        bail!("{}: expected float32 (<f4), got {descr}", path.display());
    }
    let data: Vec<f32> = body
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if data.len() != rows * cols {
        bail!(
            "{}: {} values for shape ({rows}, {cols})",
            path.display(),
            data.len()
        );
    }
    Ok(Array { rows, cols, data })
}

/// Reads an `i4` or `i8` array as `i64`.
pub fn read_int(path: &Path) -> Result<Array<i64>> {
    let (descr, rows, cols, body) = read(path)?;
    let data: Vec<i64> = match descr.as_str() {
        "<i4" => body
            .chunks_exact(4)
            .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        "<i8" => body
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
            .collect(),
        other => bail!("{}: expected int32 or int64, got {other}", path.display()),
    };
    if data.len() != rows * cols {
        bail!(
            "{}: {} values for shape ({rows}, {cols})",
            path.display(),
            data.len()
        );
    }
    Ok(Array { rows, cols, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_what_numpy_writes() {
        let dir = std::env::temp_dir().join(format!("trawl-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.npy");
        write_f32(&f, 2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]).unwrap();
        let a = read_f32(&f).unwrap();
        assert_eq!((a.rows, a.cols), (2, 3));
        assert_eq!(a.row(1), &[4.0, 5.0, 6.5]);
        let bytes = std::fs::read(&f).unwrap();
        let header_end = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!(
            header_end % 64,
            0,
            "header padded to 64 bytes as numpy does"
        );
        let g = dir.join("g.npy");
        write_i32(&g, 1, 2, &[7, -1]).unwrap();
        assert_eq!(read_int(&g).unwrap().data, vec![7, -1]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
