//! One record of an agents file: its cells, as text, and reading records
//! from a CSV stream.
//!
//! [`Reader`] does what `csv::Reader` reading `StringRecord`s does, with
//! two differences that made a dry run over twice as fast:
//!
//! - A line whose cells each hold no quote, or are wholly quoted with no
//!   quote inside (what a spreadsheet writes when it quotes every cell), is
//!   split at the separator here, not by csv_core's parser: such a line is
//!   one record whose cells are plain to see, and finding them with a byte
//!   loop and `memchr` costs a fraction of running the parser over every
//!   byte. Every other record (doubled quotes, cells over several lines)
//!   goes to csv_core, which the csv crate uses too, starting at the same
//!   record boundary; so does the first, so that a byte-order mark is
//!   stripped exactly as the csv crate strips it.
//! - A record is checked as UTF-8 in one pass over all its bytes, with
//!   simdutf8; the csv crate checks each cell with the standard library,
//!   which on a file of Cyrillic names took over a third of parsing it.
//!
//! A record's line is where it starts, not counting the empty lines before
//! it (the csv crate counts those into the next record's position).

use std::io::{self, Read};
use std::ops::Range;

/// The cells of a record, in one string.
#[derive(Clone, Debug, Default)]
pub(super) struct Record {
    text: String,
    /// Where each cell is in `text`.
    cells: Vec<Range<usize>>,
}

/// Why a record is not text: the cell (from 0) where its UTF-8 breaks,
/// and the physical line where the record starts.
#[derive(Debug)]
pub(super) struct NotUtf8 {
    pub(super) cell: usize,
    pub(super) line: u64,
}

/// Why the next record could not be read.
#[derive(Debug)]
pub(super) enum ReadError {
    Io(io::Error),
    NotUtf8(NotUtf8),
}

impl Record {
    /// Empties the record, for [`Record::push_field`].
    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
    }

    /// Adds a cell at the end.
    pub(super) fn push_field(&mut self, cell: &str) {
        let start = self.text.len();
        self.text.push_str(cell);
        self.cells.push(start..self.text.len());
    }

    /// How many cells the record has.
    pub(super) fn len(&self) -> usize {
        self.cells.len()
    }

    /// Cell `cell` (from 0), if the record has it.
    pub(super) fn get(&self, cell: usize) -> Option<&str> {
        // Every cell was checked to start and end on a character boundary.
        self.text.get(self.cells.get(cell)?.clone())
    }

    /// The cells in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|cell| self.get(cell))
    }

    /// The record's text: its cells, perhaps with the separators between
    /// them.
    pub(super) fn as_str(&self) -> &str {
        &self.text
    }

    /// Fills the record with the cells of `line` (a line without its
    /// `\n`) split at `delimiter` (an ASCII byte), if csv_core would read
    /// the line as one record of those cells; `None` if it must read it.
    /// On bytes that are not UTF-8, the cell where they are.
    fn split_line(&mut self, line: &[u8], delimiter: u8) -> Option<Result<(), usize>> {
        self.cells.clear();
        if memchr::memchr(b'"', line).is_none() {
            // A plain loop: cells are short, and memchr's iterator costs
            // more for each separator than it saves between them.
            let mut start = 0;
            for (at, &byte) in line.iter().enumerate() {
                if byte == delimiter {
                    self.cells.push(start..at);
                    start = at + 1;
                }
            }
            self.cells.push(start..line.len());
        } else {
            split_quoted(line, delimiter, &mut self.cells)?;
        }
        let text = match simdutf8::compat::from_utf8(line) {
            Ok(text) => text,
            Err(error) => {
                let bad = error.valid_up_to();
                return Some(Err(self
                    .cells
                    .iter()
                    .position(|cell| cell.end >= bad)
                    .unwrap_or(0)));
            }
        };
        self.text.clear();
        self.text.push_str(text);
        Some(Ok(()))
    }

    /// Fills the record with csv_core's output: the cells one after
    /// another in `bytes`, each ending where `ends` says; if it is UTF-8
    /// and no character spans two cells.
    fn take_parsed(&mut self, bytes: &[u8], ends: &[usize]) -> Result<(), usize> {
        let cell_of = |at: usize| ends.iter().position(|&end| end > at).unwrap_or(0);
        let text =
            simdutf8::compat::from_utf8(bytes).map_err(|error| cell_of(error.valid_up_to()))?;
        self.text.clear();
        self.text.push_str(text);
        self.cells.clear();
        let mut start = 0;
        for &end in ends {
            if !self.text.is_char_boundary(end) {
                return Err(cell_of(end));
            }
            self.cells.push(start..end);
            start = end;
        }
        Ok(())
    }
}

/// The cells of `line` into `cells`, if each either holds no quote or is
/// wholly quoted with no quote inside (what a spreadsheet writes when it
/// quotes every cell); their quotes are left out. `None` for anything
/// else: a doubled quote, a quote inside a plain cell, text after a
/// closing quote, a quote left open (its cell goes on to the next line).
///
/// One exception to the cells being csv_core's: a closing quote followed
/// by the `\r` of a CRLF line end, which csv_core keeps in the cell,
/// leaves it out. Only the last cell of a record can have it, and
/// `Columns::get` removes it there anyway (a cell that ends in `\r`
/// inside its quotes goes to csv_core, so that the two agree).
fn split_quoted(line: &[u8], delimiter: u8, cells: &mut Vec<Range<usize>>) -> Option<()> {
    let mut at = 0;
    loop {
        let rest = &line[at..];
        if rest.first() == Some(&b'"') {
            let close = at + 1 + memchr::memchr(b'"', &rest[1..])?;
            cells.push(at + 1..close);
            let ends_in_cr = close > at + 1 && line[close - 1] == b'\r';
            match &line[close + 1..] {
                [] => return Some(()),
                // The `\r` left out must be the one `Columns::get` would
                // remove, not one inside the quotes.
                [b'\r'] if !ends_in_cr => return Some(()),
                [next, ..] if *next == delimiter => at = close + 2,
                _ => return None,
            }
        } else {
            let end = memchr::memchr(delimiter, rest).map_or(line.len(), |end| at + end);
            if memchr::memchr(b'"', &line[at..end]).is_some() {
                return None;
            }
            cells.push(at..end);
            if end == line.len() {
                return Some(());
            }
            at = end + 1;
        }
    }
}

/// How many bytes the reader asks for at a time, at first.
const BUFFER: usize = 64 * 1024;

/// The records of a CSV stream; see the module's documentation.
pub(super) struct Reader {
    inner: Box<dyn Read + Send>,
    core: csv_core::Reader,
    delimiter: u8,
    /// Whether lines may be split here ([`Record::split_line`]): not when
    /// lines may end with `\r` alone, nor for a separator that a line
    /// break, a quote or a UTF-8 sequence could be.
    split_lines: bool,
    /// Bytes read and not yet used: `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    at_end: bool,
    /// The physical line (from 1) that `buf[start]` is on.
    line: u64,
    /// Whether csv_core has read the first record, which it reads so that
    /// it strips a UTF-8 byte-order mark exactly as the csv crate does.
    started: bool,
    /// csv_core's output for the record being parsed.
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// Reads `inner` as CSV separated by `delimiter`, with records ended
    /// by `terminator`, any number of fields to a record.
    pub(super) fn new(
        inner: Box<dyn Read + Send>,
        delimiter: u8,
        terminator: csv_core::Terminator,
    ) -> Reader {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(terminator)
            .build();
        Reader {
            inner,
            core,
            delimiter,
            split_lines: matches!(terminator, csv_core::Terminator::Any(b'\n'))
                && delimiter.is_ascii()
                && !matches!(delimiter, b'\n' | b'\r' | b'"'),
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            at_end: false,
            line: 1,
            started: false,
            out: vec![0; 1024],
            ends: vec![0; 64],
        }
    }

    /// Reads the next record into `record`: the physical line where it
    /// starts, or `None` at the end.
    pub(super) fn read(&mut self, record: &mut Record) -> Result<Option<u64>, ReadError> {
        if self.started && self.split_lines {
            if !self.skip_empty_lines()? {
                return Ok(None);
            }
            let line = self.line;
            let (end, next) = self.line_end()?;
            if let Some(split) = record.split_line(&self.buf[self.start..end], self.delimiter) {
                split.map_err(|cell| ReadError::NotUtf8(NotUtf8 { cell, line }))?;
                self.start = next;
                self.line += 1;
                return Ok(Some(line));
            }
        }
        self.parse(record)
    }

    /// Moves past line breaks at the start of the unread bytes, which the
    /// parser would skip as empty lines; false at the end of the input.
    fn skip_empty_lines(&mut self) -> io::Result<bool> {
        loop {
            while self.start < self.end && self.buf[self.start] == b'\n' {
                self.start += 1;
                self.line += 1;
            }
            if self.start < self.end {
                return Ok(true);
            }
            if !self.fill()? {
                return Ok(false);
            }
        }
    }

    /// Where the next line ends in `buf` (before its `\n`), and where the
    /// one after starts; reads until the line is whole.
    fn line_end(&mut self) -> io::Result<(usize, usize)> {
        // How many unread bytes are known to hold no line break.
        let mut searched = 0;
        loop {
            let from = self.start + searched;
            if let Some(at) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                return Ok((from + at, from + at + 1));
            }
            searched = self.end - self.start;
            if !self.fill()? {
                return Ok((self.end, self.end));
            }
        }
    }

    /// Reads one record with csv_core.
    fn parse(&mut self, record: &mut Record) -> Result<Option<u64>, ReadError> {
        use csv_core::ReadRecordResult;
        let line = self.line;
        let (mut out_len, mut ends_len) = (0, 0);
        // csv_core strips a byte-order mark only if its first input holds
        // all three bytes, and takes nothing after them to mean the end.
        while !self.started && self.end - self.start < 4 && self.fill()? {}
        loop {
            // csv_core takes no input to mean the end of it.
            if self.start == self.end {
                self.fill()?;
            }
            let input = &self.buf[self.start..self.end];
            let (result, read, written, ended) =
                self.core
                    .read_record(input, &mut self.out[out_len..], &mut self.ends[ends_len..]);
            self.line += memchr::memchr_iter(b'\n', &input[..read]).count() as u64;
            self.start += read;
            out_len += written;
            ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.out.resize(self.out.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return Ok(None),
            }
        }
        self.started = true;
        record
            .take_parsed(&self.out[..out_len], &self.ends[..ends_len])
            .map_err(|cell| ReadError::NotUtf8(NotUtf8 { cell, line }))?;
        Ok(Some(line))
    }

    /// Reads more input after the unread bytes, which move to the front of
    /// the buffer (it doubles when they fill it); false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.at_end {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.at_end = true;
                    return Ok(false);
                }
                Ok(read) => {
                    self.end += read;
                    return Ok(true);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(error: io::Error) -> ReadError {
        ReadError::Io(error)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A record as a test compares it: its line and cells, or that it is
    /// not UTF-8.
    type Read = Result<(u64, Vec<String>), ()>;

    /// Hands out its bytes `chunk` at a time, to cross every buffer edge.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let count = self.chunk.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..count].copy_from_slice(&self.bytes[self.at..self.at + count]);
            self.at += count;
            Ok(count)
        }
    }

    /// Every record of `input` as [`Reader`] reads it, up to the first
    /// that is not UTF-8.
    fn ours(input: &[u8], delimiter: u8, crlf: bool, chunk: usize) -> Vec<Read> {
        let trickle = Trickle {
            bytes: input.to_vec(),
            at: 0,
            chunk,
        };
        let mut reader = Reader::new(Box::new(trickle), delimiter, terminator(crlf));
        let mut record = Record::default();
        let mut all = Vec::new();
        loop {
            match reader.read(&mut record) {
                Ok(Some(line)) => all.push(Ok((line, cells(record.iter())))),
                Ok(None) => return all,
                Err(ReadError::NotUtf8(_)) => {
                    all.push(Err(()));
                    return all;
                }
                Err(ReadError::Io(error)) => panic!("{error}"),
            }
        }
    }

    /// The same as the csv crate reads it. A record's line is where it
    /// starts: the csv crate's position is before the empty lines that
    /// precede it, except for the first record, which both read alike.
    fn theirs(input: &[u8], delimiter: u8, crlf: bool) -> Vec<Read> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(if crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = csv::ByteRecord::new();
        let mut all = Vec::new();
        while reader
            .read_byte_record(&mut record)
            .expect("reads from memory")
        {
            let position = record.position().expect("a record has a position");
            let mut line = position.line();
            if !all.is_empty() && !crlf {
                let rest = &input[usize::try_from(position.byte()).unwrap()..];
                line += rest.iter().take_while(|&&b| b == b'\n').count() as u64;
            }
            let text: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
            match text {
                Ok(text) => all.push(Ok((line, cells(text.into_iter())))),
                Err(_) => {
                    all.push(Err(()));
                    break;
                }
            }
        }
        all
    }

    /// A record's cells as compared, without one `\r` at the end of the
    /// last, which [`split_quoted`] may leave out and `Columns::get`
    /// removes.
    fn cells<'a>(cells: impl Iterator<Item = &'a str>) -> Vec<String> {
        let mut cells: Vec<String> = cells.map(str::to_string).collect();
        if let Some(last) = cells.last_mut()
            && last.ends_with('\r')
        {
            last.pop();
        }
        cells
    }

    fn terminator(crlf: bool) -> csv_core::Terminator {
        if crlf {
            csv_core::Terminator::CRLF
        } else {
            csv_core::Terminator::Any(b'\n')
        }
    }

    /// Quotes, line breaks inside them, CRLF, empty lines, a byte-order
    /// mark, a quote inside a plain cell, no line break at the end.
    #[test]
    fn records_are_the_csv_crates() {
        let inputs: [&[u8]; 13] = [
            b"a;b\nc;d\n",
            b"h\n\"TRUE\";\"\xD0\x98\";\"\";\"a;b\"\r\n\"x\";y;\"z\"\n",
            b"h\n\"a\"\"b\";c\n\"a\" ;b\n\"a\"x;b\n",
            b"h\n\"a;\n\"b\";c\n\"\"\n;\"\"\n",
            b"h\n\"last\"\r\r\n\"open",
            b"\xEF\xBB\xBFname;x\r\nJohn;\"a;b\"\r\n\r\n",
            "h\n\"Сер\nгей\";x\n\n\nlast;\"\"\"q\"\"\"".as_bytes(),
            b"h\nO\"Neil;x\n\"a\"b;c\n",
            b"\n\nh;i\n\n;\n;;\n \n",
            b"h\n\"open;x\ny\n",
            b"h\r\n\r\nx\r",
            b"h\nplain;\xD0;\x98\n",
            b"h\nok\nbad\xFF;x\nnever\n",
        ];
        for input in inputs {
            for chunk in [1, 3, 64 * 1024] {
                assert_eq!(
                    ours(input, b';', false, chunk),
                    theirs(input, b';', false),
                    "{input:?}"
                );
            }
        }
    }

    /// Old Mac files, whose lines end in `\r`, go through csv_core whole.
    #[test]
    fn lines_ended_by_cr_are_the_csv_crates() {
        let input = b"h;i\ra;\"b\rc\"\r\rd;e";
        assert_eq!(ours(input, b';', true, 2), theirs(input, b';', true));
    }

    /// A line longer than the buffer makes it grow.
    #[test]
    fn long_line_grows_the_buffer() {
        let mut input = b"h\n".to_vec();
        input.resize(3 * BUFFER, b'x');
        input.extend_from_slice(b";y\nz\n");
        let read = ours(&input, b';', false, BUFFER);
        assert_eq!(read, theirs(&input, b';', false));
        assert_eq!(read.len(), 3);
    }

    /// A bad byte names its cell, on the plain path and the parser's.
    #[test]
    fn invalid_utf8_names_its_cell() {
        for input in [&b"h\nok;also\xFF;x\n"[..], b"h\nok;\"also\xFF\";x\n"] {
            let mut reader = Reader::new(Box::new(input), b';', terminator(false));
            let mut record = Record::default();
            assert!(matches!(reader.read(&mut record), Ok(Some(1))));
            match reader.read(&mut record) {
                Err(ReadError::NotUtf8(error)) => assert_eq!((error.cell, error.line), (1, 2)),
                other => panic!("{other:?}"),
            }
        }
    }

    /// Pieces that matter to CSV and to UTF-8, put together at random.
    fn pieces() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop::sample::select(vec![
            &b"a"[..],
            "б".as_bytes(),
            b";",
            b",",
            b"\"",
            b"\n",
            b"\r",
            b" ",
            b"\xEF\xBB\xBF",
            b"\xD0",
            b"\xFF",
            b"\"a\"",
            b"\";\"",
            b"\"\r\n",
        ]);
        prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the bytes, the records, their lines and where UTF-8
        /// breaks are the csv crate's.
        #[test]
        fn any_input_reads_as_the_csv_crate_reads_it(
            input in pieces(),
            comma in any::<bool>(),
            chunk in 1..8_usize,
        ) {
            let delimiter = if comma { b',' } else { b';' };
            prop_assert_eq!(ours(&input, delimiter, false, chunk), theirs(&input, delimiter, false));
        }
    }
}
