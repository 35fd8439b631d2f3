//! The results of the coros-vs-Linux benchmark: parsing the guest's `bench` lines,
//! collecting samples per kernel, mode and repetition, medians and ratios, the
//! terminal table and the JSON file.
//!
//! Why a module of its own: this is the part of `make bench` with logic worth unit
//! tests (parsing, medians, pairing of alternated runs, the JSON layout), kept apart
//! from the QEMU boots in `bench_suite`.
//!
//! A guest line is `bench NAME: ops=N ns=T`, `bench NAME: ops=N bytes=B` or (disk
//! requests, `user/bench-disk`) `bench NAME: ops=N count=C`, optionally
//! followed by coros' counters `traps=.. syscalls=.. switches=.. interrupts=..`, all
//! totals over the N operations (see `user/bench-syscalls/src/report.rs`).

use serde_json::{json, Value};

/// What a figure's value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Guest nanoseconds (= retired instructions under `-icount shift=0`).
    Nanoseconds,
    /// Bytes of memory.
    Bytes,
    /// A count (disk requests, requests in flight).
    Count,
}

/// Kernel events per operation (coros only: `/proc/coros/counters`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PerOp {
    pub traps: f64,
    pub syscalls: f64,
    pub switches: f64,
    pub interrupts: f64,
}

/// One parsed `bench` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: String,
    pub unit: Unit,
    /// The value per operation.
    pub per_op: f64,
    pub counters: Option<PerOp>,
}

/// Every well-formed `bench` line of `output` (lines with `ops=0` or no value are left out).
pub fn parse_figures(output: &str) -> Vec<Figure> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("bench ")?;
            let (name, fields) = rest.split_once(": ")?;
            let field = |key: &str| {
                fields.split_whitespace().find_map(|word| word.strip_prefix(key)?.strip_prefix('=')?.parse::<f64>().ok())
            };
            let ops = field("ops").filter(|ops| *ops > 0.0)?;
            let (unit, total) = match (field("ns"), field("bytes"), field("count")) {
                (Some(ns), _, _) => (Unit::Nanoseconds, ns),
                (None, Some(bytes), _) => (Unit::Bytes, bytes),
                (None, None, Some(count)) => (Unit::Count, count),
                (None, None, None) => return None,
            };
            let counters = match (field("traps"), field("syscalls"), field("switches"), field("interrupts")) {
                (Some(traps), Some(syscalls), Some(switches), Some(interrupts)) => Some(PerOp {
                    traps: traps / ops,
                    syscalls: syscalls / ops,
                    switches: switches / ops,
                    interrupts: interrupts / ops,
                }),
                _ => None,
            };
            Some(Figure { name: name.to_string(), unit, per_op: total / ops, counters })
        })
        .collect()
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|value| value.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 })
}

/// The two kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Coros,
    Linux,
}

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Coros => "coros",
            Kernel::Linux => "linux",
        }
    }
}

/// How guest time is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `-icount shift=0,sleep=off`: one guest ns per retired instruction; repeatable.
    Instructions,
    /// Plain TCG: host wall time as the guest sees it; noisy.
    Wall,
}

impl Mode {
    pub fn key(self) -> &'static str {
        match self {
            Mode::Instructions => "icount",
            Mode::Wall => "wall",
        }
    }

    /// The extra QEMU arguments of this mode.
    pub fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Mode::Instructions => &["-icount", "shift=0,sleep=off"],
            Mode::Wall => &[],
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Mode::Instructions => "instructions per operation (-icount shift=0,sleep=off)",
            Mode::Wall => "wall-clock ns per operation (plain TCG)",
        }
    }

    /// The short unit of a time figure in this mode.
    pub fn time_unit(self) -> &'static str {
        match self {
            Mode::Instructions => "instr",
            Mode::Wall => "ns",
        }
    }

    /// The unit label of a figure.
    pub fn unit_label(self, unit: Unit) -> &'static str {
        match unit {
            Unit::Nanoseconds => self.time_unit(),
            Unit::Bytes => "bytes",
            Unit::Count => "count",
        }
    }
}

/// All samples of one metric in one mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub unit: Unit,
    /// Per repetition: (coros, Linux), `None` where that boot gave no figure.
    pub samples: Vec<(Option<f64>, Option<f64>)>,
    /// coros' counters per operation, one per coros sample that had them.
    pub coros_counters: Vec<PerOp>,
}

impl Metric {
    fn values(&self, kernel: Kernel) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|(coros, linux)| if kernel == Kernel::Coros { *coros } else { *linux })
            .collect()
    }

    pub fn median(&self, kernel: Kernel) -> Option<f64> {
        median(&self.values(kernel))
    }

    /// Linux median / coros median (> 1: coros needs less).
    pub fn ratio(&self) -> Option<f64> {
        Some(self.median(Kernel::Linux)? / self.median(Kernel::Coros)?).filter(|ratio| ratio.is_finite())
    }

    /// Linux / coros of each repetition where both kernels gave a figure (each such
    /// pair of boots ran one right after the other).
    pub fn pair_ratios(&self) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|(coros, linux)| Some(linux.as_ref()? / coros.as_ref()?))
            .filter(|ratio| ratio.is_finite())
            .collect()
    }

    /// Medians of coros' counters per operation.
    pub fn counters(&self) -> Option<PerOp> {
        let pick = |f: fn(&PerOp) -> f64| median(&self.coros_counters.iter().map(f).collect::<Vec<_>>());
        Some(PerOp {
            traps: pick(|c| c.traps)?,
            syscalls: pick(|c| c.syscalls)?,
            switches: pick(|c| c.switches)?,
            interrupts: pick(|c| c.interrupts)?,
        })
    }
}

/// Every metric of one mode, in the order they were first seen.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeResults {
    pub mode: Mode,
    pub metrics: Vec<Metric>,
}

impl ModeResults {
    pub fn new(mode: Mode) -> ModeResults {
        ModeResults { mode, metrics: Vec::new() }
    }

    /// Adds the figures of one boot of `kernel` in repetition `repetition` (0-based).
    pub fn record(&mut self, repetition: usize, kernel: Kernel, figures: &[Figure]) {
        for figure in figures {
            let index = match self.metrics.iter().position(|metric| metric.name == figure.name) {
                Some(index) => index,
                None => {
                    self.metrics.push(Metric {
                        name: figure.name.clone(),
                        unit: figure.unit,
                        samples: Vec::new(),
                        coros_counters: Vec::new(),
                    });
                    self.metrics.len() - 1
                }
            };
            let metric = &mut self.metrics[index];
            if metric.samples.len() <= repetition {
                metric.samples.resize(repetition + 1, (None, None));
            }
            let slot = &mut metric.samples[repetition];
            match kernel {
                Kernel::Coros => {
                    slot.0 = Some(figure.per_op);
                    metric.coros_counters.extend(figure.counters);
                }
                Kernel::Linux => slot.1 = Some(figure.per_op),
            }
        }
    }

    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|metric| metric.name == name)
    }
}

/// Everything one `make bench` run measured, and what it ran on.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Short commit of the tree measured (`-dirty` when it had uncommitted changes).
    pub commit: String,
    pub command: String,
    pub qemu_version: String,
    pub coros_version: String,
    pub linux_version: String,
    pub repetitions: usize,
    /// The user program's count scale: `full`, `quick` or `tiny`.
    pub scale: String,
    pub modes: Vec<ModeResults>,
    /// Boots that did not finish, with why.
    pub failures: Vec<String>,
}

fn number(value: Option<f64>) -> Value {
    match value {
        Some(value) if value.is_finite() => json!((value * 1000.0).round() / 1000.0),
        _ => Value::Null,
    }
}

fn per_op_json(counters: &PerOp) -> Value {
    json!({
        "traps": number(Some(counters.traps)),
        "syscalls": number(Some(counters.syscalls)),
        "satp_switches": number(Some(counters.switches)),
        "interrupts": number(Some(counters.interrupts)),
    })
}

impl Results {
    /// The JSON document of `bench/results/<date>-<commit>.json`.
    pub fn to_json(&self) -> Value {
        let modes: Vec<Value> = self
            .modes
            .iter()
            .map(|mode| {
                let metrics: Vec<Value> = mode
                    .metrics
                    .iter()
                    .map(|metric| {
                        let samples = |kernel: Kernel| -> Vec<Value> {
                            metric
                                .samples
                                .iter()
                                .map(|(coros, linux)| number(if kernel == Kernel::Coros { *coros } else { *linux }))
                                .collect()
                        };
                        json!({
                            "name": metric.name,
                            "unit": mode.mode.unit_label(metric.unit),
                            "coros": { "samples": samples(Kernel::Coros), "median": number(metric.median(Kernel::Coros)) },
                            "linux": { "samples": samples(Kernel::Linux), "median": number(metric.median(Kernel::Linux)) },
                            "linux_over_coros": number(metric.ratio()),
                            "pair_ratios": metric.pair_ratios().into_iter().map(|r| number(Some(r))).collect::<Vec<_>>(),
                            "median_pair_ratio": number(median(&metric.pair_ratios())),
                            "coros_per_op": metric.counters().as_ref().map_or(Value::Null, per_op_json),
                            "coros_per_op_samples": metric.coros_counters.iter().map(per_op_json).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                json!({ "mode": mode.mode.key(), "description": mode.mode.title(), "metrics": metrics })
            })
            .collect();
        json!({
            "date": self.date,
            "commit": self.commit,
            "command": self.command,
            "qemu": self.qemu_version,
            "kernels": { "coros": self.coros_version, "linux": self.linux_version },
            "repetitions": self.repetitions,
            "scale": self.scale,
            "modes": modes,
            "failures": self.failures,
        })
    }

    /// The terminal table: per mode, metric, unit, coros, Linux, Linux/coros, the
    /// median of the pairs' ratios, and coros' traps and satp switches per operation.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for mode in &self.modes {
            out += &format!("\n{}, median of {}:\n", mode.mode.title(), self.repetitions);
            out += &format!(
                "{:<26} {:>6} {:>13} {:>13} {:>8} {:>8} {:>9} {:>9}\n",
                "metric", "unit", "coros", "Linux", "L/coros", "pairs", "traps/op", "satp/op"
            );
            out += &format!("{}\n", "-".repeat(100));
            for metric in &mode.metrics {
                let value = |v: Option<f64>| v.map_or("missing".to_string(), format_value);
                let ratio = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
                let counters = metric.counters();
                let counter = |f: fn(&PerOp) -> f64| counters.as_ref().map_or("n/a".to_string(), |c| format!("{:.2}", f(c)));
                out += &format!(
                    "{:<26} {:>6} {:>13} {:>13} {:>8} {:>8} {:>9} {:>9}\n",
                    metric.name,
                    mode.mode.unit_label(metric.unit),
                    value(metric.median(Kernel::Coros)),
                    value(metric.median(Kernel::Linux)),
                    ratio(metric.ratio()),
                    ratio(median(&metric.pair_ratios())),
                    counter(|c| c.traps),
                    counter(|c| c.switches),
                );
            }
        }
        out += "\nL/coros: Linux median / coros median (> 1: coros needs less); pairs: median of the\n\
                per-repetition ratios (each pair of boots ran back to back); traps/op and satp/op:\n\
                coros' /proc/coros/counters per operation (Linux has no such counters: n/a).\n";
        if !self.failures.is_empty() {
            out += "\nBoots that did not finish:\n";
            for failure in &self.failures {
                out += &format!("  {failure}\n");
            }
        }
        out
    }
}

/// A value with thousands separators (no decimals from 100 up).
pub fn format_value(value: f64) -> String {
    if value.abs() < 100.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// `YYYY-MM-DD` of a Unix time (UTC), by the days-to-civil algorithm (no date crate).
pub fn date_of(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const COROS: &str = "boot\n\
        bench boot-to-init: ops=1 ns=40000000\n\
        bench getppid: ops=100 ns=45000 traps=100 syscalls=100 switches=0 interrupts=2\n\
        bench parked-thread-memory: ops=1000 bytes=3450880 traps=2000 syscalls=2000 switches=0 interrupts=0\n\
        bench broken: ops=0 ns=5\n\
        bench novalue: ops=3\n\
        bench done\n";

    #[test]
    fn parses_time_memory_and_counters() {
        let figures = parse_figures(COROS);
        assert_eq!(figures.len(), 3, "{figures:?}");
        assert_eq!(figures[0], Figure { name: "boot-to-init".into(), unit: Unit::Nanoseconds, per_op: 4e7, counters: None });
        assert_eq!(figures[1].per_op, 450.0);
        assert_eq!(figures[1].counters, Some(PerOp { traps: 1.0, syscalls: 1.0, switches: 0.0, interrupts: 0.02 }));
        assert_eq!(figures[2].unit, Unit::Bytes);
        assert!((figures[2].per_op - 3450.88).abs() < 1e-9);
        // Linux's lines carry no counters.
        let disk = parse_figures("bench disk-seq-read-inflight-mean: ops=200 count=300\n");
        assert_eq!((disk[0].unit, disk[0].per_op), (Unit::Count, 1.5));
        let linux = parse_figures("bench getppid: ops=100 ns=44000\r\n");
        assert_eq!(linux[0].counters, None);
        assert_eq!(linux[0].per_op, 440.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 7.0]), Some(7.0));
    }

    fn figure(name: &str, per_op: f64, traps: Option<f64>) -> Figure {
        Figure {
            name: name.into(),
            unit: Unit::Nanoseconds,
            per_op,
            counters: traps.map(|traps| PerOp { traps, syscalls: traps, switches: 0.5, interrupts: 0.0 }),
        }
    }

    fn sample_results() -> Results {
        let mut mode = ModeResults::new(Mode::Instructions);
        mode.record(0, Kernel::Coros, &[figure("getppid", 400.0, Some(1.0)), figure("pipe", 10_000.0, Some(4.0))]);
        mode.record(0, Kernel::Linux, &[figure("getppid", 440.0, None), figure("pipe", 15_000.0, None)]);
        mode.record(1, Kernel::Linux, &[figure("getppid", 460.0, None)]);
        mode.record(1, Kernel::Coros, &[figure("getppid", 500.0, Some(1.0)), figure("pipe", 12_000.0, Some(4.0))]);
        mode.record(2, Kernel::Coros, &[figure("getppid", 450.0, Some(3.0))]);
        mode.record(2, Kernel::Linux, &[figure("getppid", 450.0, None)]);
        Results {
            date: "2026-11-21".into(),
            commit: "abc1234".into(),
            command: "cargo xtask bench".into(),
            qemu_version: "QEMU emulator version 7.2.0".into(),
            coros_version: "coros 0.1.0".into(),
            linux_version: "linux 6.12".into(),
            repetitions: 3,
            scale: "full".into(),
            modes: vec![mode],
            failures: vec!["coros -smp 4: timed out".into()],
        }
    }

    #[test]
    fn samples_pair_up_by_repetition() {
        let results = sample_results();
        let getppid = results.modes[0].metric("getppid").unwrap();
        assert_eq!(getppid.samples, vec![(Some(400.0), Some(440.0)), (Some(500.0), Some(460.0)), (Some(450.0), Some(450.0))]);
        assert_eq!(getppid.median(Kernel::Coros), Some(450.0));
        assert_eq!(getppid.median(Kernel::Linux), Some(450.0));
        assert_eq!(getppid.ratio(), Some(1.0));
        assert_eq!(getppid.pair_ratios(), vec![1.1, 0.92, 1.0]);
        assert_eq!(getppid.counters().unwrap().traps, 1.0);
        // A repetition where Linux gave nothing: no pair, but coros' sample counts.
        let pipe = results.modes[0].metric("pipe").unwrap();
        assert_eq!(pipe.samples, vec![(Some(10_000.0), Some(15_000.0)), (Some(12_000.0), None)]);
        assert_eq!(pipe.median(Kernel::Coros), Some(11_000.0));
        assert_eq!(pipe.pair_ratios(), vec![1.5]);
    }

    #[test]
    fn json_has_samples_medians_and_context() {
        let json = sample_results().to_json();
        assert_eq!(json["commit"], "abc1234");
        assert_eq!(json["qemu"], "QEMU emulator version 7.2.0");
        assert_eq!(json["kernels"]["linux"], "linux 6.12");
        assert_eq!(json["modes"][0]["mode"], "icount");
        let pipe = &json["modes"][0]["metrics"][1];
        assert_eq!(pipe["name"], "pipe");
        assert_eq!(pipe["unit"], "instr");
        assert_eq!(pipe["coros"]["samples"], json!([10000.0, 12000.0]));
        assert_eq!(pipe["linux"]["samples"], json!([15000.0, null]));
        assert_eq!(pipe["linux"]["median"], json!(15000.0));
        assert_eq!(pipe["linux_over_coros"], json!(1.364));
        assert_eq!(pipe["coros_per_op"]["satp_switches"], json!(0.5));
        assert_eq!(json["failures"][0], "coros -smp 4: timed out");
        // It is valid JSON text.
        let text = serde_json::to_string_pretty(&json).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json);
    }

    #[test]
    fn table_shows_ratios_and_counters() {
        let table = sample_results().table();
        let line = table.lines().find(|line| line.starts_with("pipe ")).unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words, ["pipe", "instr", "11,000", "15,000", "1.36", "1.50", "4.00", "0.50"]);
        assert!(table.contains("coros -smp 4: timed out"));
    }

    #[test]
    fn values_and_dates() {
        assert_eq!(format_value(1_234_567.4), "1,234,567");
        assert_eq!(format_value(123.0), "123");
        assert_eq!(format_value(12.34), "12.3");
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_763_683_200), "2025-11-21");
    }
}
