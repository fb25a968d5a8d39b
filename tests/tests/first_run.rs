//! The first minutes of a newcomer, in real Chromium on a fresh profile: the page opens with no
//! error and nothing in the console, Kafka's internal topic is neither listed nor the target, a
//! welcome card offers a one-click start (in English and Korean, wide and phone-sized, with no
//! sideways scroll), and the start leaves a topic, keyed records and a group that read them all.

use fantoccini::{Client, Locator};
use kite_e2e::{
    ChromeDriver, KiteServer, TempDir, browser_log, click, fill, horizontal_overflow, screenshot, text_of,
    until, wait_for, with_browser,
};

/// A laptop's window, and a phone's (an iPhone 12–15's CSS pixels).
const WIDE: (u32, u32) = (1440, 900);
const PHONE: (u32, u32) = (390, 844);
/// The layout's bounds: no sideways scroll from the one to the other.
const NARROWEST: (u32, u32) = (360, 740);
const WIDEST: (u32, u32) = (2560, 1440);

async fn resize(client: &Client, (width, height): (u32, u32)) -> Result<(), String> {
    client.set_window_size(width, height).await.map_err(|e| e.to_string())
}

async fn count(client: &Client, css: &str) -> Result<usize, String> {
    Ok(client.find_all(Locator::Css(css)).await.map_err(|e| e.to_string())?.len())
}

/// The page at `size` has no sideways scroll; a screenshot named `name` is kept.
async fn look(client: &Client, size: (u32, u32), name: &str) -> Result<(), String> {
    resize(client, size).await?;
    // A frame for the layout to follow the new width.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (overflow, widest) = horizontal_overflow(client).await?;
    if overflow > 0 {
        return Err(format!("{name}: the page scrolls sideways by {overflow} px; widest: {widest}"));
    }
    screenshot(client, name).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_starts_with_one_click_and_sees_no_error() {
    let data = TempDir::new("first-run");
    let server = KiteServer::start(data.path());
    let driver = ChromeDriver::start();
    let url = server.url();

    with_browser(&driver, |client| async move {
        resize(&client, WIDE).await?;
        client.goto(&url).await.map_err(|e| e.to_string())?;
        wait_for(&client, "#status[data-status='ready']").await?;
        // The card waits for the cluster's description; the views have asked their first
        // questions by then.
        wait_for(&client, "#welcome").await?;
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        if count(&client, "#error").await? > 0 {
            return Err(format!("a fresh page shows an error: {}", text_of(&client, "#error").await?));
        }
        assert_eq!(count(&client, "[data-topic='__consumer_offsets']").await?, 0, "internal topic listed");
        let target = text_of(&client, "#producer").await?;
        assert!(!target.contains("__consumer_offsets"), "the producer targets an internal topic: {target}");
        let welcome = text_of(&client, "#welcome").await?;
        assert!(welcome.contains("A Kafka cluster of 3 brokers is running in this tab."), "{welcome}");
        assert!(welcome.contains("replication factor 3"), "{welcome}");
        look(&client, WIDE, "first-run-en-wide").await?;
        look(&client, PHONE, "first-run-en-phone").await?;

        // The same in Korean.
        client.goto(&format!("{url}?lang=ko")).await.map_err(|e| e.to_string())?;
        wait_for(&client, "#welcome").await?;
        assert_eq!(text_of(&client, "#welcome-title").await?, "Kite에 오신 것을 환영합니다");
        look(&client, PHONE, "first-run-ko-phone").await?;
        look(&client, WIDE, "first-run-ko-wide").await?;

        // One click: the topic, six keyed records, a consumer of the group reading them all.
        client.goto(&format!("{url}?lang=en")).await.map_err(|e| e.to_string())?;
        click(&client, "#welcome-start").await?;
        wait_for(&client, "[data-topic='orders']").await?;
        // The tour: five steps, each pointing at its part of the page, then gone.
        let pointed = ["#map", "#producer", "#partitions", "#map .map-broker", "#consumers"];
        for (step, target) in pointed.iter().enumerate() {
            wait_for(&client, &format!("#tour[data-step='{}']", step + 1)).await?;
            wait_for(&client, &format!("{target}[data-tour='here']")).await?;
            if step == 1 {
                look(&client, PHONE, "first-run-tour-phone").await?;
                resize(&client, WIDE).await?;
            }
            let next = if step + 1 == pointed.len() { "#tour-done" } else { "#tour-next" };
            click(&client, next).await?;
        }
        assert_eq!(count(&client, "#tour").await?, 0, "the tour ends");
        assert_eq!(count(&client, "[data-tour]").await?, 0, "and points at nothing");
        for partition in 0..3 {
            wait_for(
                &client,
                &format!("#group-description tr[data-partition='orders-{partition}'][data-lag='0']"),
            )
            .await?;
        }
        let described = text_of(&client, "#group-description .group-state").await?;
        assert!(described.contains("billing · Stable") && described.contains("1 member(s)"), "{described}");
        let listed = text_of(&client, "#topics [data-topic='orders']").await?;
        assert!(listed.contains("3 partitions · 6 records"), "{listed}");
        assert_eq!(count(&client, "#welcome").await?, 0, "the card stays after its start");
        let topic_id = text_of(&client, "#topic-id code").await?;
        assert_eq!(topic_id.len(), 22, "Kafka's topic id: {topic_id}");

        // A key lands where Kafka's murmur2 puts it (kafka-reference.md §3: partition 2 of 3).
        fill(&client, "#produce-key", "a-little-bit-long-string").await?;
        click(&client, "#produce-send").await?;
        // The welcome's own last record is on show until this one's answer replaces it.
        let answered = r#"const r = document.querySelector('#produce-result');
            return !!r && r.textContent.includes('(24 bytes)');"#;
        until(&client, answered, serde_json::json!(true)).await?;
        let result = wait_for(&client, "#produce-result[data-partition]").await?;
        assert_eq!(result.attr("data-partition").await.map_err(|e| e.to_string())?.as_deref(), Some("2"));

        // The protocol inspector shows it as the Kafka request a client would send: a
        // ProduceRequest v11 whose batch header is mapped field by field to its bytes.
        let produce = "#inspector li.exchange[data-api='Produce']";
        wait_for(&client, &format!("{produce} tr[data-field='batch 0: magic']")).await?;
        let line = text_of(&client, &format!("{produce} summary")).await?;
        assert!(line.contains("Produce v11") && line.contains("kite-ui"), "{line}");
        click(&client, &format!("{produce} summary")).await?;
        let magic = text_of(&client, &format!("{produce} tr[data-field='batch 0: magic']")).await?;
        assert!(magic.contains("59–59") && magic.trim_end().ends_with("02"), "magic 2 at byte 59: {magic}");
        wait_for(&client, "#inspector li.exchange[data-api='CreateTopics']").await?;
        let show = format!("document.querySelector(\"{produce}\").scrollIntoView()");
        for (size, name) in [(PHONE, "inspector-in-tab-phone"), (WIDE, "inspector-in-tab")] {
            resize(&client, size).await?;
            client.execute(&show, vec![]).await.map_err(|e| e.to_string())?;
            look(&client, size, name).await?;
        }

        // The map draws it: the producer's arrow to partition 2's leader, the group and its lag.
        wait_for(&client, "#map .map-producer[data-target='orders-2']").await?;
        wait_for(&client, "#map .map-group[data-group='billing']").await?;
        let leader = wait_for(&client, ".partition[data-partition='2']").await?.attr("data-leader").await;
        let leader = leader.map_err(|e| e.to_string())?.ok_or("partition 2 has no leader")?;
        wait_for(&client, &format!("#map [data-replica='orders-2@{leader}'][data-role='leader']")).await?;
        assert_eq!(count(&client, "#map [data-replica^='orders-2@']").await?, 3, "three replicas on the map");
        // The record itself flew there, coloured by its key; landed, it opens its lineage.
        let offset = result.attr("data-offset").await.map_err(|e| e.to_string())?.unwrap_or_default();
        let flight = format!("#map .flight[data-partition='orders-2'][data-offset='{offset}']");
        wait_for(&client, &flight).await?;
        // Landed (its flight takes 0.6 s): a moving target is not where the click is aimed.
        tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
        click(&client, &flight).await?;
        wait_for(&client, &format!("#lineage[data-partition='2'][data-offset='{offset}']")).await?;
        // A replica block opens its partition's log: the row comes into view with the focus.
        click(&client, &format!("#map [data-replica='orders-1@{leader}']")).await?;
        let focused = r#"const a = document.activeElement;
            return a ? a.getAttribute('data-partition') : null;"#;
        until(&client, focused, serde_json::json!("1")).await?;
        look(&client, WIDE, "first-run-started").await?;
        look(&client, PHONE, "first-run-started-phone").await?;
        // The narrowest phone and the widest screen the layout is for.
        look(&client, NARROWEST, "first-run-started-360").await?;
        look(&client, WIDEST, "first-run-started-2560").await?;
        resize(&client, WIDE).await?;

        // kafka-delete-records from the record's lineage: orders-2 starts at that record now.
        click(&client, "#delete-records").await?;
        let start = r#"const o = document.querySelector(".partition[data-partition='2'] .offsets");
            return o ? o.textContent : '';"#;
        let high_watermark = offset.parse::<i64>().map_err(|e| e.to_string())? + 1;
        until(&client, start, serde_json::json!(format!("start {offset} · HW {high_watermark}"))).await?;
        let notice = text_of(&client, "#notice").await?;
        assert!(
            notice.starts_with(&format!("Records of orders-2 before offset {offset} deleted")),
            "{notice}"
        );
        // kafka-topics --alter --partitions: one more, on the map and in the partitions view.
        click(&client, "#add-partition").await?;
        wait_for(&client, ".partition[data-partition='3']").await?;
        wait_for(&client, "#map [data-replica^='orders-3@']").await?;
        assert_eq!(text_of(&client, "#notice").await?, "orders now has 4 partitions.");
        // kafka-reassign-partitions: orders-3 moves off broker 0 (its replicas shrink to 1,2
        // at once: nothing to catch up), and the map redraws its column.
        client
            .execute(
                "const s = document.getElementById('move-partition'); s.value = '3';
                 s.dispatchEvent(new Event('change', { bubbles: true }));",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        client.find(Locator::Css("#move-brokers")).await.map_err(|e| e.to_string())?.send_keys("1,2").await.map_err(|e| e.to_string())?;
        // Under a throttle (kafka-reassign-partitions --throttle): the rates on every broker the
        // move touches, listed in the cluster view; cleared afterwards as --verify clears them.
        fill(&client, "#move-throttle", "1000000").await?;
        click(&client, "#move-start").await?;
        let moved = r##"return [...document.querySelectorAll("#map [data-replica^='orders-3@']")]
            .map(b => b.getAttribute('data-replica')).sort().join(' ');"##;
        until(&client, moved, serde_json::json!("orders-3@1 orders-3@2")).await?;
        let rates = text_of(&client, "#replication-throttle").await?;
        assert!(
            rates.starts_with("Replication throttled (KIP-73): broker 0: follower.replication.throttled.rate=1000000 B/s"),
            "{rates}"
        );
        click(&client, "#throttle-clear").await?;
        until(&client, "return document.querySelectorAll('#replication-throttle, #throttle-clear').length", serde_json::json!(0)).await?;
        // kafka-leader-election: the preferred replica, broker 1, leads orders-3 afterwards.
        click(&client, "#elect-preferred").await?;
        let leader_of_3 = r#"const p = document.querySelector(".partition[data-partition='3']");
            return p ? p.getAttribute('data-leader') : null;"#;
        until(&client, leader_of_3, serde_json::json!("1")).await?;
        client
            .execute("document.getElementById('partitions').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        look(&client, WIDE, "first-run-admin").await?;

        // enable.idempotence: a producer id, each record's sequence, and "Retry this batch" sending
        // the last record again as it went: the leader refuses the duplicate, same offset.
        click(&client, "#enable-idempotence").await?;
        wait_for(&client, "#producer-id").await?;
        click(&client, "#produce-send").await?;
        let sequenced = wait_for(&client, "#produce-sequence").await?.text().await.map_err(|e| e.to_string())?;
        // orders has four partitions now: the key lands wherever murmur2 % 4 puts it.
        assert!(sequenced.contains(", sequence 0 in orders-"), "{sequenced}");
        let offset_of = r#"return document.querySelector('#produce-result').getAttribute('data-offset');"#;
        let first = client.execute(offset_of, vec![]).await.map_err(|e| e.to_string())?;
        click(&client, "#produce-retry").await?;
        let duplicate = wait_for(&client, "#produce-duplicate").await?.text().await.map_err(|e| e.to_string())?;
        assert!(duplicate.contains("Nothing was written twice"), "{duplicate}");
        assert_eq!(client.execute(offset_of, vec![]).await.map_err(|e| e.to_string())?, first, "the first offset");
        look(&client, WIDE, "first-run-idempotent-retry").await?;
        // Without idempotence the same retry is a second copy, at the next offset.
        click(&client, "#enable-idempotence").await?;
        click(&client, "#produce-send").await?;
        let plain = r#"return !!document.querySelector('#produce-result')
            && !document.querySelector('#produce-sequence') && !document.querySelector('#produce-duplicate');"#;
        until(&client, plain, serde_json::json!(true)).await?;
        let sent = client.execute(offset_of, vec![]).await.map_err(|e| e.to_string())?;
        click(&client, "#produce-retry").await?;
        wait_for(&client, "#produce-written-twice").await?;
        let again = client.execute(offset_of, vec![]).await.map_err(|e| e.to_string())?;
        let as_number = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<i64>().ok());
        assert_eq!(as_number(&again), as_number(&sent).map(|o| o + 1), "written again: {sent} then {again}");

        // A transaction: Begin (the coordinator hands out the producer id), a record sent in it —
        // open, so read_committed cannot see it and the partition shows its last stable offset —
        // then Abort: an ABORT marker takes the next offset and the record is struck.
        click(&client, "#txn-begin").await?;
        wait_for(&client, "#txn-coordinator[data-state='Empty']").await?;
        click(&client, "#produce-send").await?;
        // The state says "open" as soon as the partition is added, its record a moment later.
        let open_with_its_record = r##"const s = document.querySelector("#txn-state[data-open='true']");
            return !!s && s.textContent.startsWith('Transaction open: 1 records to orders-');"##;
        until(&client, open_with_its_record, serde_json::json!(true)).await?;
        wait_for(&client, ".partition .lso").await?;
        wait_for(&client, ".record.txn-open").await?;
        // The page's consumer has read orders: its positions go with the transaction as the
        // group's offsets (sendOffsetsToTransaction).
        click(&client, "#txn-send-offsets:not([disabled])").await?;
        let with_offsets = r#"const s = document.querySelector('#txn-state');
            return !!s && s.textContent.includes("Group billing's offsets go with it.");"#;
        until(&client, with_offsets, serde_json::json!(true)).await?;
        look(&client, WIDE, "first-run-transaction-offsets").await?;
        click(&client, "#txn-abort").await?;
        wait_for(&client, "#txn-state[data-ended='false']").await?;
        wait_for(&client, ".record.marker-abort[data-marker='ABORT']").await?;
        wait_for(&client, ".record.txn-aborted").await?;
        wait_for(&client, "#txn-coordinator[data-state='CompleteAbort']").await?;
        assert_eq!(count(&client, ".partition .lso").await?, 0, "nothing open: no last stable offset shown");
        look(&client, WIDE, "first-run-transaction").await?;

        // A broker stopped from the map: its replica goes offline and another leads partition 2.
        click(&client, &format!("#map [data-broker='{leader}'] .broker-head")).await?;
        click(&client, &format!("#map-actions[data-broker='{leader}'] .stop-broker")).await?;
        wait_for(&client, &format!("#map [data-replica='orders-2@{leader}'][data-role='offline']")).await?;
        let new_leader = wait_for(&client, "#map [data-replica^='orders-2@'][data-role='leader']").await?;
        let moved = new_leader.attr("data-replica").await.map_err(|e| e.to_string())?.unwrap_or_default();
        assert_ne!(moved, format!("orders-2@{leader}"), "the leadership moved");
        // And the map says so as it happens: the new leader pulses, changed.
        wait_for(&client, &format!("#map [data-replica='{moved}'][data-changed='true']")).await?;
        look(&client, WIDE, "first-run-broker-stopped").await?;
        click(&client, &format!("#map-actions[data-broker='{leader}'] .start-broker")).await?;
        wait_for(&client, &format!("#map [data-broker='{leader}'][data-state='up']")).await?;

        // The KRaft quorum under the brokers: the active controller stopped, the other two elect
        // another once their fetch timeout passes; started again, it follows.
        let active = wait_for(&client, "#map .map-controller[data-state='active']").await?;
        let first = active.attr("data-controller").await.map_err(|e| e.to_string())?.unwrap_or_default();
        click(&client, &format!("#map .map-controller[data-controller='{first}']")).await?;
        click(&client, &format!("#controller-actions[data-controller='{first}'] .stop-controller")).await?;
        wait_for(&client, &format!("#map [data-controller='{first}'][data-state='stopped']")).await?;
        wait_for(&client, &format!("#map .map-controller[data-state='active']:not([data-controller='{first}'])"))
            .await?;
        look(&client, WIDE, "first-run-controller-failover").await?;
        click(&client, &format!("#controller-actions[data-controller='{first}'] .start-controller")).await?;
        wait_for(&client, &format!("#map [data-controller='{first}'][data-state='follower']")).await?;

        // Scale out and in from the map: a fourth broker joins holding nothing; then broker 0
        // leaves, its replicas moved to the others first, and its column goes.
        click(&client, "#add-broker").await?;
        wait_for(&client, "#map [data-broker='3'][data-state='up']").await?;
        assert_eq!(
            text_of(&client, "#notice").await?,
            "Broker 3 added: it holds nothing until partitions move to it."
        );
        assert_eq!(count(&client, "#map [data-replica$='@3']").await?, 0, "a new broker holds nothing");
        // Broker 0's actions, unless they are open already (it was the broker stopped above).
        if count(&client, "#map-actions[data-broker='0']").await? == 0 {
            click(&client, "#map [data-broker='0'] .broker-head").await?;
        }
        click(&client, "#map-actions[data-broker='0'] .remove-broker").await?;
        let leaving = r#"const n = document.getElementById('notice');
            return !!n && n.textContent.startsWith('Broker 0 is leaving: ');"#;
        until(&client, leaving, serde_json::json!(true)).await?;
        let gone = r##"return !document.querySelector("#map [data-broker='0']")
            && !!document.querySelector("#map [data-replica$='@3']");"##;
        until(&client, gone, serde_json::json!(true)).await?;
        look(&client, WIDE, "first-run-broker-removed").await?;

        // Kafka's own topic shows when asked for.
        click(&client, "#show-internal").await?;
        wait_for(&client, "[data-topic='__consumer_offsets']").await?;

        // Dismissed for good: a reload does not bring the card back.
        client.refresh().await.map_err(|e| e.to_string())?;
        wait_for(&client, "#cluster-summary").await?;
        assert_eq!(count(&client, "#welcome").await?, 0, "the card came back after a reload");
        // The aborted record is still struck: its partition's `.txnindex` came back from IndexedDB.
        wait_for(&client, ".record.txn-aborted").await?;
        assert_eq!(count(&client, "#error").await?, 0, "an error after the start");

        // On the server (a fresh one): no error there either, and the map draws its brokers.
        click(&client, "#server-connect").await?;
        wait_for(&client, "#status[data-status='ready']").await?;
        let status = text_of(&client, "#status").await?;
        assert!(status.contains("kite serve"), "{status}");
        wait_for(&client, "#map [data-broker='2']").await?;
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        if count(&client, "#error").await? > 0 {
            return Err(format!("an error on the server's fresh cluster: {}", text_of(&client, "#error").await?));
        }

        let log = browser_log(&client).await?;
        assert!(log.is_empty(), "the console is not quiet: {log:?}");
        Ok(())
    })
    .await;
}
