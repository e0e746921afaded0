//! Working out what kind of file the agents file is, and turning a text file
//! into a stream of UTF-8 bytes.
//!
//! Detection order: a `.xlsx` name or the ZIP magic means a workbook; a
//! UTF-16 byte-order mark means UTF-16; otherwise a first pass reads until
//! the encoding is settled. Text that is UTF-8 up to its first non-ASCII
//! byte and for [`SETTLE_BYTES`] after it is read as UTF-8; bytes there
//! that are not UTF-8 mean Windows-1251, which is what Excel saves on
//! Russian Windows. A forced encoding skips the guessing.
//!
//! NOTE: the encoding is settled from the start of the file, not from all
//! of it, so that a big file is not read one more time before its first
//! row. Text that starts as UTF-8 and holds other bytes further on is two
//! files put together, and reading it all as Windows-1251 would turn the
//! first part's names into nonsense (`Сергей` as `РЎРµСЂРіРµР№`); such a file
//! is refused at the line where it changes (see [`super::record`]).
//!
//! The whole file is watched as it is read ([`Watched`]): a NUL byte (a
//! binary file) or a line over [`MAX_LINE_BYTES`] ends the reading with an
//! error. This module never holds the whole file: the passes read
//! fixed-size chunks, and the returned reader decodes as it goes. It does
//! not parse CSV or look at the header.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use encoding_rs::{DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1251};

use super::RosterError;

/// How many bytes the first pass reads at a time.
const SCAN_CHUNK: usize = 256 * 1024;

/// How much text after its first non-ASCII byte must be UTF-8 for a file
/// to be read as UTF-8. Windows-1251 text is almost never UTF-8 for even
/// a word (a capital letter must be followed by one of the rare signs
/// 0x80 to 0xBF, a small letter by two or three of them), so this is a
/// wide margin; it costs a fraction of a millisecond.
const SETTLE_BYTES: u64 = 1024 * 1024;

/// The longest line an agents file may hold, in bytes. A row of the
/// thirteen known columns at 256 characters of four bytes each is under
/// 14 KB, and a header of 100,000 columns about 1.2 MB; a line past this
/// is a wrong or broken file, refused before the csv reader holds it whole
/// (which took memory several times the line).
pub(super) const MAX_LINE_BYTES: u64 = 4 * 1024 * 1024;

/// What the file turned out to be.
pub(super) enum Input {
    /// An `.xlsx` workbook; [`super::xlsx`] reads it by path.
    Xlsx,
    /// Text, decoded to UTF-8 (a UTF-8 byte-order mark may remain, which
    /// the csv reader strips).
    Text {
        reader: Box<dyn Read + Send>,
        /// Set when the text was not read as UTF-8, naming the encoding.
        notice: Option<String>,
        /// Whether UTF-8 was given rather than settled by the first pass:
        /// it words the error for bytes further on that are not UTF-8.
        utf8_given: bool,
    },
}

/// Opens `path` and decides how to read it; `forced` overrides detection.
///
/// Fails on an unreadable or empty file, on NUL bytes outside UTF-16, and
/// when UTF-8 was forced but the bytes are not UTF-8, as far as the first
/// pass reads; the reader returned fails on what comes later.
pub(super) fn open_input(
    path: &Path,
    forced: Option<&'static Encoding>,
) -> Result<Input, RosterError> {
    let open_error = |reason| RosterError::Open {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = File::open(path).map_err(open_error)?;
    let head = read_head(&mut file).map_err(open_error)?;
    if head.is_empty() {
        return Err(RosterError::Empty {
            path: path.to_path_buf(),
        });
    }
    if has_xlsx_name(path) || head.starts_with(b"PK\x03\x04") {
        return Ok(Input::Xlsx);
    }

    // UTF-16 is full of NULs, so it must be recognised before the scan.
    let bom = utf16_bom(&head);
    if let Some(encoding) = forced.or(bom).filter(|e| is_utf16(e)) {
        let why = if forced.is_some() {
            GIVEN
        } else {
            "the file starts with its byte-order mark"
        };
        return Ok(decoded(file, encoding, why));
    }

    let scan = scan(&mut file).map_err(open_error)?;
    if scan.has_nul {
        return Err(RosterError::Binary {
            path: path.to_path_buf(),
        });
    }
    file.seek(SeekFrom::Start(0)).map_err(open_error)?;
    if let Some(offset) = scan.long_line {
        return Err(RosterError::LongLine {
            path: path.to_path_buf(),
            line: line_of(&mut file, offset).map_err(open_error)?,
        });
    }
    let first_bad_line = match scan.first_bad_byte {
        Some(offset) => {
            let line = line_of(&mut file, offset).map_err(open_error)?;
            file.seek(SeekFrom::Start(0)).map_err(open_error)?;
            Some(line)
        }
        None => None,
    };
    choose(Watched::new(file, path), forced, first_bad_line, path)
}

/// The reason given in the notice when the caller chose the encoding.
const GIVEN: &str = "the encoding was given";

/// Picks the reader once the start of the file is known to be text.
fn choose(
    file: Watched<File>,
    forced: Option<&'static Encoding>,
    first_bad_line: Option<u64>,
    path: &Path,
) -> Result<Input, RosterError> {
    let utf8 = forced.is_none_or(|encoding| encoding == UTF_8);
    match (forced, first_bad_line) {
        (Some(encoding), _) if !utf8 => Ok(decoded(file, encoding, GIVEN)),
        (_, None) => Ok(Input::Text {
            reader: Box::new(file),
            notice: None,
            utf8_given: forced.is_some(),
        }),
        (Some(_), Some(line)) => Err(RosterError::NotUtf8 {
            path: path.to_path_buf(),
            line,
        }),
        (None, Some(line)) => {
            let why = format!("the file is not valid UTF-8, first at line {line}");
            Ok(decoded(file, WINDOWS_1251, &why))
        }
    }
}

/// A reader decoding `file` from `encoding`, with the notice saying so.
fn decoded(file: impl Read + Send + 'static, encoding: &'static Encoding, why: &str) -> Input {
    Input::Text {
        reader: Box::new(Decoding::new(file, encoding)),
        notice: Some(format!("read as {} ({why})", display_name(encoding))),
        utf8_given: false,
    }
}

/// What reading refused part way through the file; travels inside the
/// `io::Error` that the csv reader passes on.
#[derive(Clone, Debug, thiserror::Error)]
pub(super) enum Refusal {
    /// Bytes that the encoding does not define, on this line of the
    /// decoded text.
    #[error("line {line} is not valid {encoding} text")]
    Undecodable { line: u64, encoding: String },
    /// A NUL byte: not a text file after all.
    #[error("the file has a NUL byte")]
    Nul,
    /// A line over [`MAX_LINE_BYTES`], starting on this line.
    #[error("line {line} is too long")]
    LongLine { line: u64 },
}

impl Refusal {
    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

/// The [`Refusal`] inside an I/O error, if that is what it is.
pub(super) fn refusal(error: &io::Error) -> Option<&Refusal> {
    error.get_ref()?.downcast_ref()
}

/// The raw bytes of a text file as they are read, refused at the first
/// NUL or line over [`MAX_LINE_BYTES`]. The first pass looks for the same
/// in what it reads; this covers the rest of the file.
struct Watched<R> {
    inner: R,
    line: LineLength,
    /// Where the bytes come from, read again from its start to find the
    /// line of a long one: counting lines as they pass would cost every
    /// file that time for the rare one that needs it.
    path: PathBuf,
}

impl<R> Watched<R> {
    fn new(inner: R, path: &Path) -> Watched<R> {
        Watched {
            inner,
            line: LineLength::default(),
            path: path.to_path_buf(),
        }
    }

    /// The line (from 1) where byte `offset` of the file is, or 0 if the
    /// file can no longer be read.
    fn line_at(&self, offset: u64) -> u64 {
        File::open(&self.path)
            .and_then(|mut file| line_of(&mut file, offset))
            .unwrap_or(0)
    }
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        let bytes = &buf[..read];
        if memchr::memchr(0, bytes).is_some() {
            return Err(Refusal::Nul.into_io());
        }
        if let Some(start) = self.line.feed(bytes) {
            let line = self.line_at(start);
            return Err(Refusal::LongLine { line }.into_io());
        }
        Ok(read)
    }
}

/// How many bytes are decoded at a time.
const DECODE_CHUNK: usize = 32 * 1024;

/// Decodes text into UTF-8 as it is read, refusing what the encoding does
/// not define rather than replacing it with U+FFFD: a lone UTF-16
/// surrogate, a character cut off at the end, and the bytes an 8-bit code
/// page leaves undefined (Windows-1251's 0x98), which encoding_rs maps to
/// C1 control characters that no spreadsheet text holds.
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Box<[u8]>,
    /// The part of `input` not decoded yet.
    unread: std::ops::Range<usize>,
    at_end: bool,
    output: Box<[u8]>,
    /// The part of `output` not handed out yet.
    ready: std::ops::Range<usize>,
    /// The line of the decoded text that is being read, from 1.
    line: u64,
    done: bool,
    /// Set once bytes the encoding does not define are reached.
    failed: Option<Refusal>,
}

impl<R: Read> Decoding<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Decoding<R> {
        Decoding {
            inner,
            // The encoding's own byte-order mark is dropped; another one
            // switches to its encoding, as Excel's readers do.
            decoder: encoding.new_decoder(),
            input: vec![0; DECODE_CHUNK].into_boxed_slice(),
            unread: 0..0,
            at_end: false,
            // UTF-8 takes at most three bytes for what UTF-16 or an 8-bit
            // encoding holds in one or two.
            output: vec![0; DECODE_CHUNK * 3].into_boxed_slice(),
            ready: 0..0,
            line: 1,
            done: false,
            failed: None,
        }
    }

    /// Decodes the next piece of input into `output`.
    fn decode_more(&mut self) -> io::Result<()> {
        if self.unread.is_empty() && !self.at_end {
            let read = read_some(&mut self.inner, &mut self.input)?;
            self.unread = 0..read;
            self.at_end = read == 0;
        }
        let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
            &self.input[self.unread.clone()],
            &mut self.output,
            self.at_end,
        );
        self.unread.start += read;
        let decoded = &self.output[..written];
        let c1_control = |pair: &[u8]| pair[0] == 0xC2 && (0x80..=0x9F).contains(&pair[1]);
        let undefined_byte = match self.decoder.encoding().is_single_byte() {
            true => decoded.windows(2).position(c1_control),
            false => None,
        };
        let malformed = matches!(result, DecoderResult::Malformed(..)).then_some(written);
        // The text before the bad bytes is handed out first, so the rows
        // before them are read; the error comes with the next read.
        let good = undefined_byte.or(malformed).unwrap_or(written);
        self.line += count_newlines(&decoded[..good]);
        self.ready = 0..good;
        if good < written || malformed.is_some() {
            self.failed = Some(Refusal::Undecodable {
                line: self.line,
                encoding: display_name(self.decoder.encoding()),
            });
        }
        self.done = self.at_end && result == DecoderResult::InputEmpty;
        Ok(())
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.ready.is_empty() {
            if let Some(failed) = &self.failed {
                return Err(failed.clone().into_io());
            }
            if self.done {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let ready = &self.output[self.ready.clone()];
        let count = ready.len().min(buf.len());
        buf[..count].copy_from_slice(&ready[..count]);
        self.ready.start += count;
        Ok(count)
    }
}

/// The encoding's name as people write it (`Windows-1251`, `UTF-16LE`).
pub(super) fn display_name(encoding: &'static Encoding) -> String {
    let name = encoding.name();
    match name.strip_prefix("windows-") {
        Some(number) => format!("Windows-{number}"),
        None => name.to_string(),
    }
}

fn is_utf16(encoding: &'static Encoding) -> bool {
    encoding == UTF_16LE || encoding == UTF_16BE
}

fn has_xlsx_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("xlsx"))
}

fn utf16_bom(head: &[u8]) -> Option<&'static Encoding> {
    if head.starts_with(&[0xFF, 0xFE]) {
        Some(UTF_16LE)
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Reads up to four bytes: enough for the ZIP magic and any byte-order mark.
fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4);
    file.by_ref().take(4).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(head)
}

/// What the first pass over the raw bytes found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    has_nul: bool,
    /// The byte offset of the first byte that is not UTF-8.
    first_bad_byte: Option<u64>,
    /// The byte offset where the first line longer than
    /// [`MAX_LINE_BYTES`] starts.
    long_line: Option<u64>,
}

/// Follows where the current line started, across chunks.
#[derive(Default)]
struct LineLength {
    /// The offset of the current line's first byte.
    start: u64,
    /// How many bytes have been fed.
    fed: u64,
}

impl LineLength {
    /// Feeds the next bytes; the offset of the line they make too long, if
    /// they do. Only the first and last line break of `bytes` are looked
    /// for: a line between them is shorter than `bytes`, and a chunk is
    /// far shorter than the limit.
    fn feed(&mut self, bytes: &[u8]) -> Option<u64> {
        if let Some(first) = memchr::memchr(b'\n', bytes) {
            if self.fed + first as u64 - self.start > MAX_LINE_BYTES {
                return Some(self.start);
            }
            let last = memchr::memrchr(b'\n', bytes).unwrap_or(first);
            self.start = self.fed + last as u64 + 1;
        }
        self.fed += bytes.len() as u64;
        (self.fed - self.start > MAX_LINE_BYTES).then_some(self.start)
    }
}

/// Reads `reader` in chunks until its encoding is settled: up to the first
/// byte that is not UTF-8, or [`SETTLE_BYTES`] past the first that is not
/// ASCII, or the end. Stops early at the first NUL or overlong line.
///
/// A character cut by a chunk boundary is carried into the next chunk, so
/// it is not mistaken for invalid UTF-8. Lines are not counted here, to
/// keep the common, valid case fast; see [`line_of`].
fn scan(reader: &mut impl Read) -> io::Result<Scan> {
    let mut buf = vec![0; SCAN_CHUNK + 4];
    let mut carried = 0;
    let mut offset = 0_u64;
    let mut found = Scan::default();
    let mut line = LineLength::default();
    let mut settled_at = None;
    loop {
        let read = read_some(reader, &mut buf[carried..])?;
        let filled = carried + read;
        let chunk = &buf[..filled];
        if memchr::memchr(0, chunk).is_some() {
            found.has_nul = true;
            return Ok(found);
        }
        found.long_line = line.feed(&chunk[carried..]);
        if found.long_line.is_some() {
            return Ok(found);
        }
        if settled_at.is_none() && !chunk.is_ascii() {
            let first = chunk.iter().position(|b| !b.is_ascii()).unwrap_or(0);
            settled_at = Some(offset + first as u64 + SETTLE_BYTES);
        }
        let (valid, bad) = utf8_prefix(chunk, read == 0);
        if bad {
            found.first_bad_byte = Some(offset + valid as u64);
            return Ok(found);
        }
        if read == 0 {
            return Ok(found);
        }
        carried = filled - valid;
        offset += valid as u64;
        if settled_at.is_some_and(|at| offset >= at) {
            return Ok(found);
        }
        buf.copy_within(valid..filled, 0);
    }
}

/// The line (from 1) that byte `offset` of `reader` is on.
fn line_of(reader: &mut impl Read, offset: u64) -> io::Result<u64> {
    let mut line = 1;
    let mut buf = vec![0; SCAN_CHUNK];
    let mut left = offset;
    while left > 0 {
        let wanted = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
        let read = read_some(reader, &mut buf[..wanted])?;
        if read == 0 {
            break;
        }
        line += count_newlines(&buf[..read]);
        left -= read as u64;
    }
    Ok(line)
}

/// How many leading bytes of `chunk` are valid UTF-8, and whether an
/// invalid byte follows them. An incomplete character at the end is not
/// invalid unless this is the end of the file.
fn utf8_prefix(chunk: &[u8], at_end: bool) -> (usize, bool) {
    match simdutf8::compat::from_utf8(chunk) {
        Ok(_) => (chunk.len(), false),
        Err(error) => {
            let valid = error.valid_up_to();
            (valid, error.error_len().is_some() || at_end)
        }
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    // `as` is exact: a chunk is far shorter than u64::MAX.
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// `read` that retries on `Interrupted`; 0 means the end of the file.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Cyrillic letter cut by the chunk boundary is still valid UTF-8.
    #[test]
    fn character_across_chunks_is_valid() {
        let mut bytes = vec![b'a'; SCAN_CHUNK - 1];
        bytes.extend_from_slice("я\nб".as_bytes());
        assert_eq!(scan(&mut bytes.as_slice()).ok(), Some(Scan::default()));
    }

    /// The first bad byte is found, and then its line.
    #[test]
    fn invalid_byte_is_located() {
        let bytes = b"a;b\nc;d\n\xE9t\xE9\n";
        let found = scan(&mut &bytes[..]).ok();
        assert_eq!(found.and_then(|s| s.first_bad_byte), Some(8));
        assert_eq!(line_of(&mut &bytes[..], 8).ok(), Some(3));
    }

    /// A bad byte after the first chunk is located from the file's start.
    #[test]
    fn late_invalid_byte_is_located() {
        let mut bytes = b"x\n".repeat(SCAN_CHUNK);
        bytes.push(0xFF);
        let offset = scan(&mut bytes.as_slice())
            .ok()
            .and_then(|s| s.first_bad_byte);
        assert_eq!(offset, Some(2 * SCAN_CHUNK as u64));
        assert_eq!(
            line_of(&mut bytes.as_slice(), 2 * SCAN_CHUNK as u64).ok(),
            Some(SCAN_CHUNK as u64 + 1)
        );
    }

    /// The first pass stops once the text is UTF-8 for `SETTLE_BYTES`
    /// after its first non-ASCII byte: a bad byte past that is not its
    /// business (the records find it), one before it is.
    #[test]
    fn encoding_is_settled_from_the_start() {
        let settle = usize::try_from(SETTLE_BYTES).unwrap();
        let mut bytes = b"x\n".repeat(SCAN_CHUNK);
        bytes.extend_from_slice("я\n".as_bytes());
        let first = bytes.len() - 3;
        bytes.resize(first + settle + SCAN_CHUNK, b'x');
        bytes.push(0xFF);
        assert_eq!(scan(&mut bytes.as_slice()).ok(), Some(Scan::default()));

        bytes.truncate(first + settle - 1);
        bytes.push(0xFF);
        let found = scan(&mut bytes.as_slice()).ok();
        assert_eq!(
            found.and_then(|s| s.first_bad_byte),
            Some((first + settle - 1) as u64)
        );
    }

    /// A file that ends in the middle of a character is not UTF-8.
    #[test]
    fn truncated_character_at_end_is_invalid() {
        let bytes = b"a;b\n\xD0";
        let found = scan(&mut &bytes[..]).ok();
        assert_eq!(found.and_then(|s| s.first_bad_byte), Some(4));
    }

    /// A line one byte over the limit is found, from where it starts; one
    /// at the limit is not.
    #[test]
    fn overlong_line_is_found() {
        let limit = usize::try_from(MAX_LINE_BYTES).unwrap();
        let mut bytes = b"a;b\n".to_vec();
        bytes.resize(4 + limit, b'x');
        bytes.push(b'\n');
        assert_eq!(
            scan(&mut bytes.as_slice()).ok().and_then(|s| s.long_line),
            None
        );

        bytes.insert(4, b'x');
        assert_eq!(
            scan(&mut bytes.as_slice()).ok().and_then(|s| s.long_line),
            Some(4)
        );
        bytes.pop();
        assert_eq!(
            scan(&mut bytes.as_slice()).ok().and_then(|s| s.long_line),
            Some(4)
        );
    }

    /// NUL anywhere marks the file as binary.
    #[test]
    fn nul_is_found() {
        let bytes = b"a;b\n\0";
        assert!(scan(&mut &bytes[..]).is_ok_and(|s| s.has_nul));
    }
}
