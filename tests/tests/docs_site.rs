//! The docs site `kite serve` serves under /docs (built by `cargo xtask docs`): its front page
//! runs three scenarios side by side — two `<kite-playground>` custom elements and one locked
//! iframe — each on its own engine, and every expectation in them holds; the Korean pages show
//! the widget in Korean; the glossary gives each term in both languages. The course: every
//! chapter, in order, plays its widgets to their end with every expectation held, marks itself
//! done, leads on to the next, and the front page's table of contents remembers what was done, with
//! nothing said on the console. A
//! `<kite-compare>` runs its two engines in lockstep and marks where they part. The course and the
//! playground pass axe-core's WCAG checks with no serious violation.

use kite_e2e::{
    ChromeDriver, KiteServer, TempDir, click, screenshot, text_of, until, wait_for, with_browser,
};

/// Each custom element's scenario state, read through its shadow root: `finished:failed`, or
/// `none` before its first steps.
const ELEMENTS_JS: &str = r#"
return [...document.querySelectorAll('kite-playground')].map(e => {
  const root = e.shadowRoot;
  const summary = root && root.querySelector('#scenario-summary');
  const next = root && root.querySelector('#scenario-continue');
  if (next && !next.disabled) next.click();
  // A question: the first choice, right or wrong, runs the scenario on.
  const choice = root && root.querySelector('#scenario-question .choice');
  if (choice && !choice.disabled) choice.click();
  return summary ? summary.dataset.finished + ':' + summary.dataset.failed : 'none';
});
"#;

/// A test's own `kite serve` (its data in a fresh directory named after `name`) and a Chromium
/// window of 1280×900: `body` gets the browser and the server's URL.
async fn on_a_fresh_site<F, Fut>(name: &str, body: F)
where
    F: FnOnce(fantoccini::Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let data = TempDir::new(name);
    let server = KiteServer::start(data.path());
    let driver = ChromeDriver::start();
    let url = server.url();
    with_browser(&driver, |client| async move {
        client.set_window_size(1280, 900).await.map_err(|e| e.to_string())?;
        body(client, url).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_site_runs_three_scenarios_side_by_side() {
    on_a_fresh_site("docs-site", |client, url| async move {
        client.goto(&format!("{url}docs/")).await.map_err(|e| e.to_string())?;
        wait_for(&client, "kite-playground#null-key").await?;
        // Both custom elements play to their end through their pauses, every expectation held.
        until(&client, ELEMENTS_JS, serde_json::json!(["true:0", "true:0"])).await?;
        // The iframe, the third scenario, on its own engine.
        let frame = wait_for(&client, "iframe#kill-the-leader").await?;
        frame.enter_frame().await.map_err(|e| e.to_string())?;
        wait_for(&client, "#scenario-paused").await?;
        click(&client, "#scenario-continue").await?;
        // Its question: the reader predicts NOT_ENOUGH_REPLICAS, and is right.
        click(&client, "#scenario-question .choice[data-choice='NOT_ENOUGH_REPLICAS']").await?;
        wait_for(&client, "#scenario-summary[data-finished='true'][data-failed='0']").await?;
        wait_for(&client, "#scenario-steps .verdict[data-verdict='held']").await?;
        // It is locked (`&locked=1`): the cluster view shows, its broker controls are off.
        wait_for(&client, "#brokers .stop-broker:disabled").await?;
        client.enter_parent_frame().await.map_err(|e| e.to_string())?;
        screenshot(&client, "docs-site").await?;

        // The Korean page: the same scenario, the widget in Korean.
        client.goto(&format!("{url}docs/ko/same-key.html")).await.map_err(|e| e.to_string())?;
        wait_for(&client, "kite-playground").await?;
        let heading = r#"const r = document.querySelector('kite-playground').shadowRoot;
            const h = r && r.querySelector('#scenario-title'); return !!h && h.textContent.trim().startsWith('시나리오');"#;
        until(&client, heading, serde_json::json!(true)).await?;
        // The scenario's own question in Korean (`ask "…" ko "…"`).
        let asked = r#"const r = document.querySelector('kite-playground').shadowRoot;
            const p = r && r.querySelector('#scenario-question-text'); return !!p && p.textContent.trim().startsWith('같은 key로');"#;
        until(&client, asked, serde_json::json!(true)).await?;
        // On a phone, the question in view: the page never scrolls sideways.
        client.set_window_size(390, 844).await.map_err(|e| e.to_string())?;
        let into_view = r#"document.querySelector('kite-playground').shadowRoot.querySelector('#scenario-question').scrollIntoView();
            return document.documentElement.scrollWidth - document.documentElement.clientWidth;"#;
        let sideways = client.execute(into_view, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "docs-ko-question-phone").await?;
        assert_eq!(sideways, serde_json::json!(0), "the Korean page scrolls sideways on a phone");
        // The run's own reports too: line 6's produce, said in Korean with its arithmetic.
        let report = r#"const r = document.querySelector('kite-playground').shadowRoot;
            const s = r && r.querySelector('#scenario-steps li[data-line="6"] .said');
            return s ? s.textContent.trim() : '';"#;
        let said = "orders-2의 offset 0에 기록: murmur2(\"a-little-bit-long-string\") = -985981536, & 0x7fffffff = 1161502112, % 3 = 2";
        until(&client, report, serde_json::json!(said)).await?;
        // A prediction's verdict in Korean.
        let verdict = r#"const r = document.querySelector('kite-playground').shadowRoot;
            const c = r && r.querySelector('#scenario-question .choice[data-choice="2"]'); if (c) c.click();
            const v = r && r.querySelector('#scenario-steps li[data-line="10"] .verdict');
            return v ? v.textContent.trim() : '';"#;
        until(&client, verdict, serde_json::json!("내 예측: 2 — 맞았습니다.")).await?;
        let page = client.source().await.map_err(|e| e.to_string())?;
        assert!(page.contains("murmur2 = -985981536"), "the page shows the arithmetic");

        // The glossary, Korean first, linked from the front page; on the phone it never scrolls
        // the page sideways.
        client.goto(&format!("{url}docs/ko/glossary.html")).await.map_err(|e| e.to_string())?;
        let isr = text_of(&client, "table.glossary tr#isr").await?;
        assert!(isr.starts_with("ISR (동기화된 복제본)") && isr.contains("min.insync.replicas"), "{isr}");
        let sideways = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;";
        let sideways = client.execute(sideways, vec![]).await.map_err(|e| e.to_string())?;
        assert_eq!(sideways, serde_json::json!(0), "the glossary scrolls sideways on a phone");
        screenshot(&client, "glossary-ko-phone").await?;
        client.goto(&format!("{url}docs/en/index.html")).await.map_err(|e| e.to_string())?;
        click(&client, "a[href='glossary.html']").await?;
        let partition = text_of(&client, "table.glossary tr#partition").await?;
        assert!(partition.starts_with("partition 파티션"), "{partition}");
        Ok(())
    })
    .await;
}

/// The chapters' page names in reading order, as `cargo xtask docs` reads them.
fn course() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/site/course.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect()
}

/// Whether every `<kite-playground>` on the page has played to its end with no expectation
/// failed (pressing on through it as `ELEMENTS_JS` does), has said so (`finished`), and the
/// chapter is marked.
fn chapter_done_js() -> String {
    format!(
        "const states = (() => {{ {ELEMENTS_JS} }})();
         const said = [...document.querySelectorAll('kite-playground')].every(e => e.hasAttribute('finished'));
         const tick = document.querySelector('.chapter-done');
         return said && states.every(s => s === 'true:0') && !!tick && !tick.hidden;"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_plays_every_chapter_in_order_and_remembers_them() {
    let chapters = course();
    on_a_fresh_site("docs-course", |client, url| async move {
        // Korean first, as the course is written; from the table of contents to the first chapter.
        client.goto(&format!("{url}docs/ko/index.html")).await.map_err(|e| e.to_string())?;
        let listed = r#"return [...document.querySelectorAll('#course li')].map(li => li.dataset.chapter);"#;
        until(&client, listed, serde_json::json!(chapters)).await?;
        click(&client, &format!("#course li[data-chapter='{}'] a", chapters[0])).await?;
        for (index, chapter) in chapters.iter().enumerate() {
            until(&client, "return location.pathname.split('/').pop();", serde_json::json!(chapter)).await?;
            let place = text_of(&client, ".chapter-place").await?;
            assert!(place.starts_with(&format!("{}장 / 전체 {}", index + 1, chapters.len())), "{chapter}: {place}");
            if index == 0 {
                // The first chapter's question, as a reader meets it.
                let asked = r#"const r = document.querySelector('kite-playground').shadowRoot;
                    const n = r && r.querySelector('#scenario-continue'); if (n && !n.disabled) n.click();
                    const q = r && r.querySelector('#scenario-question'); if (q) q.scrollIntoView();
                    return q ? 'asked' : (r ? r.querySelector('#scenario').textContent.slice(-300) : 'none');"#;
                until(&client, asked, serde_json::json!("asked")).await?;
                screenshot(&client, "course-chapter-ko").await?;
            }
            until(&client, &chapter_done_js(), serde_json::json!(true)).await?;
            if index + 1 < chapters.len() {
                click(&client, "nav.prev-next a[rel='next']").await?;
            }
        }
        // The last chapter leads nowhere further.
        let next = client.find_all(fantoccini::Locator::Css("nav.prev-next a[rel='next']")).await;
        assert!(next.map_err(|e| e.to_string())?.is_empty(), "the last chapter has a next");
        // The table of contents marks every chapter done, and says so.
        client.goto(&format!("{url}docs/ko/index.html")).await.map_err(|e| e.to_string())?;
        let done = r#"return document.querySelectorAll('#course li.done').length;"#;
        until(&client, done, serde_json::json!(chapters.len())).await?;
        let progress = text_of(&client, "#course-progress").await?;
        let total = chapters.len();
        assert_eq!(progress, format!("전체 {total}장 중 {total}장을 마쳤습니다 (이 브라우저에 저장)."));
        // Progress is the browser's, not the language's: the English contents count it too.
        client.goto(&format!("{url}docs/en/index.html")).await.map_err(|e| e.to_string())?;
        until(&client, done, serde_json::json!(chapters.len())).await?;
        screenshot(&client, "course-en").await?;
        // Fourteen chapters and both contents read without an error or a console message.
        let log = kite_e2e::browser_log(&client).await?;
        assert!(log.is_empty(), "the console is not quiet on the course: {log:?}");
        // On a phone a chapter reads without sideways scrolling, its way on below it.
        client.set_window_size(390, 844).await.map_err(|e| e.to_string())?;
        client.goto(&format!("{url}docs/ko/serialization.html")).await.map_err(|e| e.to_string())?;
        wait_for(&client, "nav.prev-next a[rel='prev']").await?;
        let sideways = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;";
        let sideways = client.execute(sideways, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "course-chapter-ko-phone").await?;
        assert_eq!(sideways, serde_json::json!(0), "a chapter scrolls sideways on a phone");
        Ok(())
    })
    .await;
}

/// Both sides of the page's `<kite-compare>`: each side's last step line, the lines it marks as
/// differing, and `finished:failed`.
const SIDES_JS: &str = r#"
return [...document.querySelectorAll('kite-compare figure')].map(f => {
  const root = f.querySelector('kite-playground').shadowRoot;
  const steps = root ? [...root.querySelectorAll('#scenario-steps li[data-line]')] : [];
  const summary = root && root.querySelector('#scenario-summary');
  return [steps.length ? steps[steps.length - 1].dataset.line : '',
    steps.filter(li => li.hasAttribute('data-differs')).map(li => li.dataset.line).join(','),
    summary ? summary.dataset.finished + ':' + summary.dataset.failed : 'none'];
});
"#;

/// Presses Continue on one side (`a` or `b`) only.
fn press_continue(side: &str) -> String {
    format!(
        "const r = document.querySelector('kite-compare figure[data-side=\"{side}\"] kite-playground').shadowRoot;
         const b = r && r.querySelector('#scenario-continue'); if (b && !b.disabled) b.click(); return !!b;"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comparison_runs_two_engines_in_lockstep_and_marks_where_they_part() {
    on_a_fresh_site("docs-compare", |client, url| async move {
        client.goto(&format!("{url}docs/en/producers.html")).await.map_err(|e| e.to_string())?;
        // Both sides stop at the script's first pause (line 6), nothing different yet.
        let at_first_pause = serde_json::json!([["6", "", "false:0"], ["6", "", "false:0"]]);
        until(&client, SIDES_JS, at_first_pause).await?;
        assert_eq!(text_of(&client, "kite-compare figure[data-side='a'] figcaption").await?, "acks=1");
        // Continue on the left only: the right follows to the next pause, and the produce and
        // its expectation (lines 9, 10) are marked on both, the first named below them.
        client.execute(&press_continue("a"), vec![]).await.map_err(|e| e.to_string())?;
        let parted = serde_json::json!([["11", "9,10", "false:0"], ["11", "9,10", "false:0"]]);
        until(&client, SIDES_JS, parted).await?;
        let summary = text_of(&client, ".kite-compare-difference").await?;
        assert!(
            summary.starts_with("They part at line 9. acks=1: payments-0 @ offset 1")
                && summary.contains("acks=all: REQUEST_TIMED_OUT"),
            "{summary}"
        );
        let into_view = "document.querySelector('kite-compare').scrollIntoView(); return true;";
        client.execute(into_view, vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "compare").await?;
        // Continue on the right this time: both play to their end, every expectation held.
        client.execute(&press_continue("b"), vec![]).await.map_err(|e| e.to_string())?;
        let done = r#"const s = [...document.querySelectorAll('kite-compare kite-playground')];
            return s.length === 2 && s.every(w => w.hasAttribute('finished'));"#;
        until(&client, done, serde_json::json!(true)).await?;
        let ends: serde_json::Value = client.execute(SIDES_JS, vec![]).await.map_err(|e| e.to_string())?;
        assert_eq!(ends[0][2], "true:0", "{ends}");
        assert_eq!(ends[1][2], "true:0", "{ends}");
        Ok(())
    })
    .await;
}

/// axe-core's checks (WCAG 2 A and AA) on the page as it is now, shadow roots included: each
/// serious or critical violation as `rule: where`, none when the page passes.
async fn accessibility_violations(client: &fantoccini::Client) -> Result<Vec<String>, String> {
    let axe = kite_e2e::env_path("KITE_NODE_MODULES").join("axe-core").join("axe.min.js");
    let source = std::fs::read_to_string(&axe).map_err(|e| format!("{}: {e}", axe.display()))?;
    client.execute(&format!("{source}\nreturn typeof axe;"), vec![]).await.map_err(|e| e.to_string())?;
    let run = r#"const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } })
          .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => JSON.stringify(n.target)).join(' | '))))
          .catch(e => done(['axe failed: ' + e]));"#;
    let found = client.execute_async(run, vec![]).await.map_err(|e| e.to_string())?;
    serde_json::from_value(found).map_err(|e| e.to_string())
}

/// Keyboard-only readers and screen readers: the course's front page, a chapter with its widget
/// stopped at a question, a comparison, and the playground itself (fresh, and with a topic, a
/// record and the Code view) pass axe-core's WCAG 2 A/AA checks with no serious or critical
/// violation, in Korean and in English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_course_and_the_playground_pass_axe_cores_checks() {
    on_a_fresh_site("docs-axe", |client, url| async move {
        let mut report = Vec::new();
        for page in
            ["docs/ko/index.html", "docs/ko/what-is-kafka.html", "docs/en/producers.html", "?lang=ko", ""]
        {
            client.goto(&format!("{url}{page}")).await.map_err(|e| e.to_string())?;
            if page.contains("what-is-kafka") {
                let asked = r#"const r = document.querySelector('kite-playground').shadowRoot;
                    const n = r && r.querySelector('#scenario-continue'); if (n && !n.disabled) n.click();
                    return !!(r && r.querySelector('#scenario-question .choice'));"#;
                until(&client, asked, serde_json::json!(true)).await?;
            } else if page.contains("producers") {
                wait_for(&client, "kite-compare figure[data-side='b'] kite-playground").await?;
                until(&client, SIDES_JS, serde_json::json!([["6", "", "false:0"], ["6", "", "false:0"]]))
                    .await?;
            } else if !page.starts_with("docs") {
                wait_for(&client, "#status[data-status='ready']").await?;
            }
            let found = accessibility_violations(&client).await?;
            report.extend(found.into_iter().map(|v| format!("/{page}: {v}")));
        }
        // The playground once used: a topic, a record in the partitions and the map, the Code view's
        // tool buttons and snippet.
        kite_e2e::fill(&client, "#topic-name", "orders").await?;
        click(&client, "#create-topic").await?;
        wait_for(&client, "[data-topic='orders']").await?;
        kite_e2e::fill(&client, "#produce-key", "customer-42").await?;
        click(&client, "#produce-send").await?;
        wait_for(&client, "#produce-result[data-offset='0']").await?;
        wait_for(&client, "#code .code-tool[aria-pressed='true']").await?;
        report.extend(accessibility_violations(&client).await?.into_iter().map(|v| format!("/ (used): {v}")));
        assert!(report.is_empty(), "axe-core found serious violations:\n{}", report.join("\n"));
        Ok(())
    })
    .await;
}
