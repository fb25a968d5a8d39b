//! The page in headless Chromium (`cargo xtask bench`), served by a release `kite serve`.
//!
//! First render: the page opened with a fresh profile (a first visit: nothing cached, a new
//! IndexedDB) `FIRST_VISITS` times. Per visit, from the navigation's start: the HTML parsed
//! (`DOMContentLoaded`, the baseline: what any page on this server costs), the app's first
//! render (yew mounted: `performance.mark("kite-first-render")`), and the in-tab engine ready
//! (the worker's welcome: `kite-engine-ready`). Target: first render ≤ 500 ms.
//!
//! Frames while producing: `LOAD_RECORDS` records of 100 B generated in the producer (three
//! brokers, RF 3, acks=all, as fast as it goes) while the page counts its animation frames and the
//! browser's long tasks (over 50 ms on the page's thread), the cluster map on screen; the same on a
//! 50-partition topic and on 500 partitions over 9 brokers. Target: no frame over 50 ms. The
//! same runs sum the layout shifts (`layout-shift` entries without recent input, as CLS does)
//! and name the elements that moved. Target: no layout shifts while records stream.
//!
//! On a reader's network (issue 27): Chromium's network emulation at 10 Mbit/s with 40 ms round
//! trips, the playground and a docs page of four `<kite-playground>` widgets, each opened on a
//! fresh profile and then a second time in the same profile (its cache kept): first render, every
//! engine ready, the bytes transferred and the wasm modules fetched. Targets: playground first
//! render ≤ 1.0 s and engine ready ≤ 1.5 s; four widgets all ready ≤ 2.0 s with one compile;
//! second visit ≤ 300 ms to first render.

use std::path::Path;

use kite_e2e::{ChromeDriver, KiteServer, TempDir, click, fill, throttle_network, wait_for, with_browser};

/// Records produced while frames are watched.
const LOAD_RECORDS: usize = 100_000;

/// Records produced for the sustained rate.
const RATE_RECORDS: usize = 500_000;

/// Each record's value: 100 bytes with its number (keys are `user-{i}`), the issue's 100 B records.
const VALUE_PATTERN: &str =
    "{i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// Sessions the frame measurement runs.
const LOAD_RUNS: usize = 3;

/// Starts counting frame intervals and long tasks on the page.
const WATCH_FRAMES_JS: &str = r#"
window.__frames = []; window.__long = []; window.__stop = false;
let last = performance.now();
const frame = t => { window.__frames.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(frame); };
requestAnimationFrame(frame);
new PerformanceObserver(list => list.getEntries().forEach(e => window.__long.push(e.duration)))
  .observe({ entryTypes: ['longtask'] });
// What ran in each frame over 50 ms (Long Animation Frames): the script's invoker and time.
window.__slow = {};
new PerformanceObserver(list => list.getEntries().forEach(e => (e.scripts || []).forEach(s => {
  const k = s.invoker || s.invokerType || '?';
  window.__slow[k] = Math.round((window.__slow[k] || 0) + s.duration);
}))).observe({ type: 'long-animation-frame' });
window.__shift = 0; window.__shifts = 0; window.__shifted = {};
const element = n => !n ? '?' : n.id ? '#' + n.id : (n.className && typeof n.className === 'string')
  ? n.nodeName.toLowerCase() + '.' + n.className.split(' ')[0] : n.nodeName.toLowerCase();
const name = n => n && n.nodeType === 3 ? 'text in ' + element(n.parentElement) : element(n);
new PerformanceObserver(list => list.getEntries().forEach(e => {
  if (e.hadRecentInput) return;
  window.__shift += e.value; window.__shifts += 1;
  (e.sources || []).forEach(s => { const k = name(s.node); window.__shifted[k] = (window.__shifted[k] || 0) + 1; });
})).observe({ type: 'layout-shift' });
// The moment the page shows every record answered (not when WebDriver next polls for it).
window.__done = 0;
new MutationObserver(() => {
  const tally = document.getElementById('batch-tally');
  if (!window.__done && tally && Number(tally.dataset.records) >= window.__target) window.__done = performance.now();
}).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-records'] });
window.__started = performance.now();
"#;

/// [elapsed ms (from the click to the page showing every record answered), frames, longest frame ms, frames over 50 ms, long tasks, longest task ms,
/// layout shift score (the sum of every shift not caused by input, as CLS adds them), shifts].
const FRAME_STATS_JS: &str = r#"
window.__stop = true;
const f = window.__frames, l = window.__long;
return [(window.__done || performance.now()) - window.__started, f.length, Math.max(0, ...f), f.filter(x => x > 50).length,
        l.length, Math.max(0, ...l), window.__shift, window.__shifts];
"#;

/// The elements that moved, with how many shifts each was in.
const SHIFTED_JS: &str = "return JSON.stringify(window.__shifted);";

/// The scripts that ran in frames over 50 ms, by invoker, with their total ms.
const SLOW_JS: &str = "return JSON.stringify(window.__slow);";

/// Fresh-profile page loads measured.
const FIRST_VISITS: usize = 10;

/// Milliseconds from navigation start to DOMContentLoaded, first render and engine ready.
const TIMINGS_JS: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const mark = name => { const m = performance.getEntriesByName(name)[0]; return m ? m.startTime : -1; };
return [nav.domContentLoadedEventEnd, mark('kite-first-render'), mark('kite-engine-ready')];
"#;

/// The reader's network: 10 Mbit/s, 40 ms from a request to its answer.
const THROTTLED_BYTES_PER_SECOND: u64 = 10_000_000 / 8;
const THROTTLED_LATENCY_MS: u64 = 40;
/// Fresh profiles opened on the throttled network, each visiting twice.
const THROTTLED_VISITS: usize = 5;
/// How long a throttled visit may take to have every engine ready.
const THROTTLED_VISIT_TIMEOUT_MS: u64 = 60_000;
/// The docs page of widgets: a course chapter's four, each playing a docs scenario.
const WIDGET_SCENARIOS: [&str; 4] = [
    include_str!("../../docs/scenarios/same-key.kite"),
    include_str!("../../docs/scenarios/null-key.kite"),
    include_str!("../../docs/scenarios/retry.kite"),
    include_str!("../../docs/scenarios/kill-the-leader.kite"),
];
/// The widgets page's name, written beside a copy of the UI.
const WIDGETS_PAGE: &str = "four-widgets.html";

/// One visit: [first render ms, the last engine ready ms, engines ready, bytes transferred (the
/// page and everything it loaded, 0 for what came from the cache), wasm modules the page fetched
/// (a worker's own fetches are in its own timeline, not counted), the page's JavaScript heap bytes].
const VISIT_JS: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const resources = performance.getEntriesByType('resource');
const marks = name => performance.getEntriesByName(name).map(m => m.startTime);
const render = marks('kite-first-render'), ready = marks('kite-engine-ready');
return [render.length ? Math.min(...render) : -1, ready.length ? Math.max(...ready) : -1, ready.length,
        resources.reduce((sum, r) => sum + r.transferSize, nav.transferSize),
        resources.filter(r => r.name.endsWith('.wasm')).length,
        performance.memory ? performance.memory.usedJSHeapSize : -1];
"#;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench -p kite-e2e --bench page -- loads` (or `frames`, or `map`: the map's two sizes
    // only) runs one part; cargo adds `--bench`.
    let parts: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let runs = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    let data = TempDir::new("bench-first-render");
    let server = KiteServer::start(data.path());
    let url = server.url();
    if runs("loads") {
        page_loads(&url).await;
    }
    if runs("frames") {
        frames(&url).await;
    } else if runs("map") {
        map_frames(&url).await;
    }
}

/// First render on localhost and on the reader's network, of the playground and of widgets.
async fn page_loads(url: &str) {
    let playground = first_visits(url).await;
    // The compact widget a docs page embeds, playing a docs scenario.
    let scenario = kite_shared::scenario::to_url(include_str!("../../docs/scenarios/same-key.kite"));
    let embed = first_visits(&format!("{url}?embed=1&scenario={scenario}")).await;
    let throttled_playground = throttled_visits(url, 1).await;
    // The widgets page needs a file of its own beside the UI: a copy of the UI with it.
    let ui_copy = TempDir::new("bench-widgets-ui");
    copy_dir(
        &std::path::PathBuf::from(std::env::var_os("KITE_UI_DIR").expect("KITE_UI_DIR")),
        ui_copy.path(),
    );
    std::fs::write(ui_copy.path().join(WIDGETS_PAGE), widgets_page()).expect("writing the widgets page");
    let widgets_data = TempDir::new("bench-widgets");
    let widgets_server = KiteServer::start_serving(widgets_data.path(), ui_copy.path());
    let widgets =
        throttled_visits(&format!("{}{WIDGETS_PAGE}", widgets_server.url()), WIDGET_SCENARIOS.len()).await;
    print_first_render("the playground", &playground);
    print_first_render("an embedded widget (?embed=1&scenario=same-key)", &embed);
    print_throttled("the playground", &throttled_playground);
    print_throttled(&format!("a docs page of {} widgets", WIDGET_SCENARIOS.len()), &widgets);
}

/// Frames while the tab produces, at each size the map must stay smooth at.
async fn frames(url: &str) {
    // The tab keeps the cluster in IndexedDB by default (every replica's appends written); the
    // same load in memory (`?storage=ephemeral`) shows what storage costs.
    let ephemeral = format!("{url}?storage=ephemeral");
    frames_while_producing(url, "IndexedDB, relaxed", LOAD_RECORDS, SMALL).await;
    frames_while_producing(&ephemeral, "in memory, ?storage=ephemeral", LOAD_RECORDS, SMALL).await;
    map_frames(url).await;
    // The sustained rate: a run long enough that the start and the last update's wait (up to
    // the page's 250 ms flush) are a small part of it.
    frames_while_producing(url, "IndexedDB, relaxed", RATE_RECORDS, SMALL).await;
    frames_while_producing(&ephemeral, "in memory, ?storage=ephemeral", RATE_RECORDS, SMALL).await;
}

/// The cluster map on screen at the sizes the map must stay smooth at: 3 brokers × 50
/// partitions, and 9 × 500 (each broker's column draws at most MAX_BLOCKS_PER_BROKER blocks).
async fn map_frames(url: &str) {
    for shape in [MAP_MEDIUM, MAP_LARGE] {
        let brokers = format!("{url}?brokers={}", shape.brokers);
        frames_while_producing(&brokers, "IndexedDB, relaxed", LOAD_RECORDS, shape).await;
    }
}

/// A docs page with a `<kite-playground>` per scenario of `WIDGET_SCENARIOS`.
fn widgets_page() -> String {
    let widgets: String = WIDGET_SCENARIOS
        .iter()
        .map(|scenario| {
            format!(
                "<kite-playground height=\"400\"><script type=\"text/kite-scenario\">{scenario}</script></kite-playground>\n"
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Four widgets</title>\n\
         <script type=\"module\" src=\"/kite-embed.js\"></script></head><body>\n{widgets}</body></html>\n"
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating a directory of the UI's copy");
    for entry in std::fs::read_dir(from).expect("listing the UI").map(Result::unwrap) {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copying the UI");
        }
    }
}

/// `THROTTLED_VISITS` fresh profiles on the reader's network, each opening `page` twice (the
/// second time with its cache), once `engines` engines say they are ready. Per profile: the
/// first visit's and the second's `VISIT_JS`.
async fn throttled_visits(page: &str, engines: usize) -> Vec<[Vec<f64>; 2]> {
    let mut samples = Vec::new();
    for _ in 0..THROTTLED_VISITS {
        let driver = ChromeDriver::start();
        let page = page.to_string();
        let (sender, receiver) = std::sync::mpsc::channel();
        with_browser(&driver, |client| async move {
            throttle_network(&client, THROTTLED_LATENCY_MS, THROTTLED_BYTES_PER_SECOND).await?;
            let mut visits = Vec::new();
            for _ in 0..2 {
                client.goto(&page).await.map_err(|e| e.to_string())?;
                let deadline =
                    std::time::Instant::now() + std::time::Duration::from_millis(THROTTLED_VISIT_TIMEOUT_MS);
                let visit = loop {
                    let values = client.execute(VISIT_JS, vec![]).await.map_err(|e| e.to_string())?;
                    let values: Vec<f64> = values
                        .as_array()
                        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                        .unwrap_or_default();
                    if values.get(2).is_some_and(|&ready| ready >= engines as f64) {
                        break values;
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(format!("{engines} engines not ready in time: {values:?}"));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                };
                visits.push(visit);
            }
            let [first, second] = <[Vec<f64>; 2]>::try_from(visits).map_err(|_| "two visits".to_string())?;
            sender.send([first, second]).map_err(|e| e.to_string())
        })
        .await;
        samples.extend(receiver.try_iter());
    }
    samples
}

fn print_throttled(what: &str, samples: &[[Vec<f64>; 2]]) {
    if samples.is_empty() {
        println!("{what} on a throttled network: no visit measured (see the errors above)");
        return;
    }
    println!(
        "{what} on a throttled network ({} Mbit/s, {THROTTLED_LATENCY_MS} ms), {} fresh profiles, each visiting twice; median (p90):",
        THROTTLED_BYTES_PER_SECOND * 8 / 1_000_000,
        samples.len()
    );
    println!(
        "  {:<14} {:>20} {:>20} {:>18} {:>13} {:>16}",
        "visit", "first render ms", "all engines ready ms", "transferred KB", "wasm (page)", "page heap MB"
    );
    for (visit, name) in ["first", "second"].iter().enumerate() {
        let column = |i: usize, scale: f64| {
            let mut values: Vec<f64> = samples.iter().map(|s| s[visit][i] / scale).collect();
            values.sort_by(f64::total_cmp);
            format!("{:.0} ({:.0})", percentile(&values, 0.5), percentile(&values, 0.9))
        };
        println!(
            "  {name:<14} {:>20} {:>20} {:>18} {:>13} {:>16}",
            column(0, 1.0),
            column(1, 1.0),
            column(3, 1000.0),
            column(4, 1.0),
            column(5, 1_000_000.0)
        );
    }
}

/// `FIRST_VISITS` loads of `page`, each in a new session: a new Chromium profile, nothing cached,
/// nothing stored. Per load: DOMContentLoaded, first render, engine ready.
async fn first_visits(page: &str) -> Vec<[f64; 3]> {
    let mut samples: Vec<[f64; 3]> = Vec::new();
    for _ in 0..FIRST_VISITS {
        let driver = ChromeDriver::start();
        let page = page.to_string();
        let (sender, receiver) = std::sync::mpsc::channel();
        with_browser(&driver, |client| async move {
            client.goto(&page).await.map_err(|e| e.to_string())?;
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
    samples
}

fn print_first_render(what: &str, samples: &[[f64; 3]]) {
    println!(
        "first render of {what} on localhost, {FIRST_VISITS} first visits (fresh profile), ms from navigation start:"
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

/// A cluster's size for a load run: the tab's brokers (`?brokers=`) and the topic's partitions.
#[derive(Clone, Copy)]
struct Shape {
    brokers: usize,
    partitions: usize,
}

/// The tab's default cluster and the topic form's default partitions.
const SMALL: Shape = Shape { brokers: 3, partitions: 3 };
/// The map's sizes (issue 21): a topic of 50 partitions on 3 brokers, and of 500 on 9.
const MAP_MEDIUM: Shape = Shape { brokers: 3, partitions: 50 };
const MAP_LARGE: Shape = Shape { brokers: 9, partitions: 500 };

/// Produces `records` records from the page's generator per run and prints the frames seen.
async fn frames_while_producing(url: &str, storage: &str, records: usize, shape: Shape) {
    let Shape { brokers, partitions } = shape;
    println!(
        "frames while {records} records are produced in the tab ({brokers} brokers, {partitions} partitions, RF 3, acks=all, the map on screen, {storage}):"
    );
    println!(
        "  {:>4} {:>10} {:>9} {:>8} {:>14} {:>11} {:>15} {:>12} {:>7}",
        "run",
        "elapsed ms",
        "records/s",
        "frames",
        "longest frame",
        "over 50 ms",
        "longest task ms",
        "layout shift",
        "shifts"
    );
    for run in 1..=LOAD_RUNS {
        let driver = ChromeDriver::start();
        let url = url.to_string();
        let (sender, receiver) = std::sync::mpsc::channel();
        with_browser(&driver, |client| async move {
            // A laptop screen, as the e2e flow's.
            client.set_window_size(1280, 800).await.map_err(|e| e.to_string())?;
            client.goto(&url).await.map_err(|e| e.to_string())?;
            wait_for(&client, "#status[data-status='ready']").await?;
            fill(&client, "#topic-name", "load").await?;
            fill(&client, "#topic-replication", "3").await?;
            fill(&client, "#topic-partitions", &partitions.to_string()).await?;
            click(&client, "#create-topic").await?;
            wait_for(&client, "#topics [data-topic='load']").await?;
            // The map draws the topic's replicas before the run starts.
            wait_for(&client, "#map [data-replica^='load-0@']").await?;
            click(&client, "#generator summary").await?;
            fill(&client, "#generate-count", &records.to_string()).await?;
            fill(&client, "#generate-value", VALUE_PATTERN).await?;
            client
                .execute(&format!("window.__target = {records};"), vec![])
                .await
                .map_err(|e| e.to_string())?;
            client.execute(WATCH_FRAMES_JS, vec![]).await.map_err(|e| e.to_string())?;
            click(&client, "#generate-send").await?;
            wait_for(&client, &format!("#batch-tally[data-records='{records}']")).await?;
            let stats = client.execute(FRAME_STATS_JS, vec![]).await.map_err(|e| e.to_string())?;
            let values: Vec<f64> = stats
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                .unwrap_or_default();
            let shifted = client.execute(SHIFTED_JS, vec![]).await.map_err(|e| e.to_string())?;
            let shifted = shifted.as_str().unwrap_or_default().to_string();
            let slow = client.execute(SLOW_JS, vec![]).await.map_err(|e| e.to_string())?;
            let slow = slow.as_str().unwrap_or_default().to_string();
            sender.send((values, shifted, slow)).map_err(|e| e.to_string())
        })
        .await;
        for (v, shifted, slow) in receiver.try_iter() {
            if let [elapsed, frames, longest, over, tasks, longest_task, shift, shifts] = v[..] {
                let rate = records as f64 / (elapsed / 1000.0);
                println!(
                    "  {run:>4} {elapsed:>10.0} {rate:>9.0} {frames:>8.0} {longest:>14.0} {over:>11.0} {longest_task:>15.0} {shift:>12.4} {shifts:>7.0}  ({tasks:.0} long tasks; moved: {shifted}; in slow frames: {slow})"
                );
            }
        }
    }
}
