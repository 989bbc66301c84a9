//! Prometheus text exposition format 0.0.4, written by hand: a few families, no dependency needed.
//! [`crate::telemetry::Telemetry::render`] writes each declared family through it.

use std::fmt::Write;

#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    pub fn family(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, label_value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(label_value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", format_value(value));
    }

    pub fn finish(self) -> String {
        self.text
    }
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_families_and_escapes_labels() {
        let mut text = Exposition::default();
        text.family("x_total", "Things.", "counter");
        text.sample("x_total", &[("source", "s"), ("organization", "b")], 0.5);
        text.sample("x_total", &[("source", "s"), ("organization", "org \"a\"")], 2.0);
        text.family("y_total", "More.", "counter");
        text.sample("y_total", &[], 3.0);
        assert_eq!(
            text.finish(),
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{source=\"s\",organization=\"b\"} 0.5\n\
             x_total{source=\"s\",organization=\"org \\\"a\\\"\"} 2\n# HELP y_total More.\n# TYPE y_total counter\ny_total 3\n"
        );
    }
}
