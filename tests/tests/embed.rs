//! A docs scenario embedded: the compact widget (`?embed=1&scenario=…`) plays
//! docs/scenarios/same-key.kite on the engine in the tab, stops at each of the reader's
//! questions, takes a wrong prediction and a right one and says which was which, plays to the end
//! with every expectation held, and links to the full playground with the same scenario; a script
//! with a mistake shows its line-numbered error inside the widget.

use kite_e2e::{ChromeDriver, KiteServer, TempDir, click, screenshot, text_of, wait_for, with_browser};
use kite_shared::scenario::to_url;

/// The size a docs page gives the widget.
const EMBED_WIDTH_PX: u32 = 1280;
const EMBED_HEIGHT_PX: u32 = 720;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docs_scenario_plays_in_the_embedded_widget() {
    let data = TempDir::new("embed");
    let server = KiteServer::start(data.path());
    let driver = ChromeDriver::start();
    let url = server.url();
    let script = include_str!("../../docs/scenarios/same-key.kite");

    with_browser(&driver, |client| async move {
        client.set_window_size(EMBED_WIDTH_PX, EMBED_HEIGHT_PX).await.map_err(|e| e.to_string())?;
        client
            .goto(&format!("{url}?embed=1&scenario={}", to_url(script)))
            .await
            .map_err(|e| e.to_string())?;
        // Up to the reader's first question: the same key's first record on partition 2
        // (kafka-reference.md §3), the arithmetic said.
        let asked = text_of(&client, "#scenario-question-text").await?;
        assert!(asked.contains("The same key again"), "{asked}");
        wait_for(&client, "#scenario-steps li[data-outcome='passed']").await?;
        let steps = text_of(&client, "#scenario-steps").await?;
        assert!(steps.contains("% 3 = 2") && steps.contains("✓ partition 2"), "{steps}");
        let headers =
            client.find_all(fantoccini::Locator::Css("header.top")).await.map_err(|e| e.to_string())?;
        assert!(headers.is_empty(), "an embed has no page header");
        screenshot(&client, "embed-question").await?;
        // A wrong prediction: the engine runs on and says so under the expectation that settles it.
        click(&client, "#scenario-question .choice[data-choice='1']").await?;
        let missed =
            text_of(&client, "#scenario-steps li[data-line='10'] .verdict[data-verdict='missed']").await?;
        assert_eq!(missed, "Your prediction: 1 — the engine's answer is 2.");
        // Only the chosen views: the producer and the partitions of `orders`.
        wait_for(&client, ".partition[data-partition='2'] .record[data-offset='1']").await?;
        let asked = text_of(&client, "#scenario-question-text").await?;
        assert!(asked.contains("Now key foobar"), "{asked}");
        // A right one, and the script's end.
        click(&client, "#scenario-question .choice[data-choice='0']").await?;
        wait_for(&client, "#scenario-summary[data-finished='true'][data-failed='0']").await?;
        let held =
            text_of(&client, "#scenario-steps li[data-line='14'] .verdict[data-verdict='held']").await?;
        assert_eq!(held, "Your prediction: 0 — right.");
        let summary = text_of(&client, "#scenario-summary").await?;
        assert!(summary.starts_with("5 expectations held, 0 failed"), "{summary}");
        wait_for(&client, ".partition[data-partition='0'] .record[data-offset='0']").await?;
        screenshot(&client, "embed").await?;
        // The full playground opens the same scenario, with every view.
        let full = wait_for(&client, "#open-full").await?.attr("href").await.map_err(|e| e.to_string())?;
        let full = full.ok_or("the link has no href")?;
        assert!(!full.contains("embed=1") && full.contains("scenario=v1."), "{full}");
        client.goto(&format!("{}{}", url.trim_end_matches('/'), full)).await.map_err(|e| e.to_string())?;
        wait_for(&client, "header.top").await?;
        wait_for(&client, "#scenario-question").await?;
        wait_for(&client, "#cluster").await?;

        // A mistake in the script: the widget says where, instead of staying blank.
        let broken = "seed 1\ntopic orders partitions three\n";
        client
            .goto(&format!("{url}?embed=1&scenario={}", to_url(broken)))
            .await
            .map_err(|e| e.to_string())?;
        let error = text_of(&client, "#scenario-error").await?;
        assert_eq!(error, "INVALID_REQUEST: line 2: partitions expects a number, found `three`");
        Ok(())
    })
    .await;
}
