//! The benchmark chart: one SVG file, written by hand (no plotting crate), readable in
//! any browser without scripts.
//!
//! One panel per mode (instructions under icount, wall ns under TCG); in each, one row
//! per metric with two horizontal bars, coros and Linux, on a log-10 axis (the values
//! span six decades, from a null system call to fork+exec and boot). The value is
//! printed at the end of each bar; a metric a kernel did not report says "n/a".

use crate::bench_results::{format_value, Kernel, Mode, ModeResults, Results, Unit};

const WIDTH: f64 = 980.0;
const LABEL_WIDTH: f64 = 250.0;
const PLOT_LEFT: f64 = LABEL_WIDTH + 20.0;
const PLOT_RIGHT: f64 = WIDTH - 90.0;
const ROW_HEIGHT: f64 = 24.0;
const BAR_HEIGHT: f64 = 9.0;
const COROS_COLOUR: &str = "#2a6fdb";
const LINUX_COLOUR: &str = "#e8912d";

/// Escapes text for SVG content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The decades `(low, high)` of a log axis covering `values` (positive ones only).
pub fn decades(values: impl IntoIterator<Item = f64>) -> (i32, i32) {
    let positive: Vec<f64> = values.into_iter().filter(|v| v.is_finite() && *v > 0.0).collect();
    if positive.is_empty() {
        return (0, 1);
    }
    let low = positive.iter().copied().fold(f64::INFINITY, f64::min).log10().floor() as i32;
    let high = positive.iter().copied().fold(0.0, f64::max).log10().ceil() as i32;
    (low, high.max(low + 1))
}

/// 10^exponent as a short label: 1, 10, 100, 1k ... 100M, 1G.
pub fn decade_label(exponent: i32) -> String {
    let suffixes = [(9, "G"), (6, "M"), (3, "k"), (0, "")];
    if exponent < 0 {
        return format!("1e{exponent}");
    }
    for (power, suffix) in suffixes {
        if exponent >= power {
            return format!("{}{suffix}", 10u64.pow((exponent - power) as u32));
        }
    }
    unreachable!("exponent >= 0 matches the last suffix")
}

/// The x coordinate of `value` on the log axis `(low, high)`.
pub fn x_of(value: f64, (low, high): (i32, i32)) -> f64 {
    let fraction = (value.log10() - f64::from(low)) / f64::from(high - low);
    PLOT_LEFT + fraction.clamp(0.0, 1.0) * (PLOT_RIGHT - PLOT_LEFT)
}

fn panel(out: &mut String, mode: &ModeResults, top: f64, repetitions: usize) -> f64 {
    let values = mode
        .metrics
        .iter()
        .flat_map(|metric| [metric.median(Kernel::Coros), metric.median(Kernel::Linux)])
        .flatten();
    let axis = decades(values);
    let rows_top = top + 30.0;
    let rows_bottom = rows_top + ROW_HEIGHT * mode.metrics.len() as f64;
    *out += &format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"15\" font-weight=\"bold\">{}, median of {repetitions}</text>\n",
        10.0,
        top + 16.0,
        escape(mode.mode.title())
    );
    // Decade grid lines and tick labels.
    for exponent in axis.0..=axis.1 {
        let x = x_of(10f64.powi(exponent), axis);
        *out += &format!(
            "<line x1=\"{x:.1}\" y1=\"{rows_top:.1}\" x2=\"{x:.1}\" y2=\"{rows_bottom:.1}\" stroke=\"#ccc\" stroke-width=\"1\"/>\n"
        );
        *out += &format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\n",
            rows_bottom + 14.0,
            decade_label(exponent)
        );
    }
    *out += &format!(
        "<line x1=\"{PLOT_LEFT}\" y1=\"{rows_top:.1}\" x2=\"{PLOT_LEFT}\" y2=\"{rows_bottom:.1}\" stroke=\"#333\"/>\n\
         <line x1=\"{PLOT_LEFT}\" y1=\"{rows_bottom:.1}\" x2=\"{PLOT_RIGHT}\" y2=\"{rows_bottom:.1}\" stroke=\"#333\"/>\n"
    );
    let axis_title = match mode.mode {
        Mode::Instructions => "instructions per operation (log scale; memory row: bytes per parked thread)",
        Mode::Wall => "wall-clock ns per operation under TCG (log scale; memory row: bytes per parked thread)",
    };
    *out += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>\n",
        (PLOT_LEFT + PLOT_RIGHT) / 2.0,
        rows_bottom + 32.0,
        escape(axis_title)
    );
    let middle = (rows_top + rows_bottom) / 2.0;
    *out += &format!(
        "<text x=\"14\" y=\"{middle:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {middle:.1})\">metric (shorter bar: less work)</text>\n"
    );
    for (index, metric) in mode.metrics.iter().enumerate() {
        let row = rows_top + ROW_HEIGHT * index as f64;
        if index % 2 == 1 {
            *out += &format!(
                "<rect x=\"24\" y=\"{row:.1}\" width=\"{:.1}\" height=\"{ROW_HEIGHT}\" fill=\"#f4f4f4\"/>\n",
                WIDTH - 30.0
            );
        }
        let unit = match metric.unit {
            Unit::Bytes => " [bytes]",
            Unit::Count => " [count]",
            Unit::Nanoseconds => "",
        };
        *out += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}{unit}</text>\n",
            LABEL_WIDTH + 10.0,
            row + ROW_HEIGHT / 2.0 + 4.0,
            escape(&metric.name)
        );
        for (slot, kernel, colour) in [(0.0, Kernel::Coros, COROS_COLOUR), (1.0, Kernel::Linux, LINUX_COLOUR)] {
            let y = row + 2.5 + slot * (BAR_HEIGHT + 1.0);
            match metric.median(kernel).filter(|value| *value > 0.0) {
                Some(value) => {
                    let end = x_of(value, axis);
                    *out += &format!(
                        "<rect x=\"{PLOT_LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{colour}\"><title>{} {}: {}</title></rect>\n",
                        (end - PLOT_LEFT).max(1.0),
                        kernel.name(),
                        escape(&metric.name),
                        format_value(value)
                    );
                    *out += &format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>\n",
                        end + 3.0,
                        y + BAR_HEIGHT - 1.0,
                        format_value(value)
                    );
                }
                None => {
                    *out += &format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"#a00\">{} n/a</text>\n",
                        PLOT_LEFT + 3.0,
                        y + BAR_HEIGHT - 1.0,
                        kernel.name()
                    );
                }
            }
        }
    }
    rows_bottom + 50.0
}

/// The whole chart.
pub fn chart(results: &Results) -> String {
    let height: f64 = 70.0 + results.modes.iter().map(|mode| 80.0 + ROW_HEIGHT * mode.metrics.len() as f64).sum::<f64>();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    out += &format!(
        "<text x=\"10\" y=\"22\" font-size=\"17\" font-weight=\"bold\">coros vs {} on the same QEMU ({}, {})</text>\n",
        escape(&results.linux_version),
        escape(&results.date),
        escape(&results.commit)
    );
    out += &format!(
        "<rect x=\"10\" y=\"34\" width=\"14\" height=\"10\" fill=\"{COROS_COLOUR}\"/><text x=\"28\" y=\"43\" font-size=\"12\">coros</text>\n\
         <rect x=\"80\" y=\"34\" width=\"14\" height=\"10\" fill=\"{LINUX_COLOUR}\"/><text x=\"98\" y=\"43\" font-size=\"12\">Linux</text>\n\
         <text x=\"150\" y=\"43\" font-size=\"11\" fill=\"#555\">{}</text>\n",
        escape(&results.qemu_version)
    );
    let mut top = 60.0;
    for mode in &results.modes {
        top = panel(&mut out, mode, top, results.repetitions);
    }
    out += "</svg>\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_results::{Figure, ModeResults};

    #[test]
    fn log_axis() {
        assert_eq!(decades([450.0, 4_000_000.0]), (2, 7));
        assert_eq!(decades([1000.0]), (3, 4));
        assert_eq!(decades([]), (0, 1));
        assert_eq!(decades([0.0, -3.0, 50.0]), (1, 2));
        let axis = (2, 6);
        assert_eq!(x_of(100.0, axis), PLOT_LEFT);
        assert_eq!(x_of(1e6, axis), PLOT_RIGHT);
        assert!((x_of(1e4, axis) - (PLOT_LEFT + PLOT_RIGHT) / 2.0).abs() < 1e-9);
        assert_eq!(x_of(1.0, axis), PLOT_LEFT, "clamped");
        assert_eq!(decade_label(0), "1");
        assert_eq!(decade_label(4), "10k");
        assert_eq!(decade_label(8), "100M");
        assert_eq!(decade_label(9), "1G");
    }

    #[test]
    fn chart_has_a_bar_per_kernel_and_metric() {
        let mut mode = ModeResults::new(Mode::Instructions);
        let figure = |name: &str, per_op: f64, unit| Figure { name: name.into(), unit, per_op, counters: None };
        mode.record(0, Kernel::Coros, &[figure("getppid", 450.0, Unit::Nanoseconds), figure("parked-thread-memory", 3450.0, Unit::Bytes)]);
        mode.record(0, Kernel::Linux, &[figure("getppid", 440.0, Unit::Nanoseconds)]);
        let results = Results {
            date: "2026-11-21".into(),
            commit: "abc<1>".into(),
            command: String::new(),
            qemu_version: "QEMU 7.2".into(),
            coros_version: String::new(),
            linux_version: "Linux 6.12".into(),
            repetitions: 1,
            scale: "tiny".into(),
            modes: vec![mode],
            failures: Vec::new(),
        };
        let svg = chart(&results);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("abc&lt;1&gt;"), "escaped");
        assert_eq!(svg.matches(&format!("fill=\"{COROS_COLOUR}\"><title>")).count(), 2);
        assert_eq!(svg.matches(&format!("fill=\"{LINUX_COLOUR}\"><title>")).count(), 1);
        assert!(svg.contains("linux n/a"), "the missing Linux memory figure is marked");
        assert!(svg.contains("parked-thread-memory [bytes]"));
        assert!(svg.contains(">instructions per operation (log scale"), "x axis is labelled");
        assert!(svg.contains("rotate(-90"), "y axis is labelled");
        // Balanced tags: every opened rect/text is closed or self-closing.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    }
}
