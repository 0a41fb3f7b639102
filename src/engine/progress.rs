//! A spinner on stderr while a large dataset is read: rows read so far and the rate.
//!
//! It wraps any [`Scan`], so the readers and kernels stay untouched and a run without a
//! terminal pays nothing. It appears only once a scan has taken a moment, so small files
//! and tests never draw it, and it is cleared before the report is printed.

use super::batch::{Batch, Dictionary};
use super::source::{FileFormat, ParScan, ParSink, ReadRequest, Scan, ScanStats, Sniff};
use crate::diagnostic::Diagnostic;
use indicatif::{HumanCount, ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Scans longer than this show the spinner.
const SHOW_AFTER: Duration = Duration::from_millis(500);
/// Batches between two looks at the clock.
const EVERY_BATCHES: u32 = 4;

/// A [`Scan`] that shows a spinner on stderr while the inner scan runs.
pub struct ProgressScan<'a> {
    /// The scanner doing the work.
    pub inner: &'a dyn Scan,
}

impl Scan for ProgressScan<'_> {
    fn sniff(&self, path: &std::path::Path, format: FileFormat) -> Result<Sniff, Diagnostic> {
        self.inner.sniff(path, format)
    }

    fn scan(
        &self,
        req: &ReadRequest,
        sink: &mut dyn FnMut(&Batch, &[Dictionary]) -> Result<(), Diagnostic>,
    ) -> Result<ScanStats, Diagnostic> {
        let start = Instant::now();
        let mut rows: u64 = 0;
        let mut batches: u32 = 0;
        let mut bar: Option<ProgressBar> = None;
        let result = self.inner.scan(req, &mut |batch, dicts| {
            rows += batch.len as u64;
            batches = batches.wrapping_add(1);
            if batches.is_multiple_of(EVERY_BATCHES) {
                if bar.is_none() && start.elapsed() >= SHOW_AFTER {
                    bar = Some(spinner());
                }
                if let Some(b) = &bar {
                    let secs = start.elapsed().as_secs_f64().max(1e-3);
                    let rate = HumanCount((rows as f64 / secs) as u64);
                    b.set_message(format!(
                        "reading {}: {} rows ({rate} rows/s)",
                        req.dataset,
                        HumanCount(rows)
                    ));
                }
            }
            sink(batch, dicts)
        });
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        result
    }

    fn scan_parallel(
        &self,
        req: &ReadRequest,
        sinks: Vec<&mut ParSink<'_>>,
        exact: bool,
    ) -> Result<ParScan, Diagnostic> {
        let start = Instant::now();
        let rows = AtomicU64::new(0);
        let batches = AtomicU64::new(0);
        let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
        let (rows, batches, bar_ref) = (&rows, &batches, &bar);
        let mut wrapped: Vec<Box<ParSink<'_>>> = sinks
            .into_iter()
            .map(|sink| {
                Box::new(move |batch: &Batch, dicts: &[Dictionary]| {
                    let n = rows.fetch_add(batch.len as u64, Ordering::Relaxed) + batch.len as u64;
                    if (batches.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(EVERY_BATCHES as u64) {
                        if let Ok(mut guard) = bar_ref.lock() {
                            if guard.is_none() && start.elapsed() >= SHOW_AFTER {
                                *guard = Some(spinner());
                            }
                            if let Some(b) = guard.as_ref() {
                                let secs = start.elapsed().as_secs_f64().max(1e-3);
                                let rate = HumanCount((n as f64 / secs) as u64);
                                b.set_message(format!(
                                    "reading {}: {} rows ({rate} rows/s)",
                                    req.dataset,
                                    HumanCount(n)
                                ));
                            }
                        }
                    }
                    sink(batch, dicts)
                }) as Box<ParSink<'_>>
            })
            .collect();
        let refs: Vec<&mut ParSink<'_>> = wrapped.iter_mut().map(|s| s.as_mut()).collect();
        let result = self.inner.scan_parallel(req, refs, exact);
        if let Ok(mut guard) = bar.lock() {
            if let Some(b) = guard.take() {
                b.finish_and_clear();
            }
        }
        result
    }
}

fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
