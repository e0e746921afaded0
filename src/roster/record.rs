//! One record of an agents file: its cells, as text.
//!
//! This is what `csv::StringRecord` is, but the record is checked as UTF-8
//! in one pass over all its bytes, with simdutf8. The csv crate checks each
//! cell with the standard library as soon as a record is not all ASCII, and
//! on a file of Cyrillic names that took over a third of parsing it.

use std::ops::Range;

/// The cells of a record, one after another in one string.
#[derive(Clone, Debug, Default)]
pub(super) struct Record {
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<usize>,
    /// The parsed bytes, kept to reuse their buffers.
    bytes: csv::ByteRecord,
}

/// Why a record is not text: the cell (from 0) where its UTF-8 breaks,
/// and the physical line where the record starts.
#[derive(Debug)]
pub(super) struct NotUtf8 {
    pub(super) cell: usize,
    pub(super) line: u64,
}

impl Record {
    /// Reads the next record of `reader`: the physical line where it
    /// starts, or `None` at the end.
    pub(super) fn read<R: std::io::Read>(
        &mut self,
        reader: &mut csv::Reader<R>,
    ) -> Result<Option<u64>, ReadError> {
        if !reader.read_byte_record(&mut self.bytes)? {
            return Ok(None);
        }
        let line = self.bytes.position().map_or(0, csv::Position::line);
        self.take_bytes().map_err(|cell| NotUtf8 { cell, line })?;
        Ok(Some(line))
    }

    /// Fills the record with the text of `self.bytes`, if it is UTF-8 and
    /// no character spans two cells; else the cell where it breaks.
    fn take_bytes(&mut self) -> Result<(), usize> {
        let bytes = &self.bytes;
        let text = simdutf8::compat::from_utf8(bytes.as_slice())
            .map_err(|error| not_utf8(bytes, error.valid_up_to()))?;
        self.text.clear();
        self.text.push_str(text);
        self.ends.clear();
        for cell in 0..bytes.len() {
            let end = bytes.range(cell).map_or(0, |range| range.end);
            if !self.text.is_char_boundary(end) {
                return Err(not_utf8(bytes, end));
            }
            self.ends.push(end);
        }
        Ok(())
    }

    /// Empties the record, for [`Record::push_field`].
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Adds a cell at the end.
    pub(super) fn push_field(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    /// How many cells the record has.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Cell `cell` (from 0), if the record has it.
    pub(super) fn get(&self, cell: usize) -> Option<&str> {
        let end = *self.ends.get(cell)?;
        let start = cell.checked_sub(1).map_or(0, |before| self.ends[before]);
        // Every end was checked to be a character boundary.
        Some(&self.text[start..end])
    }

    /// The cells in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|cell| self.get(cell))
    }

    /// All the cells, one after another.
    pub(super) fn as_str(&self) -> &str {
        &self.text
    }
}

/// The cell of `bytes` that holds byte `at` of them all.
fn not_utf8(bytes: &csv::ByteRecord, at: usize) -> usize {
    let holds = |cell: &usize| {
        bytes
            .range(*cell)
            .is_some_and(|range: Range<usize>| range.end > at)
    };
    (0..bytes.len()).find(holds).unwrap_or(0)
}

/// Why the next record could not be read.
#[derive(Debug)]
pub(super) enum ReadError {
    Csv(csv::Error),
    NotUtf8(NotUtf8),
}

impl From<csv::Error> for ReadError {
    fn from(error: csv::Error) -> ReadError {
        ReadError::Csv(error)
    }
}

impl From<NotUtf8> for ReadError {
    fn from(error: NotUtf8) -> ReadError {
        ReadError::NotUtf8(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Vec<Result<Vec<String>, usize>> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut record = Record::default();
        let mut all = Vec::new();
        loop {
            match record.read(&mut reader) {
                Ok(Some(_)) => all.push(Ok(record.iter().map(str::to_string).collect())),
                Ok(None) => return all,
                Err(ReadError::NotUtf8(error)) => all.push(Err(error.cell)),
                Err(ReadError::Csv(error)) => panic!("{error}"),
            }
        }
    }

    /// Cells come out as the csv crate parses them, quotes and all.
    #[test]
    fn cells_are_the_csv_fields() {
        assert_eq!(
            read_all("a;\"б;\"\"в\"\"\";\n;\"x\ny\"\n"),
            vec![
                Ok(vec!["a".into(), "б;\"в\"".into(), String::new()]),
                Ok(vec![String::new(), "x\ny".into()]),
            ]
        );
    }

    /// Bytes that are not UTF-8 name their cell.
    #[test]
    fn invalid_utf8_names_its_cell() {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(&b"ok;also\xFF;x\n"[..]);
        let mut record = Record::default();
        match record.read(&mut reader) {
            Err(ReadError::NotUtf8(error)) => assert_eq!(error.cell, 1),
            other => panic!("{other:?}"),
        }
    }
}
