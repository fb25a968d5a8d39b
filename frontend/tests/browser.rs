//! Browser tests (wasm-bindgen-test in headless Chromium): the engine as the tab runs it, the UI's
//! reducer, and a view rendered into a real DOM.

use std::time::Duration;

use kite_frontend::state::{
    Action, AppState, LinkStatus, Mode, RECORDS_SHOWN_PER_PARTITION, follow_ups, record_fetches,
};
use kite_frontend::views::producer::{ProducedResult, ResultProps, explain, hex};
use kite_frontend::worker::{ENGINE_NAME, StorageMode, TabEngine};
use kite_shared::api::{
    ClientMessage, Command, HostCommand, PartitionDescription, Reply, ServerMessage, TopicDescription,
    decode_server_message, encode,
};
use kite_shared::cluster::Cluster;
use kite_shared::host::serve_text;
use kite_shared::partitioner::{PartitionerKind, Placement, RandomChoice};
use kite_shared::serializer::SerializerKind;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn ask(cluster: &mut Cluster, id: u64, command: Command) -> Reply {
    let text = encode(&ClientMessage { id, command: command.into() });
    match decode_server_message(&serve_text(cluster, 1_700_000_000_000, &text)).unwrap() {
        ServerMessage::Reply { id: answered, reply } => {
            assert_eq!(answered, id, "the reply carries the request's id");
            reply
        }
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// A `send` for a view under test: what the view sends, kept in order.
fn recorded_sends() -> (std::rc::Rc<std::cell::RefCell<Vec<Command>>>, yew::Callback<Command>) {
    let sent = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let keep = sent.clone();
    (sent, yew::Callback::from(move |command: Command| keep.borrow_mut().push(command)))
}

/// A fresh element in the page's body for a component to render into.
fn mounted_root() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

#[wasm_bindgen_test]
fn the_engine_in_wasm_places_keys_like_kafka() {
    let mut cluster = Cluster::new(7);
    let created = ask(
        &mut cluster,
        1,
        Command::CreateTopic {
            name: "events".into(),
            partitions: 6,
            configs: Default::default(),
            replication_factor: None,
        },
    );
    assert!(matches!(created, Reply::TopicCreated { .. }), "{created:?}");
    // kafka-reference.md §3: "a-little-bit-longer-string" → murmur2 −1486304829 → partition 5 of 6.
    let produced = ask(
        &mut cluster,
        2,
        Command::Produce {
            acks: Default::default(),
            topic: "events".into(),
            partition: None,
            key: Some("a-little-bit-longer-string".into()),
            value: Some("v".into()),
            timestamp_ms: None,
            partitioner: PartitionerKind::Default,
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::String,
            headers: vec![],
            producer: None,
        },
    );
    let Reply::Produced { partition, offset, timestamp_ms, placement, .. } = produced else {
        panic!("expected produced, got {produced:?}");
    };
    assert_eq!((partition, offset, timestamp_ms), (5, 0, 1_700_000_000_000));
    let Placement::KeyHash { murmur2, positive, .. } = placement else { panic!("keyed placement") };
    assert_eq!((murmur2, positive), (-1486304829, 661178819));
}

#[wasm_bindgen_test]
async fn the_worker_refuses_non_text_messages() {
    let engine =
        std::cell::RefCell::new(TabEngine::open_with_brokers(StorageMode::Ephemeral, "unused", 1).await);
    let reply = decode_server_message(&TabEngine::handle(&engine, 0, &JsValue::from_f64(3.0)).await).unwrap();
    assert!(matches!(reply, ServerMessage::Invalid { .. }), "{reply:?}");
}

fn orders(leo: [i64; 3]) -> TopicDescription {
    TopicDescription {
        name: "orders".into(),
        topic_id: "vdLBMAtzSDqRmGMOj5qw7A".into(),
        partitions: (0..3)
            .map(|p| PartitionDescription {
                partition: p,
                log_start_offset: 0,
                log_end_offset: leo[p as usize],
                leader: Some(0),
                replicas: vec![0],
                isr: vec![0],
                replica_log_end_offsets: Vec::new(),
                rolled_at: Vec::new(),
                last_stable_offset: None,
                adding: Vec::new(),
                removing: Vec::new(),
            })
            .collect(),
        configs: Default::default(),
    }
}

#[wasm_bindgen_test]
fn the_reducer_follows_the_engine() {
    let state = AppState::new(Mode::InTab);
    assert_eq!(state.status, LinkStatus::Connecting);
    let welcome = ServerMessage::Welcome { protocol_version: 1, engine: ENGINE_NAME.into() };
    assert_eq!(follow_ups(&welcome), vec![Command::ListTopics.into(), HostCommand::SubscribeEvents.into()]);
    let state = state.apply(Action::Message(welcome));
    assert!(state.is_ready());

    let reply = |reply| Action::Message(ServerMessage::Reply { id: 1, reply });
    let created = Reply::TopicCreated { topic: orders([0, 0, 0]), warnings: vec![] };
    let asked = follow_ups(&ServerMessage::Reply { id: 1, reply: created.clone() });
    assert_eq!(asked, vec![Command::ListTopics.into(), Command::InspectKafka { after: 0 }.into()]);
    let state = state.apply(reply(created));
    assert_eq!(state.selected_topic.as_deref(), Some("orders"));
    assert_eq!(state.topics.len(), 1);

    let state = state.apply(reply(Reply::Error(kite_shared::error::KafkaError::new(
        kite_shared::error::ErrorCode::TopicAlreadyExists,
        "Topic 'orders' already exists.",
    ))));
    assert_eq!(state.last_error.as_deref(), Some("TOPIC_ALREADY_EXISTS: Topic 'orders' already exists."));

    let state = state.apply(reply(Reply::Produced {
        topic: "orders".into(),
        partition: 2,
        offset: 0,
        timestamp_ms: 5,
        placement: Placement::Explicit { partition: 2 },
        idempotent: None,
    }));
    assert_eq!(state.last_produced.as_ref().map(|p| (p.partition, p.offset)), Some((2, 0)));
    assert_eq!(state.last_error, None, "a success clears the last error");

    // enable.idempotence: a producer id, a sequence per partition, a retry sent as it went.
    use kite_frontend::state::Action as A;
    use kite_shared::api::{IdempotentProducer, IdempotentWrite};
    let state = state.apply(A::SetIdempotence(true));
    assert!(
        state.producer.idempotence && state.producer.producer.is_none(),
        "no id before InitProducerId answers"
    );
    let state = state.apply(reply(Reply::ProducerIdInitialized { producer_id: 7, producer_epoch: 0 }));
    let producer =
        IdempotentProducer { producer_id: 7, producer_epoch: 0, sequences: vec![], transactional_id: None };
    assert_eq!(state.producer.producer, Some(producer.clone()));
    let mut sent = Command::produce_text("orders", None, Some("k".into()), "v");
    if let Command::Produce { producer: from, .. } = &mut sent {
        *from = Some(producer);
    }
    let written = |duplicate| Reply::Produced {
        topic: "orders".into(),
        partition: 2,
        offset: 1,
        timestamp_ms: 5,
        placement: Placement::Explicit { partition: 2 },
        idempotent: Some(IdempotentWrite { producer_id: 7, sequence: 0, duplicate }),
    };
    let state = state.apply(A::ProduceSent(sent, false)).apply(reply(written(false)));
    let sequences = |state: &AppState| state.producer.producer.as_ref().map(|p| p.sequences.clone());
    assert_eq!(sequences(&state), Some(vec![(2, 1)]), "the next sequence of partition 2");
    let Some(Command::Produce { partition, producer: Some(as_sent), .. }) = state.producer.last_sent.clone()
    else {
        panic!("the last record sent is kept")
    };
    assert_eq!(
        (partition, as_sent.sequences),
        (Some(2), vec![]),
        "pinned to its partition, sequences as sent"
    );
    let retry = state.producer.last_sent.clone().unwrap();
    let state = state.apply(A::ProduceSent(retry, true)).apply(reply(written(true)));
    let last = state.last_produced.clone().unwrap();
    assert!(last.retried && last.idempotent.as_ref().is_some_and(|w| w.duplicate), "{last:?}");
    assert_eq!(sequences(&state), Some(vec![(2, 1)]), "a duplicate takes no new sequence");
    let state = state.apply(A::SetIdempotence(false));
    assert!(state.producer.producer.is_none(), "off forgets the producer id");

    let state = state.apply(Action::Closed("gone".into()));
    assert_eq!(state.status, LinkStatus::Closed { reason: "gone".into() });
    let server = Mode::Server { url: "ws://x/ws".into(), token: Some("t".into()) };
    let state = state.apply(Action::Connect(server.clone()));
    assert_eq!((state.generation, state.topics.len()), (1, 0), "a new connection starts afresh");

    // A lost server is retried with backoff; a welcome ends it.
    let state = state.apply(Action::Closed("gone".into())).apply(Action::Closed("still gone".into()));
    assert_eq!(state.reconnect_attempt, 2);
    let state = state.apply(Action::Reconnect);
    assert_eq!((state.generation, state.reconnect_attempt, &state.mode), (2, 2, &server));
    let welcome = ServerMessage::Welcome { protocol_version: 1, engine: "kite serve".into() };
    assert_eq!(state.apply(Action::Message(welcome)).reconnect_attempt, 0);
    use kite_frontend::state::reconnect_delay_ms;
    let delays: Vec<u32> = (1..=7).map(reconnect_delay_ms).collect();
    assert_eq!(delays, vec![500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    assert_eq!(reconnect_delay_ms(u32::MAX), 10_000);
}

#[wasm_bindgen_test]
fn the_partition_view_fetches_only_non_empty_partitions_newest_first() {
    let fetches = record_fetches(&orders([0, 3, 40]), SerializerKind::Integer, SerializerKind::String);
    let fetch = |partition, offset| Command::Fetch {
        topic: "orders".into(),
        partition,
        offset,
        max_records: RECORDS_SHOWN_PER_PARTITION,
        key_deserializer: SerializerKind::Integer,
        value_deserializer: SerializerKind::String,
        isolation_level: Default::default(),
    };
    // Partition 1 holds 3 records, fewer than a row shows; partition 2 its newest.
    assert_eq!(fetches, vec![fetch(1, 0), fetch(2, 40 - i64::from(RECORDS_SHOWN_PER_PARTITION))]);
}

#[wasm_bindgen_test]
fn explanations_spell_out_the_arithmetic() {
    assert_eq!(hex(b"21"), "32 31");
    let steps = explain(&Placement::KeyHash {
        key_bytes: b"21".to_vec(),
        murmur2: -973932308,
        positive: 1173551340,
        num_partitions: 3,
        partition: 0,
    });
    assert_eq!(
        steps,
        vec![
            "key bytes: 32 31 (2 bytes)",
            "murmur2(key bytes) = -973932308",
            "-973932308 & 0x7fffffff = 1173551340",
            "1173551340 % 3 partitions = 0",
        ]
    );
}

#[wasm_bindgen_test]
fn every_placement_is_explained() {
    let sticky = explain(&Placement::Sticky {
        partition: 4,
        produced_bytes: 16_384,
        batch_size: 16_384,
        chosen_with: Some(RandomChoice { random: 1_216_681_718, available: 6 }),
    });
    assert_eq!(sticky[1], "new sticky partition: random 1216681718 % 6 available = 4");
    assert_eq!(sticky.last().unwrap(), "batch.size reached: the next null-key record picks a new partition");
    let round_robin = explain(&Placement::RoundRobin { counter: 7, available: 3, partition: 1 });
    assert_eq!(round_robin[1], "counter 7 % 3 available partitions → partition 1");
    let crc = explain(&Placement::Crc32 {
        key_bytes: b"kafka".to_vec(),
        crc32: 1_539_077_399,
        num_partitions: 6,
        partition: 5,
    });
    assert_eq!(crc[2], "1539077399 % 6 partitions = 5");
}

#[wasm_bindgen_test]
fn topic_configs_are_read_like_kafka_topics_config_flags() {
    let configs = kite_frontend::views::topics::parse_configs(
        " retention.ms=3600000, cleanup.policy = compact ,broken",
    );
    assert_eq!(configs.get("retention.ms").map(String::as_str), Some("3600000"));
    assert_eq!(configs.get("cleanup.policy").map(String::as_str), Some("compact"));
    assert_eq!(configs.get("broken").map(String::as_str), Some(""), "sent for the engine to refuse by name");
}

#[wasm_bindgen_test]
async fn the_result_view_renders_in_a_real_dom() {
    let root = mounted_root();
    let produced = kite_frontend::state::Produced {
        topic: "orders".into(),
        partition: 2,
        offset: 7,
        timestamp_ms: 0,
        placement: Placement::Explicit { partition: 2 },
        idempotent: Some(kite_shared::api::IdempotentWrite { producer_id: 9, sequence: 4, duplicate: true }),
        retried: true,
    };
    yew::Renderer::<ProducedResult>::with_root_and_props(root.clone(), ResultProps { produced }).render();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    let result = root.query_selector("#produce-result").unwrap().expect("rendered");
    assert_eq!(result.get_attribute("data-partition").as_deref(), Some("2"));
    assert_eq!(result.get_attribute("data-offset").as_deref(), Some("7"));
    let text = result.text_content().unwrap_or_default();
    assert!(text.contains("Written to orders-2 at offset 7"), "{text}");
    let duplicate = result.query_selector("#produce-duplicate").unwrap().expect("the duplicate said");
    let said = duplicate.text_content().unwrap_or_default();
    assert!(said.contains("producer 9's sequence 4 in orders-2, at offset 7"), "{said}");
}

/// The network partition editor: a matrix of every link, the cut one marked and listed, and a
/// click on a link cutting or healing it by its two ends.
#[wasm_bindgen_test]
async fn the_network_editor_cuts_and_heals_links() {
    use kite_frontend::views::network::{NetworkEditor, Props, is_cut, link_nodes};
    use kite_shared::api::BrokerView;
    use wasm_bindgen::JsCast;
    let brokers: Vec<BrokerView> = (0..3)
        .map(|id| BrokerView {
            id,
            state: "up".into(),
            replicas: 1,
            leaders: 0,
            leaving: false,
            metadata_offset: None,
            rack: None,
        })
        .collect();
    assert_eq!(link_nodes(&brokers), ["controller", "broker-0", "broker-1", "broker-2", "clients"]);
    let cut_links = vec![["controller".to_string(), "broker-0".to_string()]];
    assert!(is_cut(&cut_links, "broker-0", "controller") && !is_cut(&cut_links, "broker-1", "controller"));
    let (sent, send) = recorded_sends();
    let root = mounted_root();
    yew::Renderer::<NetworkEditor>::with_root_and_props(
        root.clone(),
        Props { brokers, cut_links, ready: true, send },
    )
    .render();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    // 5 nodes: 20 links shown (each both ways round the diagonal), 2 of them the cut one.
    assert_eq!(root.query_selector_all("button.link").unwrap().length(), 20);
    assert_eq!(root.query_selector_all("button.link-cut").unwrap().length(), 2);
    let listed =
        root.query_selector("#cut-links").unwrap().expect("rendered").text_content().unwrap_or_default();
    assert!(listed.contains("Controller ↔ Broker 0"), "{listed}");
    let click = |selector: &str| {
        let button = root.query_selector(selector).unwrap().expect(selector);
        button.dyn_into::<web_sys::HtmlElement>().unwrap().click();
    };
    click("button[data-link='broker-0|controller']");
    click("button[data-link='broker-1|clients']");
    let link = |from: &str, to: &str| (from.to_string(), to.to_string());
    let (from, to) = link("broker-0", "controller");
    let (from2, to2) = link("broker-1", "clients");
    assert_eq!(
        *sent.borrow(),
        vec![
            Command::HealLink { from, to },
            Command::ListTopics,
            Command::CutLink { from: from2, to: to2 },
            Command::ListTopics
        ]
    );
}

/// The protocol inspector: each exchange a line that opens to its request and response, every
/// header field beside its bytes; filtered by API; asking only for what is newer than the newest
/// it holds; and in the tab, where no Kafka client connects, saying what it shows instead (the
/// page's own actions, asked for after each: state::follow_ups) and asking on no timer.
#[wasm_bindgen_test]
async fn the_protocol_inspector_opens_an_exchange_field_by_field() {
    use kite_frontend::views::inspector::{InspectorPanel, Props};
    use kite_shared::api::{KafkaExchangeView, KafkaFieldView, KafkaFrameView};
    use wasm_bindgen::JsCast;
    let field = |name: &str, value: &str, start, end| KafkaFieldView {
        name: name.into(),
        value: value.into(),
        start,
        end,
    };
    let frame = |fields, body: &str, hex: &str| KafkaFrameView {
        size: 16,
        fields,
        body: body.into(),
        hex: hex.into(),
        redacted: false,
    };
    let exchange = |id: u64, api: &str, key: i16, outcome: &str| KafkaExchangeView {
        id,
        connection: 1,
        broker: 0,
        client_id: "rdkafka".into(),
        at_ms: 1_700_000_000_000,
        api: api.into(),
        api_key: key,
        version: 9,
        correlation_id: id as i32,
        request: frame(
            vec![
                field("size", "12", 0, 4),
                field("request_api_key", &format!("{key} ({api})"), 4, 6),
                field("correlation_id", &id.to_string(), 8, 12),
            ],
            &format!("{api}(\n    {api}Request {{ acks: 0 }})"),
            &format!("00 00 00 0c 00 {key:02x} 00 09 00 00 00 {id:02x} 00 00 00 00"),
        ),
        response: None,
        outcome: outcome.into(),
        closed_reason: String::new(),
    };
    let exchanges: std::collections::VecDeque<_> =
        [exchange(7, "Produce", 0, "no_response"), exchange(8, "Fetch", 1, "waiting")].into();
    let (sent, send) = recorded_sends();
    let root = mounted_root();
    yew::Renderer::<InspectorPanel>::with_root_and_props(
        root.clone(),
        Props { exchanges: exchanges.clone(), in_tab: false, ready: true, send: send.clone() },
    )
    .render();
    yew::platform::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(*sent.borrow(), vec![Command::InspectKafka { after: 8 }], "only what is newer");
    let ids: Vec<String> = (0..root.query_selector_all("li.exchange").unwrap().length())
        .filter_map(|i| root.query_selector_all("li.exchange").unwrap().get(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok()?.get_attribute("data-id"))
        .collect();
    assert_eq!(ids, ["8", "7"], "newest first");
    let produce = root.query_selector("li.exchange[data-api='Produce']").unwrap().expect("listed");
    let line = produce.query_selector("summary").unwrap().unwrap().text_content().unwrap_or_default();
    assert!(
        line.contains("Produce v9") && line.contains("rdkafka") && line.contains("no response (acks=0)"),
        "{line}"
    );
    let row = produce.query_selector("tr[data-field='correlation_id']").unwrap().expect("a header field");
    let cells = row.text_content().unwrap_or_default();
    assert!(cells.contains("8–11") && cells.contains("00 00 00 07"), "the field's bytes beside it: {cells}");
    let select = root
        .query_selector("#inspector-api")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlSelectElement>()
        .unwrap();
    select.set_value("Fetch");
    select.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(root.query_selector_all("li.exchange").unwrap().length(), 1);
    assert!(root.query_selector("li.exchange[data-api='Fetch']").unwrap().is_some());

    // The first panel goes on asking; the tab's panel has its own sink.
    let tab = mounted_root();
    let (asked, send) = recorded_sends();
    yew::Renderer::<InspectorPanel>::with_root_and_props(
        tab.clone(),
        Props { exchanges: Default::default(), in_tab: true, ready: true, send },
    )
    .render();
    yew::platform::time::sleep(Duration::from_millis(1_100)).await;
    assert!(tab.query_selector("#inspector-in-tab").unwrap().is_some(), "the tab says what it shows");
    assert!(asked.borrow().is_empty(), "{:?}", asked.borrow());
}

/// Every text the views pass through `tr` or `trf` has its Korean: read from the views' own
/// sources, so a new English string without a translation fails here.
#[wasm_bindgen_test]
fn every_view_text_has_its_korean() {
    use kite_frontend::i18n::korean;
    let sources = [
        include_str!("../src/app.rs"),
        include_str!("../src/views/cluster.rs"),
        include_str!("../src/views/connection.rs"),
        include_str!("../src/views/consumers.rs"),
        include_str!("../src/views/generator.rs"),
        include_str!("../src/views/inspector.rs"),
        include_str!("../src/views/messages.rs"),
        include_str!("../src/views/metrics.rs"),
        include_str!("../src/views/network.rs"),
        include_str!("../src/views/partitions.rs"),
        include_str!("../src/views/producer.rs"),
        include_str!("../src/views/scenario.rs"),
        include_str!("../src/views/timeline.rs"),
        include_str!("../src/views/topics.rs"),
    ];
    let mut missing = Vec::new();
    let mut seen = 0;
    for source in sources {
        // Calls rustfmt spread over lines read as one.
        let flat = source.split_whitespace().collect::<Vec<_>>().join(" ");
        for start in ["tr(lang, \"", "trf(lang, \"", "trf( lang, \""] {
            for piece in flat.split(start).skip(1) {
                let text = piece.split('"').next().unwrap_or_default();
                seen += 1;
                if korean(text).is_none() {
                    missing.push(text.to_string());
                }
            }
        }
    }
    assert!(seen > 60, "found only {seen} translated texts: the pattern no longer matches the views");
    assert!(missing.is_empty(), "texts without Korean: {missing:?}");
}

/// The engine's name in the status line, in Korean part by part: values kept, a part or a
/// reason the table does not know kept in English rather than lost.
#[wasm_bindgen_test]
fn the_engine_name_reads_in_korean() {
    use kite_frontend::i18n::{Lang, engine_name, status_sentence};
    let cases = [
        ("kite serve 0.1.0 (native)", "kite serve 0.1.0 (네이티브)"),
        (
            "in-tab worker 0.1.0 (wasm32), IndexedDB (strict), 4 partitions reopened, 2 segments recovered, 70 bytes cut",
            "이 탭의 워커 0.1.0 (wasm32), IndexedDB에 저장 (엄격한 내구성), 파티션 4개를 다시 열었음, 세그먼트 2개 복구, 70바이트 잘라냄",
        ),
        (
            "in-tab worker 0.1.0 (wasm32), shared state of 12 requests, ephemeral",
            "이 탭의 워커 0.1.0 (wasm32), 공유된 상태(요청 12개), 메모리에만 보관",
        ),
        (
            "in-tab worker 0.1.0 (wasm32), ephemeral: cannot open IndexedDB database kite: QuotaExceededError, full",
            "이 탭의 워커 0.1.0 (wasm32), 메모리에만 보관: IndexedDB 데이터베이스 kite를 열 수 없습니다: QuotaExceededError, full",
        ),
        (
            "in-tab worker 0.1.0 (wasm32), ephemeral — the shared state did not open: not base64, at 3",
            "이 탭의 워커 0.1.0 (wasm32), 메모리에만 보관 — 공유된 상태를 열지 못했습니다: not base64, at 3",
        ),
        ("a future engine, 3 partitions reopened", "a future engine, 파티션 3개를 다시 열었음"),
    ];
    for (english, korean) in cases {
        assert_eq!(engine_name(Lang::Ko, english), korean);
        assert_eq!(engine_name(Lang::En, english), english);
    }
    let closed = [
        (
            "ws://127.0.0.1:9/api closed the connection (code 1011): engine stopped",
            "ws://127.0.0.1:9/api가 연결을 닫았습니다(코드 1011): engine stopped",
        ),
        ("ws://h/api closed the connection (code 1000)", "ws://h/api가 연결을 닫았습니다(코드 1000)"),
        ("something new", "something new"),
    ];
    for (english, korean) in closed {
        assert_eq!(status_sentence(Lang::Ko, english), korean);
        assert_eq!(status_sentence(Lang::En, english), english);
    }
}

/// The message browser over the engine in wasm: a seek by offset and by time, its answers in the
/// reducer, the filter, the tail, and the exports.
#[wasm_bindgen_test]
fn the_message_browser_seeks_filters_tails_and_exports() {
    use kite_frontend::views::messages::{
        FilterField, Seek, rows, seek_commands, seek_starts, tail_commands, to_csv, to_json,
    };
    let mut cluster = Cluster::new(7);
    ask(
        &mut cluster,
        1,
        Command::CreateTopic {
            name: "orders".into(),
            partitions: 2,
            configs: Default::default(),
            replication_factor: None,
        },
    );
    let produce =
        |partition: i32, key: &str, value: &str, timestamp_ms: i64, headers: Vec<(String, String)>| {
            Command::Produce {
                topic: "orders".into(),
                partition: Some(partition),
                key: Some(key.into()),
                value: Some(value.into()),
                timestamp_ms: Some(timestamp_ms),
                partitioner: PartitionerKind::default(),
                key_serializer: SerializerKind::String,
                value_serializer: SerializerKind::String,
                headers,
                acks: Default::default(),
                producer: None,
            }
        };
    ask(&mut cluster, 2, produce(0, "alice", "10", 1_000, vec![("source".into(), "web".into())]));
    ask(&mut cluster, 3, produce(1, "bob", "say \"hi\", twice", 2_000, vec![]));
    ask(&mut cluster, 4, produce(0, "carol", "30", 3_000, vec![]));
    let Reply::Topics { topics } = ask(&mut cluster, 5, Command::ListTopics) else { panic!("topics") };
    let topic = topics.into_iter().find(|t| t.name == "orders").expect("orders is listed");
    let strings = (SerializerKind::String, SerializerKind::String);

    // From offset 1: partition 0 from 1, partition 1 (log end 1) at its end.
    let commands = seek_commands(&topic, None, Seek::Offset(1), strings);
    let offsets: Vec<(i32, i64)> = commands
        .iter()
        .map(|c| match c {
            Command::Fetch { partition, offset, .. } => (*partition, *offset),
            other => panic!("a seek by offset fetches, not {other:?}"),
        })
        .collect();
    assert_eq!(offsets, vec![(0, 1), (1, 1)]);

    // By time: ListOffsets, whose answer is the first offset at or after it.
    let Some(Command::ListOffsets { timestamp_ms, .. }) =
        seek_commands(&topic, Some(0), Seek::parse("timestamp", "1970-01-01T00:00:02Z").unwrap(), strings)
            .into_iter()
            .next()
    else {
        panic!("a seek by time looks the offset up")
    };
    assert_eq!(timestamp_ms, 2_000);
    let Reply::Offsets { offset, .. } =
        ask(&mut cluster, 6, Command::ListOffsets { topic: "orders".into(), partition: 0, timestamp_ms })
    else {
        panic!("offsets")
    };
    assert_eq!(offset, Some(1), "carol (3 000 ms) is partition 0's first record at or after 2 000 ms");
    assert!(Seek::parse("timestamp", "yesterday").is_err());
    assert!(Seek::parse("offset", "x").is_err());

    // The newest records of every partition, into the reducer as the browser's answers.
    let mut state = AppState::new(Mode::InTab).apply(Action::BrowseReset);
    let newest = seek_commands(&topic, None, Seek::End, strings);
    let starts = seek_starts(&topic, None, &newest);
    assert_eq!(starts.clone().into_iter().collect::<Vec<_>>(), vec![(0, 0), (1, 0)]);
    // A seek from offset 1 leaves an empty partition 1 at 1: its tail starts there, not at 0.
    let from_one = seek_starts(&topic, None, &seek_commands(&topic, None, Seek::Offset(1), strings));
    assert_eq!(from_one.into_iter().collect::<Vec<_>>(), vec![(0, 1), (1, 1)]);
    for (i, command) in newest.into_iter().enumerate() {
        state = state.apply(Action::Browsed(ask(&mut cluster, 10 + i as u64, command)));
    }
    let all = rows("orders", &state.browsed, FilterField::Any, "");
    let seen: Vec<(i32, i64)> = all.iter().map(|(p, r)| (*p, r.offset)).collect();
    assert_eq!(seen, vec![(0, 0), (1, 0), (0, 1)], "across partitions, by timestamp");
    assert_eq!(rows("orders", &state.browsed, FilterField::Header, "web").len(), 1);
    assert_eq!(rows("orders", &state.browsed, FilterField::Key, "web").len(), 0);
    assert_eq!(rows("orders", &state.browsed, FilterField::Value, "hi").len(), 1);

    // Nothing new: no tail fetch. One more record: a fetch from just after what is shown.
    assert_eq!(tail_commands(&topic, &state.browsed, &starts, strings), vec![]);
    ask(&mut cluster, 20, produce(1, "dave", "40", 4_000, vec![]));
    let Reply::Topics { topics } = ask(&mut cluster, 21, Command::ListTopics) else { panic!("topics") };
    let tail = tail_commands(&topics[0], &state.browsed, &starts, strings);
    assert!(matches!(tail.as_slice(), [Command::Fetch { partition: 1, offset: 1, .. }]), "{tail:?}");
    state = state.apply(Action::Browsed(ask(&mut cluster, 22, tail[0].clone())));
    let all = rows("orders", &state.browsed, FilterField::Any, "");
    assert_eq!(all.last().map(|(p, r)| (*p, r.offset, r.key.clone())), Some((1, 1, Some("dave".into()))));

    let csv = to_csv("orders", &all);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "topic,partition,offset,timestamp,key,value,headers");
    assert_eq!(lines[1], "orders,0,0,1000,alice,10,source=web");
    assert_eq!(lines[2], "orders,1,0,2000,bob,\"say \"\"hi\"\", twice\",");
    let json: serde_json::Value = serde_json::from_str(&to_json("orders", &all)).expect("the export is JSON");
    assert_eq!(json[0]["headers"][0]["value"], "web");
    assert_eq!(json[3]["key"], "dave");
    assert_eq!(json.as_array().map(Vec::len), Some(4));
}

#[wasm_bindgen_test]
fn headers_are_typed_like_kafka_console_producer() {
    use kite_frontend::views::producer::parse_headers;
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        parse_headers("source:web, trace:4:2,flag"),
        vec![pair("source", "web"), pair("trace", "4:2"), pair("flag", "")]
    );
    assert_eq!(parse_headers(" "), vec![]);
}

#[wasm_bindgen_test]
fn reset_targets_are_kafka_consumer_groups_options() {
    use kite_frontend::views::consumers::reset_target;
    use kite_shared::api::ResetTarget;
    assert_eq!(reset_target("earliest", ""), Ok(ResetTarget::Earliest));
    assert_eq!(reset_target("offset", " 7"), Ok(ResetTarget::Offset { offset: 7 }));
    assert_eq!(reset_target("shift-by", "-2"), Ok(ResetTarget::ShiftBy { shift: -2 }));
    assert_eq!(
        reset_target("datetime", "1970-01-01T00:00:01Z"),
        Ok(ResetTarget::Datetime { timestamp_ms: 1_000 })
    );
    assert!(reset_target("offset", "seven").is_err());
}

/// A run as fast as it goes keeps Kafka's five batches in flight and sends one more per answer;
/// a paced run sends only what its tick allows; a stopped run sends nothing more.
#[wasm_bindgen_test]
fn a_batch_run_keeps_five_batches_in_flight() {
    use kite_frontend::views::generator::{
        BatchRun, BatchSettings, MAX_IN_FLIGHT_BATCHES, SEND_BATCH_RECORDS as BATCH, generate,
    };
    let settings = BatchSettings {
        topic: "load".into(),
        partitioner: PartitionerKind::Default,
        acks: Default::default(),
        key_serializer: SerializerKind::String,
        value_serializer: SerializerKind::String,
    };
    let sizes = |commands: Vec<Command>| -> Vec<usize> {
        commands
            .into_iter()
            .map(|c| match c {
                Command::ProduceBatch { topic, records, .. } if topic == "load" => records.len(),
                other => panic!("expected a produce_batch to load, got {other:?}"),
            })
            .collect()
    };
    let mut run = BatchRun::default();
    // 1 + 2 × 4 batches while the window opens, 1 more, then the last 500 records.
    let count = (2 * MAX_IN_FLIGHT_BATCHES) * BATCH + 500;
    run.start(generate(count, "k{i}", "v").into_iter(), count, settings.clone(), false);
    assert_eq!(sizes(run.first()), vec![BATCH], "one batch to start");
    // The window opens by one per answer: 1 → 2 → 3 → 4 → 5 in flight.
    for in_flight in 2..=MAX_IN_FLIGHT_BATCHES {
        assert_eq!(sizes(run.answered()), vec![BATCH; 2], "{in_flight} in flight");
    }
    assert_eq!(sizes(run.answered()), vec![BATCH], "the window is full: one for one");
    assert_eq!(sizes(run.answered()), vec![500], "the last records");
    assert!(run.answered().is_empty() && run.queued() == 0 && run.running(), "answers still due");
    for _ in 0..MAX_IN_FLIGHT_BATCHES - 1 {
        run.answered();
    }
    assert!(!run.running(), "every batch answered");

    let mut paced = BatchRun::default();
    paced.start(generate(2 * BATCH + 500, "", "v").into_iter(), 2 * BATCH + 500, settings.clone(), true);
    assert!(paced.first().is_empty(), "a paced run waits for its timer");
    assert_eq!(sizes(paced.take(BATCH + 200)), vec![BATCH, 200]);
    assert!(paced.answered().is_empty(), "answers do not pace it");
    paced.stop();
    assert!(paced.take(1_000).is_empty() && paced.queued() == 0);
    assert!(!paced.running(), "stopped, the run is over though two batches were unanswered");
}

#[wasm_bindgen_test]
fn records_are_generated_and_imported() {
    use kite_frontend::views::generator::{generate, parse_import};
    assert_eq!(generate(2, "{i}-{i}", "v{i}")[1].key.as_deref(), Some("1-1"), "every {{i}} is filled");
    let generated = generate(3, "user-{i}", "event {i}");
    assert_eq!(generated[2].key.as_deref(), Some("user-2"));
    assert_eq!(generated[2].value.as_deref(), Some("event 2"));
    assert_eq!(generate(1, "", "v")[0].key, None, "an empty key pattern is the null key");

    let lines = "{\"key\":\"a\",\"value\":\"1\",\"headers\":[{\"key\":\"h\",\"value\":\"x\"}]}\n\n{\"value\":\"2\",\"partition\":7}\n";
    let records = parse_import(lines).expect("two records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].headers, vec![("h".to_string(), "x".to_string())]);
    assert_eq!((records[1].key.clone(), records[1].value.as_deref()), (None, Some("2")));
    let error = parse_import("{\"value\":\"1\"}\nnot json\n").expect_err("line 2 is not JSON");
    assert!(error.starts_with("line 2:"), "{error}");
    // The message browser's export reads back.
    let array = "[{\"topic\":\"t\",\"partition\":0,\"offset\":3,\"timestamp\":1,\"key\":null,\"value\":\"v\",\"headers\":[]}]";
    assert_eq!(parse_import(array).map(|r| r.len()), Ok(1));
}

#[wasm_bindgen_test]
fn the_create_form_is_checked_with_kafkas_words() {
    use kite_frontend::views::topics::form_problems;
    assert_eq!(form_problems("orders", "3", "", "", Some(3)), Vec::<String>::new());
    let problems = form_problems("", "0", "4", "retention.ms=soon", Some(3));
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert_eq!(problems[0], "Topic name is illegal, it can't be empty");
    assert!(problems[1].starts_with("Number of partitions must be larger than 0"), "{problems:?}");
    assert!(problems[2].contains("larger than available brokers: 3"), "{problems:?}");
    assert!(problems[3].contains("retention.ms"), "{problems:?}");
}

/// The lineage's bytes: the engine in wasm dumps a record with its batch's CRC.
#[wasm_bindgen_test]
fn a_record_is_dumped_with_its_batch() {
    let mut cluster = Cluster::new(7);
    ask(
        &mut cluster,
        1,
        Command::CreateTopic {
            name: "orders".into(),
            partitions: 1,
            configs: Default::default(),
            replication_factor: None,
        },
    );
    ask(
        &mut cluster,
        2,
        Command::Produce {
            topic: "orders".into(),
            partition: None,
            key: Some("21".into()),
            value: Some("pinned".into()),
            timestamp_ms: Some(1234),
            partitioner: PartitionerKind::default(),
            key_serializer: SerializerKind::String,
            value_serializer: SerializerKind::String,
            headers: vec![],
            acks: Default::default(),
            producer: None,
        },
    );
    let reply = ask(&mut cluster, 3, Command::DumpRecord { topic: "orders".into(), partition: 0, offset: 0 });
    let state = AppState::new(Mode::InTab).apply(Action::Message(ServerMessage::Reply { id: 3, reply }));
    let dumped = state.dumped.expect("the dump is kept for the lineage");
    assert_eq!(
        (dumped.batch.crc, dumped.record.record_hex.as_str()),
        (1995881793, "1c0000000432310c70696e6e656400")
    );
}

#[wasm_bindgen_test]
fn the_virtual_clock_runs_pauses_and_steps() {
    use kite_frontend::clock::VirtualClock;
    let mut clock = VirtualClock::new(1_000.0);
    assert_eq!(clock.now(1_500.0), 1_500);
    clock.set_speed(2_000.0, 10_000).unwrap();
    assert_eq!(clock.now(2_010.0), 3_000, "×100: 10 ms of wall clock are a second");
    assert!(clock.set_speed(2_010.0, 10).is_err(), "slower than ×0.25 is refused");
    assert!(clock.step(100).is_err(), "a running clock does not step");
    clock.set_paused(2_020.0, true);
    assert_eq!((clock.now(2_020.0), clock.now(9_999.0)), (4_000, 4_000), "paused, it stands still");
    assert_eq!(clock.step(250), Ok(4_250));
    clock.set_paused(10_000.0, false);
    assert_eq!(clock.now(10_001.0), 4_350, "it runs on from where it stood");
    assert_eq!(clock.now(0.0), 4_250, "a wall clock going back does not move it back past its stretch");
}

/// The cluster map's columns: each broker's replicas of the learner's topics, drawn by role.
#[wasm_bindgen_test]
fn the_map_draws_each_replica_by_its_role() {
    use kite_frontend::state::ClusterView;
    use kite_frontend::views::map::{MAX_BLOCKS_PER_BROKER, Moving, Role, columns};
    use kite_shared::api::BrokerView;
    let broker = |id: i32, state: &str| BrokerView {
        id,
        state: state.into(),
        replicas: 0,
        leaders: 0,
        leaving: false,
        metadata_offset: Some(0),
        rack: None,
    };
    let cluster = ClusterView {
        controller: 0,
        brokers: vec![broker(0, "up"), broker(1, "stopped"), broker(2, "up")],
        partitions: 0,
        under_replicated: Vec::new(),
        offline: Vec::new(),
        cut_links: Vec::new(),
        kafka_clients: Vec::new(),
        controllers: Vec::new(),
        broker_configs: Vec::new(),
    };
    let partition = |partition: i32, replicas: Vec<i32>, leader: i32, isr: Vec<i32>| PartitionDescription {
        partition,
        log_start_offset: 0,
        log_end_offset: 4,
        leader: Some(leader),
        replicas,
        isr,
        replica_log_end_offsets: Vec::new(),
        rolled_at: Vec::new(),
        last_stable_offset: None,
        adding: Vec::new(),
        removing: Vec::new(),
    };
    let topic = |name: &str, partitions: Vec<PartitionDescription>| TopicDescription {
        name: name.into(),
        topic_id: String::new(),
        partitions,
        configs: Default::default(),
    };
    let topics = vec![
        topic("__consumer_offsets", vec![partition(0, vec![0], 0, vec![0])]),
        topic("t", vec![partition(0, vec![0, 1, 2], 0, vec![0, 2]), partition(1, vec![2, 0, 1], 2, vec![2])]),
        // Being moved from broker 0 to broker 1 (a reassignment, KIP-455).
        topic(
            "u",
            vec![PartitionDescription {
                adding: vec![1],
                removing: vec![0],
                ..partition(0, vec![1, 0], 0, vec![0])
            }],
        ),
        // Moved to broker 2 under a replication throttle (KIP-73): its follower list names it.
        TopicDescription {
            configs: [("follower.replication.throttled.replicas".to_string(), "0:2".to_string())].into(),
            ..topic(
                "v",
                vec![PartitionDescription {
                    adding: vec![2],
                    removing: vec![1],
                    ..partition(0, vec![2, 1], 1, vec![1])
                }],
            )
        },
        topic("wide", (0..20).map(|p| partition(p, vec![2], 2, vec![2])).collect()),
    ];
    let columns = columns(&cluster, &topics);
    let moving =
        |broker: usize| columns[broker].blocks.iter().find(|b| b.topic == "u").and_then(|b| b.moving);
    assert_eq!((moving(0), moving(1)), (Some(Moving::Leaving), Some(Moving::Joining)));
    let throttled = columns[2].blocks.iter().find(|b| b.topic == "v").and_then(|b| b.moving);
    assert_eq!(throttled, Some(Moving::JoiningThrottled));
    assert_eq!(columns[0].blocks[0].moving, None);
    let roles = |broker: usize| -> Vec<(String, Role)> {
        columns[broker].blocks.iter().map(|b| (format!("{}-{}", b.topic, b.partition), b.role)).collect()
    };
    assert!(columns[0].controller);
    assert_eq!(roles(0)[..2], [("t-0".to_string(), Role::Leader), ("t-1".to_string(), Role::OutOfSync)]);
    assert_eq!(roles(1)[..2], [("t-0".to_string(), Role::Offline), ("t-1".to_string(), Role::Offline)]);
    assert_eq!(roles(2)[..2], [("t-0".to_string(), Role::InSync), ("t-1".to_string(), Role::Leader)]);
    assert_eq!(columns[2].blocks.len(), MAX_BLOCKS_PER_BROKER, "a tall column is cut");
    assert_eq!(columns[2].more, 23 - MAX_BLOCKS_PER_BROKER, "and says how many are not drawn");
    // With a KRaft quorum drawn under them, no broker is named the controller.
    let controller = kite_shared::api::ControllerView {
        id: 0,
        state: "active".into(),
        epoch: 1,
        log_end_offset: 5,
        high_watermark: 5,
        isolated: false,
    };
    // The map's Add a broker joins the rack with the fewest brokers; without racks, none.
    assert_eq!(kite_frontend::views::map::next_rack(&cluster), None);
    let on = |id: i32, rack: &str| BrokerView { rack: Some(rack.into()), ..broker(id, "up") };
    let racked = ClusterView { brokers: vec![on(0, "b"), on(1, "a"), on(2, "b")], ..cluster.clone() };
    assert_eq!(kite_frontend::views::map::next_rack(&racked).as_deref(), Some("a"));
    let with_quorum = ClusterView { controllers: vec![controller], ..cluster };
    assert!(kite_frontend::views::map::columns(&with_quorum, &topics).iter().all(|c| !c.controller));
}

/// The map's motion: at most one record flies per interval (the newest then), single records
/// before a batch's, and a replica whose role changed pulses for a while — a new one does not.
#[wasm_bindgen_test]
fn the_map_throttles_its_flights_and_marks_role_changes() {
    use kite_frontend::state::{BatchTally, Produced};
    use kite_frontend::views::map::{Motion, Role, batch_flight, produced_flight};
    let produced = |offset: i64| Produced {
        topic: "orders".into(),
        partition: 2,
        offset,
        timestamp_ms: 0,
        idempotent: None,
        retried: false,
        placement: Placement::KeyHash {
            key_bytes: b"k".to_vec(),
            murmur2: -985_981_536,
            positive: 1_161_502_112,
            num_partitions: 3,
            partition: 2,
        },
    };
    let tally = |records: u64| BatchTally {
        topic: "load".into(),
        records,
        per_partition: [(0, records / 2), (1, records - records / 2)].into_iter().collect(),
    };
    let mut motion = Motion::default();
    let flying =
        |m: &Motion| m.flight.as_ref().map(|f| (f.seq, f.topic.clone(), f.partition, f.offset, f.hue));
    motion.launch(1_000.0, produced_flight(Some(&produced(0))), None);
    // Coloured by the key's murmur2, as the partitions view colours it.
    assert_eq!(flying(&motion), Some((1, "orders".into(), 2, Some(0), Some(1_161_502_112 % 360))));
    // 100 ms later a newer record waits: one flight per interval.
    motion.launch(1_100.0, produced_flight(Some(&produced(1))), None);
    assert_eq!(flying(&motion).map(|f| f.3), Some(Some(0)));
    motion.launch(1_300.0, produced_flight(Some(&produced(1))), batch_flight(Some(&tally(4_000))));
    assert_eq!(flying(&motion), Some((2, "orders".into(), 2, Some(1), Some(1_161_502_112 % 360))));
    // The same record does not fly twice; the batch goes next, grey and without an offset.
    motion.launch(1_600.0, produced_flight(Some(&produced(1))), batch_flight(Some(&tally(4_000))));
    assert_eq!(flying(&motion), Some((3, "load".into(), 0, None, None)));
    motion.launch(1_900.0, produced_flight(Some(&produced(1))), batch_flight(Some(&tally(4_000))));
    assert_eq!(flying(&motion).map(|f| f.0), Some(3), "nothing new, nothing flies");

    assert!(!motion.changed(0.0 + 1e12, "orders-2@0", Role::Leader), "a new replica did not change");
    assert!(!motion.changed(1e12 + 10.0, "orders-2@0", Role::Leader));
    assert!(motion.changed(1e12 + 20.0, "orders-2@0", Role::Offline), "its broker stopped");
    assert!(motion.changed(1e12 + 1_000.0, "orders-2@0", Role::Offline), "it keeps its pulse a while");
    assert!(!motion.changed(1e12 + 3_000.0, "orders-2@0", Role::Offline), "then stops");
}

/// kafka-delete-records from the partitions view: a record chosen, its lineage offers to delete
/// the records before it, and the click sends DeleteRecords (then lists the topics again, so the
/// new log start shows); the first record of a partition offers nothing to delete. "Add a
/// partition" asks for one more partition than the topic has.
#[wasm_bindgen_test]
async fn the_partitions_view_deletes_records_and_adds_a_partition() {
    use kite_frontend::views::partitions::{PartitionsView, Props};
    use kite_shared::api::RecordView;
    use std::collections::BTreeMap;
    use wasm_bindgen::JsCast;
    let record = |offset: i64| RecordView {
        offset,
        timestamp_ms: 1_700_000_000_000,
        key: None,
        value: Some(format!("v{offset}")),
        decode_error: None,
        headers: Vec::new(),
        transaction: None,
    };
    let records = BTreeMap::from([(("orders".to_string(), 1), (0..3).map(record).collect::<Vec<_>>())]);
    let (sent, send) = recorded_sends();
    let root = mounted_root();
    let props = Props {
        topic: Some(orders([0, 3, 0])),
        records,
        key_deserializer: SerializerKind::String,
        value_deserializer: SerializerKind::String,
        send,
        group: None,
        dumped: None,
        reveal: None,
        markers: Default::default(),
    };
    yew::Renderer::<PartitionsView>::with_root_and_props(root.clone(), props).render();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    let click = |selector: &str| {
        let element = root.query_selector(selector).unwrap().expect(selector);
        element.dyn_into::<web_sys::HtmlElement>().unwrap().click();
    };
    click(".partition[data-partition='1'] .record[data-offset='0']");
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    assert!(root.query_selector("#delete-records").unwrap().is_none(), "nothing before offset 0");
    click(".partition[data-partition='1'] .record[data-offset='2']");
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    let button = root.query_selector("#delete-records").unwrap().expect("offered");
    assert_eq!(button.text_content().unwrap_or_default(), "Delete the records before offset 2");
    sent.borrow_mut().clear();
    click("#delete-records");
    assert_eq!(
        *sent.borrow(),
        vec![Command::DeleteRecords { topic: "orders".into(), partition: 1, offset: 2 }, Command::ListTopics]
    );
    // kafka-topics --alter --partitions, one more than it has.
    sent.borrow_mut().clear();
    click("#add-partition");
    assert_eq!(*sent.borrow(), vec![Command::CreatePartitions { topic: "orders".into(), count: 4 }]);
}
