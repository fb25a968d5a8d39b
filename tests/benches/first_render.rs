//! First render on localhost (`cargo xtask bench`): a release `kite serve` serves the built UI;
//! headless Chromium opens it with a fresh profile (a first visit: nothing cached, a new
//! IndexedDB) `FIRST_VISITS` times. Per visit, from the navigation's start: the HTML parsed
//! (`DOMContentLoaded`, the baseline: what any page on this server costs), the app's first
//! render (yew mounted: `performance.mark("kite-first-render")`), and the in-tab engine ready
//! (the worker's welcome: `kite-engine-ready`). Target: first render ≤ 500 ms.

use kite_e2e::{ChromeDriver, KiteServer, TempDir, wait_for, with_browser};

/// Fresh-profile page loads measured.
const FIRST_VISITS: usize = 10;

/// Milliseconds from navigation start to DOMContentLoaded, first render and engine ready.
const TIMINGS_JS: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const mark = name => { const m = performance.getEntriesByName(name)[0]; return m ? m.startTime : -1; };
return [nav.domContentLoadedEventEnd, mark('kite-first-render'), mark('kite-engine-ready')];
"#;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let data = TempDir::new("bench-first-render");
    let server = KiteServer::start(data.path());
    let url = server.url();
    let mut samples: Vec<[f64; 3]> = Vec::new();
    for _ in 0..FIRST_VISITS {
        // A new session is a new Chromium profile: nothing cached, nothing stored.
        let driver = ChromeDriver::start();
        let url = url.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        with_browser(&driver, |client| async move {
            client.goto(&url).await.map_err(|e| e.to_string())?;
            wait_for(&client, "#status[data-status='ready']").await?;
            let timings = client.execute(TIMINGS_JS, vec![]).await.map_err(|e| e.to_string())?;
            let values: Vec<f64> = timings
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                .unwrap_or_default();
            let [dom, render, ready] = values[..] else { return Err(format!("timings: {timings}")) };
            if render < 0.0 || ready < 0.0 {
                return Err(format!("the app set no marks: {timings}"));
            }
            sender.send([dom, render, ready]).map_err(|e| e.to_string())
        })
        .await;
        samples.extend(receiver.try_iter());
    }
    println!(
        "first render on localhost, {FIRST_VISITS} first visits (fresh profile), ms from navigation start:"
    );
    println!("  {:<34} {:>8} {:>8} {:>8}", "", "median", "p90", "max");
    let names =
        ["DOMContentLoaded (baseline)", "first render (yew mounted)", "engine ready (worker welcome)"];
    for (i, name) in names.iter().enumerate() {
        let mut values: Vec<f64> = samples.iter().map(|s| s[i]).collect();
        values.sort_by(f64::total_cmp);
        println!(
            "  {name:<34} {:>8.0} {:>8.0} {:>8.0}",
            percentile(&values, 0.5),
            percentile(&values, 0.9),
            values.last().copied().unwrap_or(0.0)
        );
    }
}
