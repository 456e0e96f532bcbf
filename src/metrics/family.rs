//! Labelled counters and histograms, for what happens at most some hundreds of times a second
//! (provider calls, job steps, webhooks, Telegram updates): a map from label values to numbers
//! under a lock. The hot path (HTTP requests) keeps its fixed arrays of atomics instead.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Duration};

/// A counter for each combination of `N` label values.
pub(super) struct Counters<const N: usize> {
    name: &'static str,
    help: &'static str,
    labels: [&'static str; N],
    values: Mutex<BTreeMap<[&'static str; N], u64>>,
}

impl<const N: usize> Counters<N> {
    pub(super) const fn new(name: &'static str, help: &'static str, labels: [&'static str; N]) -> Self {
        Counters { name, help, labels, values: Mutex::new(BTreeMap::new()) }
    }

    pub(super) fn add(&self, values: [&'static str; N]) {
        *self.values.lock().unwrap_or_else(|p| p.into_inner()).entry(values).or_default() += 1;
    }

    pub(super) fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} counter", self.name, self.help, self.name);
        for (values, n) in self.values.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "{}{{{}}} {n}", self.name, labels(&self.labels, values, None));
        }
    }
}

struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum_micros: u64,
}

/// A latency histogram for each combination of `N` label values.
pub(super) struct Histograms<const N: usize> {
    name: &'static str,
    help: &'static str,
    labels: [&'static str; N],
    /// Upper bounds, in seconds.
    bounds: &'static [f64],
    values: Mutex<BTreeMap<[&'static str; N], Histogram>>,
}

impl<const N: usize> Histograms<N> {
    pub(super) const fn new(
        name: &'static str,
        help: &'static str,
        labels: [&'static str; N],
        bounds: &'static [f64],
    ) -> Self {
        Histograms { name, help, labels, bounds, values: Mutex::new(BTreeMap::new()) }
    }

    pub(super) fn observe(&self, values: [&'static str; N], elapsed: Duration) {
        let mut all = self.values.lock().unwrap_or_else(|p| p.into_inner());
        let histogram = all.entry(values).or_insert_with(|| Histogram {
            buckets: vec![0; self.bounds.len()],
            count: 0,
            sum_micros: 0,
        });
        let seconds = elapsed.as_secs_f64();
        if let Some(bucket) = self.bounds.iter().position(|upper| seconds <= *upper) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum_micros =
            histogram.sum_micros.saturating_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    pub(super) fn render(&self, out: &mut String) {
        let name = self.name;
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} histogram", self.help);
        for (values, histogram) in self.values.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let mut cumulative = 0;
            for (upper, n) in self.bounds.iter().zip(&histogram.buckets) {
                cumulative += n;
                let le = upper.to_string();
                let _ = writeln!(out, "{name}_bucket{{{}}} {cumulative}", labels(&self.labels, values, Some(&le)));
            }
            let _ =
                writeln!(out, "{name}_bucket{{{}}} {}", labels(&self.labels, values, Some("+Inf")), histogram.count);
            let plain = labels(&self.labels, values, None);
            let _ = writeln!(out, "{name}_sum{{{plain}}} {}", histogram.sum_micros as f64 / 1e6);
            let _ = writeln!(out, "{name}_count{{{plain}}} {}", histogram.count);
        }
    }
}

/// `a="x",b="y"` (and `le="…"` for a bucket). Label values are our own constants: no escaping.
fn labels(names: &[&'static str], values: &[&'static str], le: Option<&str>) -> String {
    let mut text = String::new();
    for (name, value) in names.iter().zip(values) {
        if !text.is_empty() {
            text.push(',');
        }
        let _ = write!(text, "{name}=\"{value}\"");
    }
    if let Some(le) = le {
        if !text.is_empty() {
            text.push(',');
        }
        let _ = write!(text, "le=\"{le}\"");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_by_label() {
        let counters = Counters::new("aisha_x_total", "X.", ["kind", "outcome"]);
        counters.add(["image", "ok"]);
        counters.add(["image", "ok"]);
        counters.add(["image", "failed"]);
        let histograms = Histograms::new("aisha_y_seconds", "Y.", ["call"], &[0.005, 0.05]);
        histograms.observe(["submit"], Duration::from_millis(3));
        histograms.observe(["submit"], Duration::from_millis(30));
        let mut out = String::new();
        counters.render(&mut out);
        histograms.render(&mut out);
        assert!(out.contains("aisha_x_total{kind=\"image\",outcome=\"ok\"} 2"), "{out}");
        assert!(out.contains("aisha_x_total{kind=\"image\",outcome=\"failed\"} 1"), "{out}");
        assert!(out.contains("aisha_y_seconds_bucket{call=\"submit\",le=\"0.005\"} 1"), "{out}");
        assert!(out.contains("aisha_y_seconds_bucket{call=\"submit\",le=\"0.05\"} 2"), "{out}");
        assert!(out.contains("aisha_y_seconds_bucket{call=\"submit\",le=\"+Inf\"} 2"), "{out}");
        assert!(out.contains("aisha_y_seconds_count{call=\"submit\"} 2"), "{out}");
        assert!(out.contains("aisha_y_seconds_sum{call=\"submit\"} 0.033"), "{out}");
    }
}
