//! The threads that read an agents file ahead of the caller: one parses
//! records, the other checks their cells, each a batch at a time, while the
//! caller works through the rows before them.
//!
//! Batches go round: each stage fills the empty batches that come back to
//! it and passes them on, so a fixed number exists and their buffers are
//! reused. That bounds memory whatever the file's size, and reading
//! allocates next to nothing once the buffers have grown.
//!
//! NOTE: three stages, not two, because no two of the three jobs together
//! cost as little as the third: parsing a row is about 1,400 instructions,
//! checking it 2,900 and what a dry run does with it (place its email,
//! render and print it) 2,300 (`scripts/bench-instructions.sh`); the
//! system spreads the three threads over the cores there are. On a
//! million-row file this took a dry run from 4.1 s (one thread) to under
//! 2x the time of plain csv parsing. Rules that need the rows in order
//! (unique emails) are not applied here but by the caller, see
//! [`super::rows`].

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::record::Record;
use super::rows::{Source, is_blank, read_error};
use super::rules::RowChecker;
use super::{CheckedRow, RosterError};

/// How many rows travel together between threads.
pub(super) const BATCH_ROWS: usize = 512;
/// How many batches each stage has in flight: one being filled, one being
/// used, the rest waiting.
const BATCHES: usize = 4;

/// Checked rows, with how the reading ended when it did in this batch.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) rows: Vec<CheckedRow>,
    pub(super) len: usize,
    pub(super) end: Option<Result<(), RosterError>>,
}

/// Parsed records and the physical line each starts on.
#[derive(Default)]
struct Records {
    records: Vec<(Record, u64)>,
    len: usize,
    end: Option<Result<(), RosterError>>,
}

/// The caller's end of the pipeline.
#[derive(Debug)]
pub(super) struct Pipeline {
    full: Receiver<Batch>,
    empty: SyncSender<Batch>,
    checker: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the two threads on `source`, whose header was read at `line`.
    pub(super) fn start(
        path: &Path,
        source: Source,
        checker: RowChecker,
        line: u64,
    ) -> std::io::Result<Pipeline> {
        let (parsed, to_check) = mpsc::sync_channel(BATCHES);
        let (for_parser, to_fill) = circulate::<Records>();
        let parser = Parser {
            path: path.to_path_buf(),
            source,
            line,
        };
        let parser = std::thread::Builder::new()
            .name("roster-parse".into())
            .spawn(move || parser.run(&parsed, &to_fill))?;

        let (checked, full) = mpsc::sync_channel(BATCHES);
        let (empty, to_check_into) = circulate::<Batch>();
        let stage = Checker {
            checker,
            row: 0,
            parser: Some(parser),
        };
        let checker = std::thread::Builder::new()
            .name("roster-check".into())
            .spawn(move || stage.run(&to_check, &for_parser, &to_check_into, &checked))?;
        Ok(Pipeline {
            full,
            empty,
            checker: Some(checker),
        })
    }

    /// The next batch of checked rows; `None` after the batch whose `end`
    /// is set.
    pub(super) fn next(&mut self) -> Option<Batch> {
        match self.full.recv() {
            Ok(batch) => Some(batch),
            Err(_) => {
                // WARNING: the last batch always comes with `end` set, so a
                // closed channel before it means a thread panicked: let that
                // panic go on here rather than end the rows early.
                if let Some(Err(panic)) = self.checker.take().map(JoinHandle::join) {
                    std::panic::resume_unwind(panic);
                }
                None
            }
        }
    }

    /// Hands a used batch back to be filled again.
    pub(super) fn give_back(&self, batch: Batch) {
        // The threads may have ended already; the batch is not needed then.
        let _ = self.empty.send(batch);
    }
}

/// A channel of empty batches, holding [`BATCHES`] of them to begin with.
fn circulate<T: Default>() -> (SyncSender<T>, Receiver<T>) {
    let (sender, receiver) = mpsc::sync_channel(BATCHES);
    for _ in 0..BATCHES {
        sender.send(T::default()).expect("the receiver is here");
    }
    (sender, receiver)
}

/// The first stage: records from the source, blank ones left out.
struct Parser {
    path: PathBuf,
    source: Source,
    /// The line of the last record read, for a later error's message.
    line: u64,
}

impl Parser {
    /// Fills the batches that come back empty until the file ends, or until
    /// the next stage is gone.
    fn run(mut self, parsed: &SyncSender<Records>, empty: &Receiver<Records>) {
        while let Ok(mut records) = empty.recv() {
            self.fill(&mut records);
            let last = records.end.is_some();
            if parsed.send(records).is_err() || last {
                return;
            }
        }
    }

    fn fill(&mut self, records: &mut Records) {
        records.len = 0;
        while records.len < BATCH_ROWS {
            if records.len == records.records.len() {
                records.records.push(Default::default());
            }
            let (record, line) = &mut records.records[records.len];
            match self.source.next_record(record) {
                Ok(Some(at)) => {
                    self.line = at;
                    if !is_blank(record) {
                        *line = at;
                        records.len += 1;
                    }
                }
                Ok(None) => {
                    records.end = Some(Ok(()));
                    return;
                }
                Err(failure) => {
                    records.end = Some(Err(read_error(&self.path, self.line, failure)));
                    return;
                }
            }
        }
    }
}

/// The second stage: the cell rules, and the row numbers.
struct Checker {
    checker: RowChecker,
    /// The number of the last data row checked.
    row: usize,
    parser: Option<JoinHandle<()>>,
}

impl Checker {
    fn run(
        mut self,
        parsed: &Receiver<Records>,
        recycle: &SyncSender<Records>,
        empty: &Receiver<Batch>,
        checked: &SyncSender<Batch>,
    ) {
        loop {
            let Ok(mut records) = parsed.recv() else {
                // As in `Pipeline::next`: the parser panicked.
                if let Some(Err(panic)) = self.parser.take().map(JoinHandle::join) {
                    std::panic::resume_unwind(panic);
                }
                return;
            };
            let Ok(mut batch) = empty.recv() else {
                return;
            };
            self.fill(&records, &mut batch);
            batch.end = records.end.take();
            let last = batch.end.is_some();
            // The parser has ended if this was the last batch.
            let _ = recycle.send(records);
            if checked.send(batch).is_err() || last {
                return;
            }
        }
    }

    fn fill(&mut self, records: &Records, batch: &mut Batch) {
        batch.len = 0;
        for (record, line) in &records.records[..records.len] {
            self.row += 1;
            if batch.len == batch.rows.len() {
                batch.rows.push(CheckedRow::default());
            }
            let out = &mut batch.rows[batch.len];
            self.checker.check(record, self.row, *line, out);
            batch.len += 1;
        }
    }
}
