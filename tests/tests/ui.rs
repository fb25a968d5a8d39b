//! The first slice end to end: the real UI in headless Chromium creates a topic and produces keyed
//! records, first on the engine running in the tab (wasm in a Web Worker) — where a consumer group
//! of two then reads them to lag 0 — then on `kite serve` over the websocket. Expected partitions are Kafka's, from kafka-reference.md §3 — not computed
//! by Kite's own code.

use fantoccini::{Client, Locator};
use kite_e2e::{
    ChromeDriver, KiteServer, TempDir, click, fill, screenshot, select, text_of, wait_for, with_browser,
};

/// Browser window for screenshots: a laptop screen.
const WINDOW_WIDTH_PX: u32 = 1280;
const WINDOW_HEIGHT_PX: u32 = 800;

async fn create_topic(client: &Client, name: &str, partitions: u32) -> Result<(), String> {
    fill(client, "#topic-name", name).await?;
    fill(client, "#topic-partitions", &partitions.to_string()).await?;
    click(client, "#create-topic").await?;
    wait_for(client, &format!("[data-topic='{name}']")).await.map(|_| ())
}

/// Produces one record and returns the (partition, offset) the engine answered with.
async fn produce(
    client: &Client,
    key: &str,
    value: &str,
    expected_offset: i64,
) -> Result<(i64, i64), String> {
    fill(client, "#produce-key", key).await?;
    fill(client, "#produce-value", value).await?;
    click(client, "#produce-send").await?;
    let result = match wait_for(client, &format!("#produce-result[data-offset='{expected_offset}']")).await {
        Ok(result) => result,
        // What the producer shows instead (its topic, an error, another offset) says why.
        Err(waited) => {
            let producer = text_of(client, "#producer").await.unwrap_or_default();
            let error = text_of(client, "#error").await.unwrap_or_default();
            return Err(format!("{waited}; the producer shows: {producer:?}; the error: {error:?}"));
        }
    };
    let attr = |name: &'static str| {
        let result = result.clone();
        async move {
            result
                .attr(name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or(format!("no {name}"))?
                .parse::<i64>()
                .map_err(|e| e.to_string())
        }
    };
    Ok((attr("data-partition").await?, attr("data-offset").await?))
}

async fn wait_ready(client: &Client, engine: &str) -> Result<(), String> {
    wait_for(client, "#status[data-status='ready']").await?;
    let status = text_of(client, "#status").await?;
    if !status.contains(engine) {
        return Err(format!("status says {status:?}, expected the {engine} engine"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_in_the_tab_and_on_the_server() {
    let data = TempDir::new("ui");
    let server = KiteServer::start(data.path());
    let driver = ChromeDriver::start();
    let (url, ws_url) = (server.url(), server.ws_url());
    // A second server, as a team would run one: a token required, the first server's page allowed.
    let origin = url.trim_end_matches('/').to_string();
    let secured_data = TempDir::new("ui-secured");
    let secured =
        KiteServer::start_with(secured_data.path(), &["--token", "s3cret", "--allow-origin", &origin]);
    let secured_addr = secured.addr.to_string();
    let secured = std::sync::Mutex::new(secured);
    let secured = &secured;

    with_browser(&driver, |client| async move {
        client.set_window_size(WINDOW_WIDTH_PX, WINDOW_HEIGHT_PX).await.map_err(|e| e.to_string())?;
        client.goto(&url).await.map_err(|e| e.to_string())?;

        // In the tab: the engine is wasm in a Web Worker; no server involved.
        wait_ready(&client, "in-tab worker").await?;
        create_topic(&client, "orders", 3).await?;
        // kafka-reference.md §3: "a-little-bit-long-string" → partition 2 of 3.
        let placed = produce(&client, "a-little-bit-long-string", "first", 0).await?;
        assert_eq!(placed, (2, 0), "Kafka places this key on partition 2 of 3");
        // Same key, same partition, next offset.
        let placed = produce(&client, "a-little-bit-long-string", "second", 1).await?;
        assert_eq!(placed, (2, 1));
        // "foobar" → partition 0 of 3.
        let placed = produce(&client, "foobar", "third", 0).await?;
        assert_eq!(placed, (0, 0));
        wait_for(&client, ".partition[data-partition='2'] .record[data-offset='1']").await?;
        let explanation = text_of(&client, "#produce-result .explanation").await?;
        assert!(explanation.contains("murmur2(key bytes) = -790332482"), "{explanation}");
        assert!(explanation.contains("1357151166 % 3 partitions = 0"), "{explanation}");
        // Copy the code: the same produce as the Kafka CLI, and as kcat with the partitioner that
        // agrees with Kite's (librdkafka's own default would hash the key differently).
        let cli = text_of(&client, "#code #code-text").await?;
        assert!(cli.starts_with("printf '%s\\n' foobar:third | kafka-console-producer.sh --bootstrap-server 127.0.0.1:9092 --topic orders"), "{cli}");
        // The tabs sit low in the side panel, under the page's floating parts: pressed in place.
        let press = |tool: &str| format!("document.querySelector(\"#code .code-tool[data-tool='{tool}']\").click(); return true;");
        client.execute(&press("kcat"), vec![]).await.map_err(|e| e.to_string())?;
        let kcat = text_of(&client, "#code #code-text").await?;
        assert_eq!(kcat, "printf '%s\\n' foobar:third | kcat -P -b 127.0.0.1:9092 -t orders -X acks=all -X partitioner=murmur2_random -K :");
        client.execute(&press("python"), vec![]).await.map_err(|e| e.to_string())?;
        let python = text_of(&client, "#code #code-text").await?;
        assert!(python.contains("key=\"foobar\"") && python.contains("\"partitioner\": \"murmur2_random\""), "{python}");
        client.execute("document.querySelector('#code').scrollIntoView(); return true;", vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "code").await?;
        // A refusal is shown with Kafka's error name.
        click(&client, "#create-topic").await?;
        let error = text_of(&client, "#error").await?;
        assert!(error.contains("TOPIC_ALREADY_EXISTS"), "{error}");

        // Serializers and partitioners are picked by Kafka's names.
        select(&client, "#partitioner", "RoundRobinPartitioner").await?;
        select(&client, "#value-serializer", "IntegerSerializer").await?;
        // RoundRobinPartitioner's counter starts at 0: partition 0, after "foobar" at offset 0.
        assert_eq!(produce(&client, "foobar", "42", 1).await?, (0, 1));
        let explanation = text_of(&client, "#produce-result .explanation").await?;
        assert!(explanation.contains("RoundRobinPartitioner: keys are ignored"), "{explanation}");
        let record = text_of(&client, ".partition[data-partition='0'] .record[data-offset='1']").await?;
        assert!(record.contains("42"), "read back with IntegerDeserializer: {record}");

        // Avro in Schema Registry framing: register the example schema, then produce JSON.
        select(&client, "#value-serializer", "KafkaAvroSerializer").await?;
        click(&client, "#register-schema").await?;
        let notice = text_of(&client, "#notice").await?;
        assert_eq!(notice, "Schema registered: orders-value version 1 (id 1)");
        assert_eq!(produce(&client, "o-1", r#"{"id":"o-1","amount":9.5}"#, 0).await?, (1, 0));
        let record = text_of(&client, ".partition[data-partition='1'] .record[data-offset='0']").await?;
        assert!(
            record.contains(r#"{"id":"o-1","amount":9.5}"#),
            "read back with KafkaAvroDeserializer: {record}"
        );
        screenshot(&client, "in-tab").await?;
        select(&client, "#partitioner", "default").await?;
        select(&client, "#value-serializer", "StringSerializer").await?;

        // A consumer group: two consumers the engine runs join "billing" (after the 3 s initial
        // rebalance delay), split the three partitions, read everything and commit it: lag 0.
        click(&client, "#add-consumer").await?;
        wait_for(&client, "#consumer-list li[data-consumer='1']").await?;
        wait_for(&client, "#group-description[data-state='Stable']").await?;
        click(&client, "#add-consumer").await?;
        wait_for(&client, "#consumer-list li[data-consumer='2']").await?;
        // The second member joins: a rebalance, then Stable with both.
        wait_for(&client, "#group-description[data-state='Stable'][data-members='2']").await?;
        for partition in 0..3 {
            wait_for(
                &client,
                &format!("#group-description tr[data-partition='orders-{partition}'][data-lag='0']"),
            )
            .await?;
        }
        let described = text_of(&client, "#group-description .group-state").await?;
        assert!(described.contains("billing · Stable") && described.contains("2 member(s)"), "{described}");
        let owners = text_of(&client, "#group-description table").await?;
        assert!(
            owners.contains("consumer-1") && owners.contains("consumer-2"),
            "both own partitions: {owners}"
        );
        client
            .execute("document.getElementById('consumers').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "consumers").await?;
        // A member crashes: no commit, no LeaveGroup. The group keeps it until its session times
        // out (the view's consumers use 10 s), then rebalances to the one left.
        click(&client, "#consumer-list li[data-consumer='2'] .crash-consumer").await?;
        wait_for(&client, "#group-description[data-state='Stable'][data-members='1']").await?;
        let owners = text_of(&client, "#group-description table").await?;
        assert!(!owners.contains("consumer-2"), "the crashed member's partitions moved: {owners}");
        click(&client, "#consumer-list li[data-consumer='1'] .remove-consumer").await?;
        // With no member left the group is Empty, and its offsets can be reset as
        // kafka-consumer-groups does it: a dry run first, then for real — the lag is back.
        wait_for(&client, "#group-description[data-state='Empty']").await?;
        click(&client, "#reset-preview").await?;
        let plan = text_of(&client, "#reset-result[data-executed='false']").await?;
        assert!(plan.contains("orders-0 → 0") && plan.contains("orders-2 → 0"), "{plan}");
        wait_for(&client, "#group-description tr[data-partition='orders-2'][data-lag='0']").await?;
        click(&client, "#reset-execute").await?;
        wait_for(&client, "#reset-result[data-executed='true']").await?;
        wait_for(&client, "#group-description tr[data-partition='orders-2'][data-lag='2']").await?;
        wait_for(&client, "#chart-lag[data-latest='5']").await?;

        // The message browser on a fresh topic: a live tail shows records as they come, a filter
        // narrows them, the export is the rows as CSV, a record is produced again, a seek by
        // offset starts each partition there.
        // The create form checks as you type, with the engine's own validators (Kafka's words).
        fill(&client, "#topic-name", "bad name!").await?;
        let problems = text_of(&client, "#topic-problems").await?;
        assert!(problems.contains("contains a character other than ASCII alphanumerics"), "{problems}");
        fill(&client, "#topic-replication", "5").await?;
        let problems = text_of(&client, "#topic-problems").await?;
        assert!(problems.contains("Replication factor: 5 larger than available brokers: 3"), "{problems}");
        let disabled =
            wait_for(&client, "#create-topic").await?.attr("disabled").await.map_err(|e| e.to_string())?;
        assert!(disabled.is_some(), "a form with problems cannot be sent");
        fill(&client, "#topic-replication", "").await?;
        // Small segments, so the partition view shows where the log rolled.
        fill(&client, "#topic-configs", "segment.bytes=400").await?;
        create_topic(&client, "clicks", 2).await?;
        fill(&client, "#topic-configs", "").await?;
        click(&client, "#browse-tail").await?;
        fill(&client, "#produce-headers", "source:web").await?;
        // murmur2: "alice" → partition 1 of 2, "bob" → 0 (each answer differs from the last, so
        // waiting for it cannot match the previous one).
        let (alice_partition, _) = produce(&client, "alice", "1", 0).await?;
        fill(&client, "#produce-headers", "").await?;
        assert_eq!(
            produce(&client, "alice", "3", 1).await?,
            (alice_partition, 1),
            "same key, same partition"
        );
        let (bob_partition, _) = produce(&client, "bob", "2,\"quoted\"", 0).await?;
        assert_eq!((alice_partition, bob_partition), (1, 0));
        wait_for(&client, "#browse-count[data-rows='3']").await?;
        fill(&client, "#filter-text", "alice").await?;
        select(&client, "#filter-field", "key").await?;
        wait_for(&client, "#browse-count[data-rows='2']").await?;
        select(&client, "#filter-field", "header").await?;
        fill(&client, "#filter-text", "web").await?;
        wait_for(&client, "#browse-count[data-rows='1']").await?;
        fill(&client, "#filter-text", "").await?;
        wait_for(&client, "#browse-count[data-rows='3']").await?;
        let href = wait_for(&client, "#export-csv").await?.attr("href").await.map_err(|e| e.to_string())?;
        let csv = client
            .execute(
                "return decodeURIComponent(arguments[0].split(',').slice(1).join(','))",
                vec![serde_json::Value::String(href.unwrap_or_default())],
            )
            .await
            .map_err(|e| e.to_string())?;
        let csv = csv.as_str().unwrap_or_default().to_string();
        assert!(csv.starts_with("topic,partition,offset,timestamp,key,value,headers\r\n"), "{csv}");
        assert!(csv.contains(&format!("clicks,{alice_partition},0,")), "{csv}");
        assert!(csv.contains(",alice,1,source=web\r\n"), "{csv}");
        assert!(
            csv.contains(&format!("clicks,{bob_partition},0,")) && csv.contains(",bob,\"2,\"\"quoted\"\"\","),
            "{csv}"
        );
        // Re-produce alice's first record: the partitioner puts the same key in the same
        // partition, at the next offset, and the tail brings it in with its header.
        click(
            &client,
            &format!("#browse-rows tr[data-partition='{alice_partition}'][data-offset='0'] .reproduce"),
        )
        .await?;
        wait_for(&client, &format!("#browse-rows tr[data-partition='{alice_partition}'][data-offset='2']"))
            .await?;
        let row = text_of(
            &client,
            &format!("#browse-rows tr[data-partition='{alice_partition}'][data-offset='2']"),
        )
        .await?;
        assert!(row.contains("alice") && row.contains("source=web"), "{row}");
        select(&client, "#browse-seek", "offset").await?;
        fill(&client, "#browse-at", "1").await?;
        click(&client, "#browse-go").await?;
        wait_for(&client, "#browse-count[data-rows='2']").await?;
        let rows = text_of(&client, "#browse-rows tbody").await?;
        assert!(!rows.contains("bob"), "bob's partition has nothing from offset 1: {rows}");
        client
            .execute("document.getElementById('messages').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "messages").await?;
        click(&client, "#browse-tail").await?;

        // Many at once: 300 generated records as producer batches at 1,000 records/s (paced by
        // the view's timer), counted per partition; then two imported from JSONL, and a line
        // that is not JSON refused by its number.
        click(&client, "#generator summary").await?;
        fill(&client, "#generate-count", "300").await?;
        fill(&client, "#generate-rate", "1000").await?;
        click(&client, "#generate-send").await?;
        let tally = text_of(&client, "#batch-tally[data-records='300']").await?;
        assert!(
            tally.contains("Sent 300 records to clicks") && tally.contains("P0 ×") && tally.contains("P1 ×"),
            "{tally}"
        );
        fill(&client, "#import-jsonl", "{\"key\":\"carol\",\"value\":\"imported\"}\nnot json").await?;
        click(&client, "#import-send").await?;
        let problem = text_of(&client, "#generate-problem").await?;
        assert!(problem.starts_with("line 2:"), "{problem}");
        fill(&client, "#import-jsonl", "{\"key\":\"carol\",\"value\":\"imported\"}\n{\"value\":\"no key\"}")
            .await?;
        click(&client, "#import-send").await?;
        wait_for(&client, "#batch-tally[data-records='2']").await?;
        wait_for(&client, "[data-topic='clicks']").await?;
        let meta = text_of(&client, "[data-topic='clicks'] .topic-meta").await?;
        assert_eq!(meta, "2 partitions · 306 records", "4 sent one by one, 300 generated, 2 imported");
        let rolled = wait_for(&client, ".partition[data-partition='1'] .segments").await?;
        let rolled_at = rolled.attr("data-rolled-at").await.map_err(|e| e.to_string())?.unwrap_or_default();
        assert!(!rolled_at.is_empty(), "the log rolled into several segments");

        // Replication in the tab's three brokers: a topic with replication factor 3 and
        // min.insync.replicas=2. Stop the leader of a partition: another in-sync replica is
        // elected and acks=all goes on with two; stop a second broker: NOT_ENOUGH_REPLICAS.
        let brokers = text_of(&client, "#cluster-summary").await?;
        assert!(brokers.starts_with("3 brokers"), "{brokers}");
        fill(&client, "#topic-replication", "3").await?;
        fill(&client, "#topic-configs", "min.insync.replicas=2").await?;
        create_topic(&client, "ledger", 3).await?;
        fill(&client, "#topic-replication", "").await?;
        fill(&client, "#topic-configs", "").await?;
        assert_eq!(produce(&client, "foobar", "entry 1", 0).await?, (0, 0), "foobar → 0 of 3");
        let row = wait_for(&client, ".partition[data-partition='0'][data-isr]").await?;
        let attr = |name: &'static str| {
            let row = row.clone();
            async move { row.attr(name).await.map_err(|e| e.to_string()).map(Option::unwrap_or_default) }
        };
        let (leader, isr) = (attr("data-leader").await?, attr("data-isr").await?);
        assert_eq!(isr.split(',').count(), 3, "three in-sync replicas: {isr}");
        // A partial network partition from the editor: the clients cut from the leader (it still
        // reaches the controller, so it stays leader) time out and nothing is appended; healed,
        // producing goes on at the next offset.
        let clients_leader = format!("#network button[data-link='clients|broker-{leader}']");
        click(&client, &clients_leader).await?;
        wait_for(&client, &format!("{clients_leader}.link-cut")).await?;
        fill(&client, "#produce-value", "cut off").await?;
        click(&client, "#produce-send").await?;
        let error = text_of(&client, "#error[data-code='REQUEST_TIMED_OUT']").await?;
        assert!(error.contains(&format!("broker {leader}, does not answer this client")), "{error}");
        click(&client, "#network .heal-links").await?;
        wait_for(&client, &format!("{clients_leader}.link-ok")).await?;
        assert_eq!(produce(&client, "foobar", "entry 1b", 1).await?, (0, 1), "healed: the next offset");
        click(&client, &format!("#brokers [data-broker='{leader}'] .stop-broker")).await?;
        wait_for(&client, &format!("#brokers [data-broker='{leader}'][data-state='stopped']")).await?;
        let moved =
            format!(".partition[data-partition='0']:not([data-leader='{leader}']):not([data-leader=''])");
        let row = wait_for(&client, &moved).await?;
        let isr = row.attr("data-isr").await.map_err(|e| e.to_string())?.unwrap_or_default();
        assert_eq!(isr.split(',').count(), 2, "the stopped leader left the ISR: {isr}");
        assert_eq!(produce(&client, "foobar", "entry 2", 2).await?, (0, 2), "acks=all with two in sync");
        // Its lineage, chosen from the keyboard (Enter on the focused record): on the two
        // running replicas, not on the stopped one, committed.
        wait_for(&client, ".partition[data-partition='0'] .record[data-offset='2']")
            .await?
            .send_keys("\u{E007}")
            .await
            .map_err(|e| format!("pressing Enter on a record: {e}"))?;
        wait_for(&client, "#lineage[data-offset='2'][data-holding='2']").await?;
        let lineage = text_of(&client, "#lineage").await?;
        assert!(lineage.contains(&format!("not yet on broker {leader} (its log ends at 2)")), "{lineage}");
        assert!(lineage.contains("committed: below the high watermark 3"), "{lineage}");
        // Its batch and bytes as kafka-dump-log shows them: the key "foobar" is 666f6f626172.
        let dump = text_of(&client, "#record-bytes .dump").await?;
        assert!(
            dump.contains("baseOffset: 2 lastOffset: 2 count: 1") && dump.contains("isvalid: true"),
            "{dump}"
        );
        let record_hex = text_of(&client, "#record-hex").await?.replace(' ', "");
        assert!(record_hex.contains("666f6f626172"), "{record_hex}");
        // The timeline saw it happen: the controlled shutdown's fencing, the election, the appends.
        wait_for(&client, "#events .event[data-kind='election']").await?;
        wait_for(&client, "#events .event[data-kind='fenced']").await?;
        let events = text_of(&client, "#events").await?;
        assert!(events.contains(&format!("broker-{leader} fenced")), "{events}");
        let second = ["0", "1", "2"].into_iter().find(|b| *b != leader).unwrap_or("0");
        click(&client, &format!("#brokers [data-broker='{second}'] .stop-broker")).await?;
        wait_for(&client, &format!("#brokers [data-broker='{second}'][data-state='stopped']")).await?;
        fill(&client, "#produce-value", "entry 3").await?;
        click(&client, "#produce-send").await?;
        wait_for(&client, "#error").await?;
        let error = text_of(&client, "#error").await?;
        assert!(error.contains("NOT_ENOUGH_REPLICAS"), "{error}");
        // The metrics charts count the under-replicated partitions while the brokers are down.
        wait_for(&client, "#chart-under-replicated:not([data-latest='0'])").await?;
        client
            .execute("document.getElementById('metrics').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "metrics").await?;
        // The editor with a link cut, for the screenshot: clients never talk to the KRaft
        // controller, so cutting that link changes nothing for them.
        click(&client, "#network button[data-link='controller|clients']").await?;
        wait_for(&client, "#network button.link-cut[data-link='clients|controller']").await?;
        // The KRaft quorum's table: three controllers, one of them active.
        wait_for(&client, "#quorum tr[data-state='active']").await?;
        let listed = client.find_all(Locator::Css("#quorum tr.controller")).await.map_err(|e| e.to_string())?;
        assert_eq!(listed.len(), 3, "three controllers listed");
        // Under them the brokers, the quorum's observers, each with how far it has fetched.
        let observers = client.find_all(Locator::Css("#quorum tr.observer")).await.map_err(|e| e.to_string())?;
        assert_eq!(observers.len(), 3, "three brokers observe the quorum");
        // Whether leadership goes back to preferred replicas, from the broker configs it started with.
        let balance = text_of(&client, "#leader-balance").await?;
        assert!(balance.starts_with("Preferred leaders come back every 300 s"), "{balance}");
        // The running one has fetched everything the active controller has committed.
        let running = ["0", "1", "2"].into_iter().find(|b| *b != leader && *b != second).unwrap_or("2");
        wait_for(&client, &format!("#quorum tr.observer[data-broker='{running}'][data-behind='false']")).await?;
        client
            .execute("document.getElementById('quorum').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "quorum").await?;
        // Its metadata log as it commits, newest first: the twelve newest records, the partitions'
        // changes as the brokers stopped above left their ISRs.
        wait_for(&client, "#metadata-log li[data-type='PartitionChangeRecord'][data-committed='true']").await?;
        let entries = client.find_all(Locator::Css("#metadata-log li")).await.map_err(|e| e.to_string())?;
        assert_eq!(entries.len(), 12, "the twelve newest metadata records");
        client
            .execute("document.getElementById('metadata-log').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "metadata-log").await?;
        // A follower paused and resumed from the quorum's table.
        let follower = wait_for(&client, "#quorum tr[data-state='follower']").await?;
        let id = follower.attr("data-controller").await.map_err(|e| e.to_string())?.unwrap_or_default();
        click(&client, &format!("#quorum tr[data-controller='{id}'] .pause-controller")).await?;
        wait_for(&client, &format!("#quorum tr[data-controller='{id}'][data-state='paused'] .resume-controller")).await?;
        click(&client, &format!("#quorum tr[data-controller='{id}'] .resume-controller")).await?;
        wait_for(&client, &format!("#quorum tr[data-controller='{id}'][data-state='follower']")).await?;
        client
            .execute("document.getElementById('cluster').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "cluster").await?;
        click(&client, "#network .heal-links").await?;
        wait_for(&client, "#network button.link-ok[data-link='clients|controller']").await?;
        client
            .execute("document.getElementById('timeline').scrollIntoView()", vec![])
            .await
            .map_err(|e| e.to_string())?;
        screenshot(&client, "timeline").await?;
        // The engine's virtual clock: paused it stands still, a step moves it exactly 10 s; and
        // a replay from the seed of everything this tab's cluster was given comes out the same,
        // event for event (the engine is deterministic: a seed and its inputs).
        click(&client, "#clock-pause").await?;
        let clock = wait_for(&client, "#clock[data-paused='true']").await?;
        let paused_at: i64 = clock
            .attr("data-now")
            .await
            .map_err(|e| e.to_string())?
            .and_then(|n| n.parse().ok())
            .ok_or("the clock has no time")?;
        click(&client, "#clock-step-10000").await?;
        wait_for(&client, &format!("#clock[data-now='{}']", paused_at + 10_000)).await?;
        click(&client, "#clock-pause").await?;
        wait_for(&client, "#clock[data-paused='false']").await?;
        click(&client, "#replay").await?;
        let replay = text_of(&client, "#replay-result").await?;
        assert!(replay.contains("the same cluster, event for event"), "{replay}");
        wait_for(&client, "#replay-result[data-identical='true']").await?;
        for broker in [leader.as_str(), second] {
            click(&client, &format!("#brokers [data-broker='{broker}'] .start-broker")).await?;
            wait_for(&client, &format!("#brokers [data-broker='{broker}'][data-state='up']")).await?;
        }
        // The single-replica topics were offline while their brokers were down; restarted, those
        // brokers reopen their own logs and every record is back.
        // (Choosing the topic reads its partitions afresh from their leaders.)
        click(&client, "#topics [data-topic='orders']").await?;
        for (partition, offset) in [(0, 1), (1, 0), (2, 1)] {
            let record = format!(".partition[data-partition='{partition}'] .record[data-offset='{offset}']");
            wait_for(&client, &record).await?;
        }
        let record = text_of(&client, ".partition[data-partition='2'] .record[data-offset='1']").await?;
        assert!(record.contains("second"), "orders kept its records across the restarts: {record}");
        // The record chosen in ledger (offset 2 of partition 0) is not looked for in orders,
        // whose partition 0 ends at 2: no lineage, no OFFSET_OUT_OF_RANGE.
        let stale = client
            .find_all(Locator::Css("#lineage, #error[data-code='OFFSET_OUT_OF_RANGE']"))
            .await
            .map_err(|e| e.to_string())?;
        assert!(stale.is_empty(), "another topic shows no lineage and no error");
        // The NOT_ENOUGH_REPLICAS from before the restarts stays until the reader closes it.
        let error = text_of(&client, "#error[data-code='NOT_ENOUGH_REPLICAS']").await?;
        assert!(error.contains("min.insync.replicas=2"), "{error}");
        click(&client, "#error-dismiss").await?;
        let left = client.find_all(Locator::Css("#error")).await.map_err(|e| e.to_string())?;
        assert!(left.is_empty(), "the error is closed");
        // Share, every broker up again: a link that makes this same cluster again (opened at the
        // end of this flow).
        click(&client, "#share-state").await?;
        let shared =
            wait_for(&client, "#share-link").await?.prop("value").await.map_err(|e| e.to_string())?;
        let shared = shared.ok_or("the share link is empty")?;
        assert!(shared.contains("?state=v1."), "{shared}");

        // In Korean, dark: the same views for a Korean learner (Kafka's own names stay as they are).
        click(&client, "#language").await?;
        wait_for(&client, "html[lang='ko']").await?;
        assert_eq!(text_of(&client, "#topics-title").await?, "토픽");
        assert_eq!(text_of(&client, "#cluster-title").await?, "클러스터");
        let balance = text_of(&client, "#leader-balance").await?;
        assert!(balance.starts_with("300초마다 선호 복제본(preferred replica)이 리더 자리로 돌아옵니다"), "{balance}");
        select(&client, "#theme", "dark").await?;
        wait_for(&client, "html[data-theme='dark']").await?;
        client.execute("window.scrollTo(0, 0)", vec![]).await.map_err(|e| e.to_string())?;
        screenshot(&client, "korean-dark").await?;
        // The 1280×720 a docs page embeds it at.
        client.set_window_size(1280, 720).await.map_err(|e| e.to_string())?;
        screenshot(&client, "embed-1280x720").await?;
        client.set_window_size(WINDOW_WIDTH_PX, WINDOW_HEIGHT_PX).await.map_err(|e| e.to_string())?;
        click(&client, "#language").await?;
        wait_for(&client, "html[lang='en']").await?;
        select(&client, "#theme", "light").await?;

        // On the server: the same UI over the websocket; the server's engine answers.
        let default_url =
            wait_for(&client, "#server-url").await?.prop("value").await.map_err(|e| e.to_string())?;
        assert_eq!(default_url.as_deref(), Some(ws_url.as_str()), "the page offers the server it came from");
        click(&client, "#server-connect").await?;
        wait_ready(&client, "kite serve").await?;
        create_topic(&client, "payments", 6).await?;
        // kafka-reference.md §3: "a-little-bit-longer-string" → partition 5 of 6.
        let placed = produce(&client, "a-little-bit-longer-string", "paid", 0).await?;
        assert_eq!(placed, (5, 0), "Kafka places this key on partition 5 of 6");
        wait_for(&client, ".partition[data-partition='5'] .record[data-offset='0']").await?;
        screenshot(&client, "server").await?;

        // A reload reopens the in-tab cluster from IndexedDB: the tab's records are still there.
        client.goto(&url).await.map_err(|e| e.to_string())?;
        wait_ready(&client, "in-tab worker").await?;
        click(&client, "#topics [data-topic='orders']").await?;
        let status = text_of(&client, "#status").await?;
        assert!(status.contains("IndexedDB") && status.contains(", 3 brokers reopened"), "{status}");
        let record = text_of(&client, ".partition[data-partition='2'] .record[data-offset='1']").await?;
        assert!(record.contains("second"), "the in-tab record survived the reload: {record}");

        // The server's record lives in the server, not the page: the reloaded page reconnects
        // and finds it.
        click(&client, "#server-connect").await?;
        wait_ready(&client, "kite serve").await?;
        let meta = text_of(&client, "[data-topic='payments'] .topic-meta").await?;
        assert_eq!(meta, "6 partitions · 1 records");
        wait_for(&client, ".partition[data-partition='5'] .record[data-offset='0']").await?;
        screenshot(&client, "kite").await?;

        // A server started with --token: without it the connection is refused and the status
        // says why, and retries with backoff; with it, ready. When that server goes away the page
        // retries until it is back on the same address, then carries on by itself.
        let (secured_url, secured_addr) = (secured.lock().map_err(|e| e.to_string())?.ws_url(), secured_addr);
        fill(&client, "#server-url", &secured_url).await?;
        click(&client, "#server-connect").await?;
        wait_for(&client, "#status[data-status='closed']:not([data-reconnect-attempt='0'])").await?;
        let status = text_of(&client, "#status").await?;
        assert!(status.contains("a missing or wrong token") && status.contains("retrying in"), "{status}");
        fill(&client, "#server-token", "s3cret").await?;
        click(&client, "#server-connect").await?;
        wait_ready(&client, "kite serve").await?;
        let exited = secured.lock().map_err(|e| e.to_string())?.terminate();
        assert!(exited.success(), "{exited:?}");
        wait_for(&client, "#status[data-status='closed']:not([data-reconnect-attempt='0'])").await?;
        let restarted = KiteServer::start_at(
            secured_data.path(),
            &secured_addr,
            &["--token", "s3cret", "--allow-origin", &origin],
        );
        *secured.lock().map_err(|e| e.to_string())? = restarted;
        wait_ready(&client, "kite serve").await?;
        let status = text_of(&client, "#status").await?;
        assert!(!status.contains("retrying"), "{status}");

        // Back in the tab: Reset deletes its cluster (after a confirmation) and a new one starts.
        click(&client, "#mode-in-tab").await?;
        wait_ready(&client, "in-tab worker").await?;
        wait_for(&client, "[data-topic='orders']").await?;
        click(&client, "#reset-cluster").await?;
        client.accept_alert().await.map_err(|e| format!("confirming the reset: {e}"))?;
        wait_for(&client, "#notice").await?;
        wait_ready(&client, "new cluster of 3 brokers").await?;
        let topics = text_of(&client, "#topics").await?;
        assert!(!topics.contains("orders"), "the reset cluster has no topics of the old one: {topics}");

        // The shared link rebuilds the tab's cluster as it was when shared: its topics and records.
        client.goto(&shared).await.map_err(|e| e.to_string())?;
        wait_ready(&client, "shared state of").await?;
        click(&client, "#topics [data-topic='orders']").await?;
        let record = text_of(&client, ".partition[data-partition='2'] .record[data-offset='1']").await?;
        assert!(record.contains("second"), "the shared state holds the tab's records: {record}");

        // A page asking for five KRaft controllers gets a new cluster with five: the map draws
        // them, one active.
        client.goto(&format!("{url}?storage=ephemeral&controllers=5")).await.map_err(|e| e.to_string())?;
        wait_ready(&client, "ephemeral").await?;
        wait_for(&client, "#map .map-controller[data-state='active']").await?;
        let drawn = client.find_all(Locator::Css("#map .map-controller")).await.map_err(|e| e.to_string())?;
        assert_eq!(drawn.len(), 5, "?controllers=5 draws five controllers");
        Ok(())
    })
    .await;
}
