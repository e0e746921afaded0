//! Reading the first worksheet of an `.xlsx` workbook as records of text, so
//! the same header and row rules apply as for CSV.
//!
//! Cells become the text a person would type: booleans `TRUE`/`FALSE`,
//! whole numbers without `.0` (a team ID stored as 2.0 is `2`), errors as
//! Excel shows them (`#N/A`), which the row rules then reject. Other sheets
//! are ignored.
//!
//! NOTE: unlike CSV, the worksheet is loaded whole (calamine's `Range`):
//! memory grows with the sheet, roughly 100 bytes a cell, so a 1,000,000-row
//! sheet would need over a gigabyte. Workbooks from admins are small; a huge
//! one can be saved as CSV. Streaming it would need calamine's cell reader
//! driven from a thread, because that reader borrows the workbook.

use std::borrow::Cow;
use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx};

use super::RosterError;
use super::record::Record;

/// The first worksheet and how far it has been read.
#[derive(Debug)]
pub(super) struct Sheet {
    range: Range<Data>,
    /// The next row to yield, relative to the range's first row.
    next: usize,
    /// The spreadsheet row number of the range's first row.
    first_line: u64,
}

impl Sheet {
    /// Loads the first worksheet of the workbook at `path`.
    ///
    /// Fails when the file is not a readable `.xlsx` or has no worksheet.
    pub(super) fn open(path: &Path) -> Result<Sheet, RosterError> {
        let error = |reason: String| RosterError::Xlsx {
            path: path.to_path_buf(),
            reason,
        };
        let mut book: Xlsx<_> =
            calamine::open_workbook(path).map_err(|e: calamine::XlsxError| error(e.to_string()))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| error("it has no worksheet".to_string()))?
            .map_err(|e| error(e.to_string()))?;
        let first_line = range.start().map_or(1, |(row, _)| u64::from(row) + 1);
        Ok(Sheet {
            range,
            next: 0,
            first_line,
        })
    }

    /// Fills `record` with the next row's cells; returns the row's
    /// spreadsheet number, or `None` after the last row.
    pub(super) fn next_record(&mut self, record: &mut Record) -> Option<u64> {
        if self.next >= self.range.height() {
            return None;
        }
        record.clear();
        for column in 0..self.range.width() {
            record.push_field(&cell_text(self.range.get((self.next, column))));
        }
        let line = self.first_line + self.next as u64;
        self.next += 1;
        Some(line)
    }
}

/// The text of a cell as a person would type it.
fn cell_text(cell: Option<&Data>) -> Cow<'_, str> {
    match cell {
        None | Some(Data::Empty) => Cow::Borrowed(""),
        Some(Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text)) => {
            Cow::Borrowed(text)
        }
        Some(Data::Bool(true)) => Cow::Borrowed("TRUE"),
        Some(Data::Bool(false)) => Cow::Borrowed("FALSE"),
        Some(Data::Int(number)) => Cow::Owned(number.to_string()),
        Some(Data::Float(number)) => Cow::Owned(float_text(*number)),
        Some(Data::DateTime(date)) => Cow::Owned(float_text(date.as_f64())),
        Some(Data::Error(error)) => Cow::Owned(error.to_string()),
    }
}

/// Whole numbers without a fraction (`2.0` → `2`), others in full.
fn float_text(number: f64) -> String {
    // Below 2^53 every whole f64 is exact, so the cast loses nothing.
    if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Team IDs stored as numbers read back as written.
    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(float_text(2.0), "2");
        assert_eq!(float_text(-7.0), "-7");
        assert_eq!(float_text(2.5), "2.5");
        assert_eq!(cell_text(Some(&Data::Bool(true))), "TRUE");
        assert_eq!(cell_text(Some(&Data::Int(42))), "42");
    }
}
