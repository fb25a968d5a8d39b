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

use kite_e2e::{ChromeDriver, KiteServer, TempDir, click, fill, wait_for, with_browser};

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

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let data = TempDir::new("bench-first-render");
    let server = KiteServer::start(data.path());
    let url = server.url();
    let playground = first_visits(&url).await;
    // The compact widget a docs page embeds, playing a docs scenario.
    let scenario = kite_shared::scenario::to_url(include_str!("../../docs/scenarios/same-key.kite"));
    let embed = first_visits(&format!("{url}?embed=1&scenario={scenario}")).await;
    // The tab keeps the cluster in IndexedDB by default (every replica's appends written); the
    // same load in memory (`?storage=ephemeral`) shows what storage costs.
    frames_while_producing(&url, "IndexedDB, relaxed", LOAD_RECORDS, SMALL).await;
    frames_while_producing(
        &format!("{url}?storage=ephemeral"),
        "in memory, ?storage=ephemeral",
        LOAD_RECORDS,
        SMALL,
    )
    .await;
    // The cluster map on screen at the sizes the map must stay smooth at: 3 brokers × 50
    // partitions, and 9 × 500 (each broker's column draws at most MAX_BLOCKS_PER_BROKER blocks).
    for shape in [MAP_MEDIUM, MAP_LARGE] {
        frames_while_producing(
            &format!("{url}?brokers={}", shape.brokers),
            "IndexedDB, relaxed",
            LOAD_RECORDS,
            shape,
        )
        .await;
    }
    // The sustained rate: a run long enough that the start and the last update's wait (up to
    // the page's 250 ms flush) are a small part of it.
    frames_while_producing(&url, "IndexedDB, relaxed", RATE_RECORDS, SMALL).await;
    frames_while_producing(
        &format!("{url}?storage=ephemeral"),
        "in memory, ?storage=ephemeral",
        RATE_RECORDS,
        SMALL,
    )
    .await;
    print_first_render("the playground", &playground);
    print_first_render("an embedded widget (?embed=1&scenario=same-key)", &embed);
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
