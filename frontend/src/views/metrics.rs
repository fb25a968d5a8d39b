//! Metrics as charts: produce and consume rates (records per second between samples), partitions
//! under-replicated or offline, and ISR shrinks and expands per interval — Kafka's broker metrics
//! a learner watches move while stopping brokers. Samples come from `get_metrics`, once a second.

use std::collections::VecDeque;

use kite_shared::api::Metrics;
use yew::prelude::*;

use crate::i18n::{Lang, tr};

/// Chart size in SVG user units.
const CHART_WIDTH: f64 = 240.0;
const CHART_HEIGHT: f64 = 48.0;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// Oldest first.
    pub samples: VecDeque<Metrics>,
}

/// Per-second rates of a counter between consecutive samples.
fn rates(samples: &VecDeque<Metrics>, counter: fn(&Metrics) -> u64) -> Vec<f64> {
    samples
        .iter()
        .zip(samples.iter().skip(1))
        .map(|(a, b)| {
            let seconds = (b.at_ms - a.at_ms) as f64 / 1000.0;
            if seconds <= 0.0 { 0.0 } else { counter(b).saturating_sub(counter(a)) as f64 / seconds }
        })
        .collect()
}

/// A gauge's values, one per sample.
fn gauge(samples: &VecDeque<Metrics>, value: fn(&Metrics) -> usize) -> Vec<f64> {
    samples.iter().map(|m| value(m) as f64).collect()
}

/// One chart: a polyline over the values, scaled to their maximum, with the latest value.
pub fn chart(id: &str, title: &str, unit: &str, values: &[f64]) -> Html {
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let step = if values.len() > 1 { CHART_WIDTH / (values.len() - 1) as f64 } else { 0.0 };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!("{:.1},{:.1}", i as f64 * step, CHART_HEIGHT - v / max * (CHART_HEIGHT - 2.0) - 1.0)
        })
        .collect();
    let latest = values.last().copied().unwrap_or(0.0);
    html! {
        <figure class="chart" id={id.to_string()} data-latest={format!("{latest:.0}")}>
            <figcaption>{ title.to_string() }<strong>{ format!(" {latest:.0} {unit}") }</strong></figcaption>
            <svg viewBox={format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}")} preserveAspectRatio="none" role="img"
                aria-label={format!("{title}: {latest:.0} {unit}, at most {max:.0}")}>
                <polyline points={points.join(" ")} />
            </svg>
        </figure>
    }
}

#[function_component(MetricsPanel)]
pub fn metrics_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let samples = &props.samples;
    html! {
        <section class="panel metrics" id="metrics" aria-labelledby="metrics-title">
            <h2 id="metrics-title">{ tr(lang, "Metrics") }</h2>
            if samples.len() < 2 {
                <p class="hint">{ tr(lang, "Charts fill in as the engine is sampled, once a second.") }</p>
            } else {
                <div class="charts">
                    { chart("chart-produce", tr(lang, "Produced"), tr(lang, "records/s"), &rates(samples, |m| m.records_produced)) }
                    { chart("chart-consume", tr(lang, "Fetched"), tr(lang, "records/s"), &rates(samples, |m| m.records_fetched)) }
                    { chart("chart-under-replicated", tr(lang, "Under-replicated"), tr(lang, "partitions"),
                        &gauge(samples, |m| m.under_replicated_partitions)) }
                    { chart("chart-offline", tr(lang, "Offline"), tr(lang, "partitions"), &gauge(samples, |m| m.offline_partitions)) }
                    { chart("chart-isr-shrinks", tr(lang, "ISR shrinks"), "/s", &rates(samples, |m| m.isr_shrinks)) }
                    { chart("chart-isr-expands", tr(lang, "ISR expands"), "/s", &rates(samples, |m| m.isr_expands)) }
                </div>
            }
        </section>
    }
}
