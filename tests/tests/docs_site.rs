//! The docs site `kite serve` serves under /docs (built by `cargo xtask docs`): its front page
//! runs three scenarios side by side — two `<kite-playground>` custom elements and one locked
//! iframe — each on its own engine, and every expectation in them holds; the Korean pages show
//! the widget in Korean; the glossary gives each term in both languages.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_site_runs_three_scenarios_side_by_side() {
    let data = TempDir::new("docs-site");
    let server = KiteServer::start(data.path());
    let driver = ChromeDriver::start();
    let url = server.url();

    with_browser(&driver, |client| async move {
        client.set_window_size(1280, 900).await.map_err(|e| e.to_string())?;
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
