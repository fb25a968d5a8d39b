//! The UI's two languages, English and Korean, and its light and dark themes. Kafka's own names
//! (error codes, config names, serializer and partitioner classes, `acks`, ISR, HW) stay as Kafka
//! spells them in both languages: they are what a learner will meet in Kafka's docs and logs.

/// A UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Ko,
}

/// Where the page keeps the reader's choices.
const LANG_KEY: &str = "kite.lang";
const THEME_KEY: &str = "kite.theme";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    /// `?lang=ko|en`, else the reader's last choice, else the browser's language.
    pub fn initial() -> Lang {
        let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let asked = query.trim_start_matches('?').split('&').find_map(|p| p.strip_prefix("lang="));
        let stored = storage().and_then(|s| s.get_item(LANG_KEY).ok().flatten());
        // navigator.language, read without another web-sys feature.
        let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok();
        let browser = navigator
            .and_then(|n| js_sys::Reflect::get(&n, &"language".into()).ok())
            .and_then(|l| l.as_string())
            .unwrap_or_default();
        asked
            .and_then(Lang::from_code)
            .or_else(|| stored.as_deref().and_then(Lang::from_code))
            .unwrap_or(if browser.starts_with("ko") { Lang::Ko } else { Lang::En })
    }

    /// Remembers the choice and tells the document (`<html lang>`).
    pub fn apply(self) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(LANG_KEY, self.code());
        }
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", self.code());
        }
    }
}

/// The page's colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// As the system prefers.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::Auto, Theme::Light, Theme::Dark];

    pub fn code(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn from_code(code: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.code() == code)
    }

    /// `?theme=light|dark|auto`, else the reader's last choice, else the system's.
    pub fn initial() -> Theme {
        let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let asked = query.trim_start_matches('?').split('&').find_map(|p| p.strip_prefix("theme="));
        let stored = storage().and_then(|s| s.get_item(THEME_KEY).ok().flatten());
        asked
            .and_then(Theme::from_code)
            .or_else(|| stored.as_deref().and_then(Theme::from_code))
            .unwrap_or_default()
    }

    /// Remembers the choice and sets `<html data-theme>`, which style.css follows.
    pub fn apply(self) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(THEME_KEY, self.code());
        }
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-theme", self.code());
        }
    }
}

/// `text` in `lang`: English as written in the views, Korean from this table. A text missing
/// here shows in English (a test lists the view strings that must be translated).
pub fn tr(lang: Lang, text: &'static str) -> &'static str {
    if lang == Lang::En {
        return text;
    }
    korean(text).unwrap_or(text)
}

/// The Korean of the views' texts. `{}` marks where a value goes (`trf`).
pub fn korean(text: &str) -> Option<&'static str> {
    Some(match text {
        "Kafka's semantics, live" => "카프카의 동작을 눈앞에서",
        "In this tab" => "이 탭에서 실행",
        "Connect to server" => "서버에 연결",
        "Run the engine as WebAssembly in this tab" => "엔진을 이 탭의 WebAssembly로 실행합니다",
        "Server websocket URL" => "서버 웹소켓 URL",
        "ready — {}" => "준비됨 — {}",
        "disconnected — {}" => "연결 끊김 — {}",
        "connecting…" => "연결 중…",
        "retrying in {} s (attempt {})" => "{}초 뒤 다시 연결(시도 {}번째)",
        "Token (kite serve --token)" => "토큰(kite serve --token)",
        "token, if any" => "토큰(있으면)",
        "Theme" => "테마",
        "auto" => "자동",
        "light" => "밝게",
        "dark" => "어둡게",
        // Topics
        "Topics" => "토픽",
        "Name" => "이름",
        "Partitions" => "파티션",
        "Replication" => "복제 수",
        "Configs" => "설정",
        "Create topic" => "토픽 만들기",
        "{} partitions · {} records" => "파티션 {}개 · 레코드 {}개",
        // Producer
        "Producer" => "프로듀서",
        "Topic: " => "토픽: ",
        "Key" => "키",
        "Value" => "값",
        "Partition" => "파티션",
        "empty = partitioner" => "비우면 파티셔너가 결정",
        "Send" => "보내기",
        "Key serializer" => "키 직렬화기",
        "Value serializer" => "값 직렬화기",
        "Partitioner" => "파티셔너",
        "Register schema" => "스키마 등록",
        "Avro schema for subject {}" => "서브젝트 {}의 Avro 스키마",
        "Written to " => "기록된 곳: ",
        " at offset " => ", 오프셋 ",
        "Send many" => "여러 개 보내기",
        "Count" => "개수",
        "Key pattern ({i} = 0, 1, …; empty = null)" => "키 패턴({i} = 0, 1, …, 비우면 null)",
        "Value pattern" => "값 패턴",
        "Records/s (0 = as fast as it goes)" => "초당 레코드(0이면 최대 속도)",
        "Generate and send" => "만들어 보내기",
        "JSONL: one object with key, value and headers per line, or an exported JSON array" => {
            "JSONL: 한 줄에 key, value, headers를 가진 객체 하나, 또는 내보낸 JSON 배열"
        }
        "Load a file" => "파일 불러오기",
        "Import and send" => "가져와서 보내기",
        "Stop ({} queued)" => "멈추기(대기 {}개)",
        "Sent {} records to {}: " => "{}개 레코드를 {}에 보냄: ",
        // Partitions and lineage
        "Create a topic to see its partitions." => "토픽을 만들면 파티션이 여기에 보입니다.",
        "Partitions of {}" => "{}의 파티션",
        "Showing the first {} of {} partitions." => "앞의 {}개 파티션만 보여 줍니다(전체 {}개).",
        "Click a record to see where it lives." => "레코드를 누르면 어디에 저장되어 있는지 보여 줍니다.",
        "leader {} · replicas {} · ISR {}" => "리더 {} · 복제본 {} · ISR {}",
        "none (offline)" => "없음(오프라인)",
        "segments from {}" => "세그먼트 시작 오프셋 {}",
        "committed: below the high watermark {} — every in-sync replica has it; consumers read it" => {
            "커밋됨: 하이 워터마크 {}보다 앞에 있습니다 — 모든 ISR 복제본이 갖고 있고, 컨슈머가 읽을 수 있습니다"
        }
        "not committed yet: at or past the high watermark {}" => {
            "아직 커밋되지 않음: 하이 워터마크 {} 이후에 있습니다"
        }
        "on {}" => "저장된 곳: {}",
        "no replica" => "없음",
        "; not yet on {}" => "; 아직 없는 곳: {}",
        "broker {}" => "브로커 {}",
        "broker {} (its log ends at {})" => "브로커 {}(로그 끝 {})",
        " (leader)" => "(리더)",
        "no consumer group has committed past it" => "이 레코드를 넘어 커밋한 컨슈머 그룹이 없습니다",
        "consumed: {}" => "소비됨: {}",
        "Its batch and bytes (kafka-dump-log)" => "배치와 바이트(kafka-dump-log)",
        "Batch header (61 bytes; the CRC-32C covers attributes to the end)" => {
            "배치 헤더(61바이트, CRC-32C는 attributes부터 끝까지를 검사합니다)"
        }
        "This record's bytes (length, attributes, timestamp and offset deltas, key, value, headers)" => {
            "이 레코드의 바이트(길이, attributes, 타임스탬프·오프셋 델타, 키, 값, 헤더)"
        }
        "Key bytes" => "키 바이트",
        "Value bytes" => "값 바이트",
        // Consumers
        "Consumer groups" => "컨슈머 그룹",
        "Group" => "그룹",
        "Add a consumer of {}" => "{}의 컨슈머 추가",
        "Select a topic first" => "먼저 토픽을 고르세요",
        "Remove" => "제거",
        "Crash" => "강제 종료",
        "close: commit and leave the group" => "닫기: 커밋하고 그룹을 떠납니다",
        "crash: no commit, no goodbye; the group notices when its session times out" => {
            "강제 종료: 커밋도 작별 인사도 없습니다. 세션 타임아웃이 지나야 그룹이 알아챕니다"
        }
        "joining…" => "참여 중…",
        "member" => "멤버",
        "Committed" => "커밋",
        "Log end" => "로그 끝",
        "Lag" => "랙(lag)",
        "Owner" => "담당",
        "Total lag" => "전체 랙",
        "records" => "레코드",
        "Reset offsets" => "오프셋 재설정",
        "Like kafka-consumer-groups --reset-offsets: only while the group has no members. Preview is its dry run." => {
            "kafka-consumer-groups --reset-offsets와 같습니다. 그룹에 멤버가 없을 때만 됩니다. 미리 보기는 dry run입니다."
        }
        "To" => "대상",
        "Offset, shift, or time" => "오프셋, 이동량, 또는 시각",
        "Preview" => "미리 보기",
        "Execute" => "실행",
        "Moved: " => "옮김: ",
        "Would move (dry run): " => "옮길 위치(dry run): ",
        // Metrics and timeline
        "Metrics" => "지표",
        "Charts fill in as the engine is sampled, once a second." => "엔진을 1초마다 측정해 차트를 그립니다.",
        "Produced" => "생산",
        "Fetched" => "소비",
        "Under-replicated" => "복제 부족",
        "Offline" => "오프라인",
        "ISR shrinks" => "ISR 축소",
        "ISR expands" => "ISR 확장",
        "records/s" => "레코드/초",
        "partitions" => "파티션",
        "Timeline" => "타임라인",
        "Freeze" => "멈춰 보기",
        "Unfreeze" => "다시 흐르게",
        "Engine time" => "엔진 시각",
        "Seed" => "시드",
        "Speed" => "속도",
        "Run the clock" => "시계 다시 돌리기",
        "Pause the clock" => "시계 멈추기",
        "A new cluster with this seed is given every request again, at the same virtual times" => {
            "같은 시드로 새 클러스터를 만들고, 모든 요청을 같은 가상 시각에 다시 넣어 봅니다"
        }
        "Replay from seed" => "시드로 다시 재생",
        "Reset cluster" => "클러스터 초기화",
        "Export snapshot" => "스냅숏 내보내기",
        "Share" => "공유",
        "A link that makes this same cluster again: its seed and everything it was given" => {
            "같은 클러스터를 다시 만드는 링크: 시드와 클러스터가 받은 모든 요청"
        }
        "Link to this cluster" => "이 클러스터로 가는 링크",
        "Import snapshot" => "스냅숏 가져오기",
        "Replayed from seed {}: {} requests, {} events — the same cluster, event for event." => {
            "시드 {}로 다시 재생: 요청 {}개, 이벤트 {}개 — 이벤트 하나까지 똑같은 클러스터입니다."
        }
        "Replayed from seed {}: {} requests — it came out different: {}" => {
            "시드 {}로 다시 재생: 요청 {}개 — 결과가 달랐습니다: {}"
        }
        "The engine's events appear here as they happen: produce a record." => {
            "엔진에서 일어나는 일이 여기에 차례로 나타납니다. 레코드를 하나 보내 보세요."
        }
        _ => return korean_elsewhere(text),
    })
}

/// The Korean of the Code view's texts.
/// The views' own tables, after the common words.
fn korean_elsewhere(text: &str) -> Option<&'static str> {
    korean_messages(text)
        .or_else(|| korean_membership(text))
        .or_else(|| korean_quorum(text))
        .or_else(|| korean_scenario(text))
        .or_else(|| korean_code(text))
        .or_else(|| korean_transactions(text))
}

/// The KRaft controller quorum's texts (the map's row of controllers).
fn korean_quorum(text: &str) -> Option<&'static str> {
    Some(match text {
        "KRaft controllers: the active one (the quorum's leader) runs the controller" => {
            "KRaft 컨트롤러: 쿼럼의 leader인 active 컨트롤러가 클러스터를 관리합니다"
        }
        "{} · epoch {} · metadata log {} · HW {}" => "{} · epoch {} · 메타데이터 로그 {} · HW {}",
        "KRaft controller quorum" => "KRaft 컨트롤러 쿼럼",
        "Metadata log" => "메타데이터 로그",
        "Connect" => "Connect",
        "Kafka Connect moves data between Kafka and other systems: a source connector writes into topics, a sink connector reads them out. Kite runs one worker; its connectors, offsets and states live in the topics connect-configs, connect-offsets and connect-status." => {
            "Kafka Connect는 Kafka와 다른 시스템 사이에서 데이터를 옮깁니다. source connector는 topic에 쓰고, sink connector는 topic에서 읽어 내보냅니다. Kite는 worker 하나를 실행하며, connector와 offset, 상태를 connect-configs, connect-offsets, connect-status topic에 보관합니다."
        }
        "Run Kafka's quickstart (file → topic → file)" => "Kafka quickstart 실행 (파일 → topic → 파일)",
        "Add a datagen source of orders" => "orders를 만드는 datagen source 추가",
        "Keep users in a table (datagen → JDBC sink, upsert by key)" => {
            "users를 테이블로 유지 (datagen → JDBC sink, key로 upsert)"
        }
        "Write orders as Avro (schema registry)" => "orders를 Avro로 쓰기 (schema registry)",
        "Schema registry" => "Schema registry",
        "AvroConverter registers a value's schema once, under the subject <topic>-value, and writes before each record only a zero byte and the schema's id (5 bytes): a reader finds the schema by that id." => {
            "AvroConverter는 값의 schema를 <topic>-value subject에 한 번만 등록하고, 레코드마다 앞에 0 바이트와 schema id(모두 5바이트)만 붙여 씁니다. 읽는 쪽은 그 id로 schema를 찾습니다."
        }
        "version {} · id {}" => "버전 {} · id {}",
        "Converters: key {}, value {}" => "converter: key {}, value {}",
        "Tables" => "테이블",
        "Add a file from this computer" => "이 컴퓨터의 파일 추가",
        "Download" => "내려받기",
        "Only the file's end is shown; kite serve keeps the whole file in its connect directory." => {
            "파일의 끝부분만 보입니다. kite serve는 파일 전체를 connect 디렉터리에 보관합니다."
        }
        "A JDBC sink with pk.mode=record_key keeps one row a key, its latest value: a topic read by key is a table (a KTable). A tombstone deletes the row." => {
            "pk.mode=record_key인 JDBC sink는 key마다 행을 하나만 두고 가장 최근 값으로 덮어씁니다. key로 읽은 topic은 곧 테이블(KTable)입니다. tombstone이 오면 그 행을 지웁니다."
        }
        "{}: {} — {} rows" => "{}: {} — {}행",
        "primary key" => "기본 키",
        "and {} more rows" => "외 {}행 더",
        "No connectors yet." => "아직 connector가 없습니다.",
        "generated records" => "생성한 레코드",
        "Transforms: {}" => "변환(SMT): {}",
        "task {}: {}" => "task {}: {}",
        "{} skipped" => "{}개 건너뜀",
        "{} filtered" => "{}개 걸러냄",
        "Restart" => "재시작",
        "Delete" => "삭제",
        "Files" => "파일",
        "{}, from byte {}:" => "{}, {}번째 바이트부터:",
        "A line to append" => "덧붙일 줄",
        "Append" => "덧붙이기",
        "none" => "없음",
        "controller-{}'s copy of __cluster_metadata: high watermark {}, log end {}. Newest first; a record is committed once a majority of the controllers holds it." => {
            "controller-{}가 가진 __cluster_metadata 사본입니다. high watermark {}, log end {}. 최신 레코드가 위에 있고, 컨트롤러 과반이 가지고 있으면 확정(commit)됩니다."
        }
        "a new active controller in epoch {}" => "epoch {}의 새 active 컨트롤러",
        "broker {} registered (incarnation {})" => "broker {} 등록 (incarnation {})",
        "broker {} registered (incarnation {}, rack {})" => "broker {} 등록 (incarnation {}, 랙 {})",
        "rack {}" => "랙 {}",
        "broker.rack: a new topic's replicas go to different racks" => {
            "broker.rack: 새 토픽의 복제본은 서로 다른 랙에 놓입니다"
        }
        "broker {} fenced: out of every ISR, leads nothing" => {
            "broker {} fence: 모든 ISR에서 빠지고 어떤 partition도 이끌지 않습니다"
        }
        "broker {} leaving: its replicas move away" => "broker {} 제거 중: replica를 다른 브로커로 옮깁니다",
        "broker {} unregistered" => "broker {} 등록 해제",
        "topic {} created with {} partitions" => "topic {} 생성, partition {}개",
        "{}-{}: leader {} · ISR {} · leader epoch {}" => "{}-{}: leader {} · ISR {} · leader epoch {}",
        "topic {} deleted" => "topic {} 삭제",
        "every broker" => "모든 브로커",
        "{}: {} set to {}" => "{}: {} = {} 설정",
        "{}: {} deleted" => "{}: {} 설정 삭제",
        "Role" => "역할",
        "The active controller is the quorum's leader: it makes every metadata change, committed once a majority holds it. Followers learn the high watermark with their next fetch, so theirs may trail." => {
            "active 컨트롤러는 쿼럼의 leader로서 메타데이터 변경을 모두 결정하고, 과반이 가지고 있으면 그 변경이 확정됩니다. follower는 다음 fetch에서 high watermark를 알게 되므로 값이 조금 뒤처질 수 있습니다."
        }
        "{}: {} — choose to stop, pause or isolate it" => {
            "{}: {} — 골라서 정지, 일시 정지, 격리할 수 있습니다"
        }
        "active" => "active",
        "follower" => "follower",
        "observer" => "observer",
        "Brokers are observers: they fetch the committed metadata log from the active controller, without a vote, and replay it. Their LEO is how far they have." => {
            "브로커는 observer입니다. 투표권 없이 active 컨트롤러에서 확정된 메타데이터 로그를 fetch해서 차례대로 재생합니다. 브로커의 LEO는 어디까지 가져왔는지를 나타냅니다."
        }
        "no leader known" => "leader 모름",
        "asking for pre-votes" => "사전 투표 요청 중",
        "asking for votes" => "투표 요청 중",
        "resigned" => "물러남",
        "deposed leader" => "밀려난 leader",
        "kite cluster stop-controller: when the active one stops, the others elect a new one once their fetch timeout passes; without a majority nothing in the cluster's metadata can change" => {
            "kite cluster stop-controller: active 컨트롤러가 멈추면 나머지 컨트롤러가 fetch timeout이 지난 뒤 새 active를 뽑습니다. 과반이 살아 있지 않으면 클러스터 메타데이터는 하나도 바뀌지 않습니다"
        }
        _ => return None,
    })
}

/// Brokers joining and leaving, on the map and in the cluster view.
fn korean_membership(text: &str) -> Option<&'static str> {
    Some(match text {
        "Remove from the cluster" => "클러스터에서 빼기",
        "Add a broker" => "브로커 추가",
        "leaving" => "빠지는 중",
        "kite cluster add-broker: a new broker registers with the controller and holds nothing until partitions move to it" => {
            "kite cluster add-broker: 새 브로커가 컨트롤러에 등록되고, 파티션을 옮겨 오기 전까지는 아무것도 맡지 않습니다"
        }
        "kite cluster remove-broker: its replicas move to the other brokers first, then it leaves" => {
            "kite cluster remove-broker: 복제본을 먼저 다른 브로커로 옮긴 뒤 클러스터를 떠납니다"
        }
        _ => return None,
    })
}

/// The producer's transactions, the partitions' markers and the browser's isolation level.
fn korean_transactions(text: &str) -> Option<&'static str> {
    Some(match text {
        "Commit" => "Commit",
        "Abort" => "Abort",
        "Begin transaction" => "트랜잭션 시작",
        "Send offsets" => "오프셋 보내기",
        "reads committed (isolation.level=read_committed)" => {
            "커밋된 것만 읽음(isolation.level=read_committed)"
        }
        "Its member reads committed: lag counts to the last stable offset" => {
            "이 멤버는 read_committed로 읽으므로 랙을 LSO(last stable offset)까지로 셉니다"
        }
        "Consume with the Consumers panel first: their positions are the offsets sent." => {
            "먼저 컨슈머 패널에서 읽으세요. 컨슈머들이 읽은 위치(position)가 보낼 오프셋이 됩니다."
        }
        "Positions sent: {}" => "보낼 위치: {}",
        "The group's offsets commit with the transaction: on Abort they are dropped" => {
            "그룹의 오프셋이 트랜잭션과 함께 커밋됩니다. Abort하면 버려집니다"
        }
        "Group {}'s offsets go with it." => "그룹 {}의 오프셋도 이 트랜잭션에 함께 실립니다.",
        "Records sent until Commit or Abort are written in one transaction" => {
            "Commit이나 Abort를 누를 때까지 보낸 레코드는 한 트랜잭션으로 기록됩니다"
        }
        "Asking the coordinator for the producer id…" => "코디네이터에게 프로듀서 ID를 받는 중…",
        "Transaction open: {} records to {}. read_committed consumers see none of them yet." => {
            "트랜잭션 진행 중: 레코드 {}개를 {}에 썼습니다. read_committed 컨슈머에게는 아직 하나도 보이지 않습니다."
        }
        "Committed: a COMMIT marker on {}; its {} records are visible together." => {
            "Commit 완료: {}에 COMMIT 마커를 썼습니다. 레코드 {}개가 함께 보이게 됩니다."
        }
        "Aborted: an ABORT marker on {}; read_committed consumers skip its {} records." => {
            "Abort 완료: {}에 ABORT 마커를 썼습니다. read_committed 컨슈머는 레코드 {}개를 건너뜁니다."
        }
        "Coordinator: broker {} (__transaction_state-{}) holds it as {}, producer {} epoch {}." => {
            "코디네이터: 브로커 {}(__transaction_state-{})가 상태 {}, 프로듀서 {}, epoch {}로 관리합니다."
        }
        "Last stable offset: a transaction is open from here; read_committed consumers stop here" => {
            "last stable offset: 여기서부터 열린 트랜잭션이 있어 read_committed 컨슈머는 여기서 멈춥니다"
        }
        "A transaction marker (control record) of producer {}: it takes an offset but is never handed to a consumer" => {
            "프로듀서 {}의 트랜잭션 마커(컨트롤 레코드): offset을 하나 차지하지만 컨슈머에게는 전달되지 않습니다"
        }
        "marker" => "마커",
        "open transaction" => "진행 중인 트랜잭션",
        "aborted" => "abort됨",
        "committed" => "commit됨",
        "read_committed shows what such a consumer reads: nothing of an open or aborted transaction" => {
            "read_committed를 고르면 그런 컨슈머가 읽는 것만 보여 줍니다. 진행 중이거나 abort된 트랜잭션의 레코드는 빠집니다"
        }
        _ => return None,
    })
}

fn korean_code(text: &str) -> Option<&'static str> {
    Some(match text {
        "Code" => "코드",
        "Copy" => "복사",
        "Copied" => "복사됨",
        "Kafka tools and clients" => "카프카 도구와 클라이언트",
        "This cluster runs in your tab, where no client can reach it: paste the code against a real cluster (its bootstrap servers for 127.0.0.1:9092), or against kite serve." => {
            "이 클러스터는 탭 안에서 돌아서 클라이언트가 접속할 수 없습니다. 실제 클러스터(127.0.0.1:9092를 그 클러스터의 bootstrap 서버 주소로 바꿔서)나 kite serve에 붙여 넣어 실행하세요."
        }
        "Paste it as it is: kite serve's first broker listens at 127.0.0.1:9092." => {
            "그대로 붙여 넣으면 됩니다. kite serve의 첫 번째 브로커가 127.0.0.1:9092에서 연결을 받습니다."
        }
        "Create a topic, produce a record, start a consumer or reset a group's offsets: the same action with Kafka's tools and clients shows here." => {
            "토픽을 만들거나, 레코드를 보내거나, 컨슈머를 시작하거나, 그룹의 offset을 되돌려 보세요. 같은 동작을 카프카의 도구와 클라이언트로 하는 코드가 여기에 나옵니다."
        }
        _ => return None,
    })
}

/// The Korean of the scenario panel's texts: its steps, pauses and the reader's predictions.
fn korean_scenario(text: &str) -> Option<&'static str> {
    Some(match text {
        "Scenario" => "시나리오",
        "Open in the full playground" => "전체 플레이그라운드에서 열기",
        "{} expectations held, {} failed" => "기대한 결과 {}개 맞음, {}개 틀림",
        "the end" => "끝",
        "Continue" => "계속",
        "Your prediction: {} — right." => "내 예측: {} — 맞았습니다.",
        "Your prediction: {} — the engine's answer is {}." => "내 예측: {} — 엔진의 답은 {}입니다.",
        "No prediction: the engine's answer is {}." => "예측하지 않음: 엔진의 답은 {}입니다.",
        "Predict, then the engine runs on." => "먼저 예측해 보세요. 그다음 엔진이 이어서 실행합니다.",
        _ => return None,
    })
}

/// The Korean of the message browser's texts.
fn korean_messages(text: &str) -> Option<&'static str> {
    Some(match text {
        "Messages" => "메시지",
        "Create a topic to browse its records." => "토픽을 만들면 레코드를 여기서 살펴볼 수 있습니다.",
        "Messages of {}" => "{}의 메시지",
        "all" => "전체",
        "From" => "시작 위치",
        "newest" => "최신",
        "beginning" => "처음",
        "offset" => "오프셋",
        "timestamp" => "타임스탬프",
        "largest timestamp" => "가장 큰 타임스탬프",
        "Offset, or time as epoch ms or ISO-8601" => "오프셋, 또는 시각(epoch 밀리초나 ISO-8601)",
        "Seek" => "이동",
        "Live tail" => "실시간 따라가기",
        "Filter" => "필터",
        "any" => "모든 필드",
        "key" => "키",
        "value" => "값",
        "header" => "헤더",
        "Text to look for" => "찾을 글자",
        "{} records" => "레코드 {}개",
        "Export CSV" => "CSV로 내보내기",
        "Export JSON" => "JSON으로 내보내기",
        "Offset" => "오프셋",
        "Timestamp" => "타임스탬프",
        "Headers" => "헤더",
        "Re-produce" => "다시 보내기",
        "Produce this key, value and headers again" => "이 키, 값, 헤더로 레코드를 한 번 더 보냅니다",
        "Delete the records before offset {}" => "오프셋 {} 앞의 레코드 삭제",
        "Add a partition" => "파티션 하나 추가",
        "kafka-topics --alter --partitions: keys hash over the new count, so a key's next records may land in another partition" => {
            "kafka-topics --alter --partitions: 키는 늘어난 파티션 수로 해시되므로, 같은 키의 다음 레코드가 다른 파티션에 들어갈 수 있습니다"
        }
        "kafka-delete-records: the log starts here; consumers can no longer read what is before it" => {
            "kafka-delete-records: 로그가 여기서 시작하고, 그 앞의 레코드는 어떤 컨슈머도 더 이상 읽을 수 없습니다"
        }
        _ => return korean_cluster(text),
    })
}

/// The Korean of the cluster view's texts (brokers, faults, Kafka clients, the network editor).
fn korean_cluster(text: &str) -> Option<&'static str> {
    Some(match text {
        "Cluster" => "클러스터",
        "Waiting for the engine…" => "엔진을 기다리는 중…",
        "{} brokers · controller {} · {} partitions · under-replicated: {} · offline: {}" => {
            "브로커 {}대 · 컨트롤러 {} · 파티션 {}개 · 복제 부족: {} · 오프라인: {}"
        }
        "Broker {}" => "브로커 {}",
        "leads {} of {} replicas" => "리더 {}개 (복제본 {}개 중)",
        "up" => "동작 중",
        "fenced" => "펜싱됨",
        "log directory offline" => "로그 디렉터리 오프라인",
        "stopped" => "정지됨",
        "paused" => "일시 정지",
        "isolated" => "격리됨",
        "Start" => "시작",
        "Stop" => "정지",
        "Pause" => "일시 정지",
        "Resume" => "재개",
        "Isolate" => "격리",
        "Heal" => "복구",
        "A controlled shutdown: its leaderships move first" => {
            "정상 종료(controlled shutdown): 리더 역할을 먼저 넘깁니다"
        }
        "Frozen: fenced after broker.session.timeout.ms (9 s)" => {
            "멈춤: broker.session.timeout.ms(9초)가 지나면 펜싱됩니다"
        }
        "A network partition around it" => "이 브로커를 네트워크에서 떼어 놓습니다",
        "Kafka clients" => "카프카 클라이언트",
        "Preferred leaders come back every {} s (auto.leader.rebalance.enable, leader.imbalance.check.interval.seconds)" => {
            "{}초마다 선호 복제본(preferred replica)이 리더 자리로 돌아옵니다 (auto.leader.rebalance.enable, leader.imbalance.check.interval.seconds)"
        }
        "auto.leader.rebalance.enable=false: leaders stay where a failover put them until preferred leaders are elected (kite cluster elect-leaders --election-type preferred)" => {
            "auto.leader.rebalance.enable=false: 장애 조치로 옮겨 간 리더가 그대로 남습니다. 선호 리더 선출(kite cluster elect-leaders --election-type preferred)을 해야 돌아옵니다"
        }
        "No Kafka client is connected. Under kite serve, point one at a broker's listener (127.0.0.1:9092)." => {
            "연결된 카프카 클라이언트가 없습니다. kite serve로 띄웠다면 브로커의 리스너(127.0.0.1:9092)에 클라이언트를 붙여 보세요."
        }
        "(no client.id)" => "(client.id 없음)",
        "from {} to broker {}" => "{}에서 브로커 {}로",
        "producer id {}" => "프로듀서 ID {}",
        "groups: {}" => "그룹: {}",
        "Dismiss" => "닫기",
        "Network partition editor" => "네트워크 파티션 편집기",
        "Click a link to cut it both ways; click it again to heal it. A broker cut from the controller is fenced after 9 s; a follower cut from its leader leaves the ISR after 30 s; clients cut from a leader time out." => {
            "연결을 누르면 양쪽 방향 모두 끊기고, 다시 누르면 복구됩니다. 컨트롤러와 끊긴 브로커는 9초 뒤 펜싱되고, 리더와 끊긴 팔로워는 30초 뒤 ISR에서 빠지며, 리더와 끊긴 클라이언트의 요청은 시간 초과가 됩니다."
        }
        "Controller" => "컨트롤러",
        "Clients" => "클라이언트",
        "{} ↔ {}: cut — click to heal" => "{} ↔ {}: 끊김 — 누르면 복구",
        "{} ↔ {}: connected — click to cut" => "{} ↔ {}: 연결됨 — 누르면 끊기",
        "Every link is up." => "모든 연결이 살아 있습니다.",
        "Cut: {}" => "끊긴 연결: {}",
        "Heal every link" => "모든 연결 복구",
        _ => return korean_inspector(text),
    })
}

/// The Korean of the protocol inspector's texts.
fn korean_inspector(text: &str) -> Option<&'static str> {
    Some(match text {
        "Protocol inspector" => "프로토콜 인스펙터",
        // The producer's idempotence
        "The leader numbers each producer's records per partition and drops a retried one" => {
            "리더가 프로듀서의 레코드에 파티션별로 번호를 매기고, 재시도로 다시 온 레코드는 버립니다"
        }
        " (producer id {})" => " (프로듀서 ID {})",
        "Send the last record again as it was sent, as a producer retries a batch whose answer was lost" => {
            "마지막 레코드를 보냈던 그대로 다시 보냅니다. 응답을 받지 못한 배치를 프로듀서가 재시도하는 것과 같습니다"
        }
        "Retry this batch" => "이 배치 재시도",
        "Duplicate refused: the leader already had producer {}'s sequence {} in {}, at offset {}. Nothing was written twice." => {
            "중복 거절: 리더에는 이미 프로듀서 {}의 시퀀스 {}가 {}의 오프셋 {}에 있습니다. 두 번 기록되지 않았습니다."
        }
        "Producer {}, sequence {} in {}." => "프로듀서 {}의 시퀀스 {} ({}).",
        "Written again: without enable.idempotence the broker cannot tell a retry from a new record, so this is a second copy." => {
            "다시 기록됨: enable.idempotence가 꺼져 있으면 브로커는 재시도와 새 레코드를 구별하지 못해 같은 레코드가 한 벌 더 생깁니다."
        }
        "No Kafka client can connect to a tab, so here are the page's own actions as the Kafka requests a client would send for them: a produce is a ProduceRequest carrying the very batch the leader stored, a new topic a CreateTopicsRequest, a commit or abort an EndTxnRequest. Under kite serve, real clients' requests show here too." => {
            "탭에는 카프카 클라이언트가 붙을 수 없으므로, 이 페이지에서 한 일을 클라이언트가 보냈을 카프카 요청으로 바꿔 보여 줍니다. 레코드 전송은 리더가 저장한 바로 그 배치를 담은 ProduceRequest, 토픽 생성은 CreateTopicsRequest, 커밋이나 중단은 EndTxnRequest입니다. kite serve로 띄우면 실제 클라이언트의 요청도 여기에 나옵니다."
        }
        "batch {}" => "배치 {}",
        "{} record(s), each its length, attributes, timestamp and offset deltas, key, value and headers" => {
            "레코드 {}개. 레코드마다 길이, attributes, 타임스탬프·오프셋 델타, 키, 값, 헤더 순입니다"
        }
        "Nothing sent yet: produce a record or create a topic." => {
            "아직 보낸 요청이 없습니다. 레코드를 보내거나 토픽을 만들어 보세요."
        }
        "No Kafka request yet. Point a client at a broker's listener (127.0.0.1:9092): its requests and the broker's responses show here." => {
            "아직 카프카 요청이 없습니다. 클라이언트를 브로커의 리스너(127.0.0.1:9092)에 붙이면 요청과 브로커의 응답이 여기에 보입니다."
        }
        "Client" => "클라이언트",
        "API" => "API",
        "all" => "전체",
        "{} of the last {} requests" => "{}개 표시(최근 요청 {}개 중)",
        "waiting" => "대기 중",
        "no response (acks=0)" => "응답 없음(acks=0)",
        "connection closed" => "연결 끊김",
        "broker {}" => "브로커 {}",
        "Request" => "요청",
        "Response" => "응답",
        "The broker holds it: a fetch waits for records up to max_wait_ms, a JoinGroup for the rebalance." => {
            "브로커가 붙잡고 있습니다. fetch는 레코드가 올 때까지 최대 max_wait_ms 동안, JoinGroup은 리밸런스가 끝날 때까지 기다립니다."
        }
        "A Produce with acks=0 gets no response: the producer does not wait." => {
            "acks=0인 Produce에는 응답이 없습니다. 프로듀서가 기다리지 않기 때문입니다."
        }
        "The broker closed the connection instead: {}" => "브로커가 응답 대신 연결을 끊었습니다: {}",
        "{} bytes" => "{}바이트",
        "Field" => "필드",
        "Value" => "값",
        "Bytes" => "바이트",
        "It holds credentials: the inspector keeps none of them." => {
            "인증 정보가 담겨 있어 인스펙터는 이 부분을 보관하지 않습니다."
        }
        _ => return korean_first_run(text),
    })
}

/// The Korean of what a newcomer meets first: the welcome card and the internal-topics switch.
fn korean_first_run(text: &str) -> Option<&'static str> {
    Some(match text {
        "Welcome to Kite" => "Kite에 오신 것을 환영합니다",
        "A Kafka cluster of {} brokers is running in this tab." => {
            "이 탭에서 브로커 {}대짜리 Kafka 클러스터가 돌아가고 있습니다."
        }
        "A Kafka cluster of {} brokers is running on kite serve." => {
            "kite serve에서 브로커 {}대짜리 Kafka 클러스터가 돌아가고 있습니다."
        }
        "It holds no topic of yours yet." => "아직 직접 만든 토픽은 하나도 없습니다.",
        "One click makes something to look at: a topic orders with 3 partitions and replication factor {} (each partition kept by that many brokers, one of them its leader), six records keyed by customer (each goes to the partition its key's murmur2 hash picks), and a consumer group billing reading them." => {
            "버튼 한 번이면 살펴볼 거리가 생깁니다. 파티션 3개에 replication factor {}인 토픽 orders(파티션마다 그 수만큼의 브로커가 복제본을 갖고, 그중 하나가 리더입니다), 고객을 key로 단 레코드 6개(레코드마다 key의 murmur2 해시가 고른 파티션으로 갑니다), 그리고 이 레코드를 읽는 consumer group billing입니다."
        }
        "Then send a record with the same key and see it land in the same partition, stop a broker on the cluster map (click its name) and watch another take over as leader, or add a second consumer and watch the group rebalance." => {
            "그다음에는 같은 key로 레코드를 하나 더 보내 같은 파티션에 쌓이는지 보거나, 클러스터 지도에서 브로커 하나를 정지해(이름을 누르세요) 다른 브로커가 리더를 넘겨받는 것을 보거나, consumer를 하나 더 추가해 그룹이 리밸런스하는 것을 보세요."
        }
        "Start: create orders, produce, consume" => "시작하기: orders 만들고, 보내고, 읽기",
        "No thanks, I'll start from scratch" => "괜찮아요, 처음부터 직접 할게요",
        "Show internal topics" => "내부 토픽 보기",
        // The guided tour
        "Tour" => "둘러보기",
        "Back" => "이전",
        "Next" => "다음",
        "Done" => "마치기",
        "Skip the tour" => "둘러보기 건너뛰기",
        "This is the cluster map. Each column is a broker; each block a replica of one of orders' partitions. The filled block is the partition's leader: producers write to it and consumers read from it. The outlined ones are followers in the ISR, copying the leader." => {
            "클러스터 지도입니다. 세로줄 하나가 브로커 하나이고, 블록 하나가 orders 파티션의 복제본 하나입니다. 색이 채워진 블록이 그 파티션의 리더로, producer는 리더에 쓰고 consumer는 리더에서 읽습니다. 테두리만 있는 블록은 리더를 따라 복사하는 ISR 안의 팔로워입니다."
        }
        "The producer. Send a record with a key: the default partitioner hashes the key with murmur2, so the same key always lands in the same partition. The explanation below shows the arithmetic." => {
            "Producer입니다. key를 달아 레코드를 보내 보세요. 기본 partitioner가 key를 murmur2로 해시하므로 같은 key는 늘 같은 파티션으로 갑니다. 아래 설명에 계산 과정이 나옵니다."
        }
        "Each partition is an ordered log: every record gets the next offset. LEO is where the next record goes; HW, the high watermark, is how far every in-sync replica has copied, and consumers read only up to it." => {
            "파티션은 순서가 있는 로그입니다. 레코드마다 다음 offset을 받습니다. LEO는 다음 레코드가 들어갈 자리이고, HW(high watermark)는 ISR의 모든 복제본이 복사를 마친 데까지로, consumer는 여기까지만 읽습니다."
        }
        "Click a broker's name on the map and stop it. The partitions it led get a new leader from their ISR, and its replicas go grey until it starts again." => {
            "지도에서 브로커 이름을 눌러 정지해 보세요. 그 브로커가 이끌던 파티션은 ISR에서 새 리더를 뽑고, 그 브로커의 복제본은 다시 시작할 때까지 회색이 됩니다."
        }
        "The consumer group billing reads orders: each partition belongs to one member, and lag is how many records it still has to read. Add a second consumer and watch the group rebalance." => {
            "consumer group billing이 orders를 읽습니다. 파티션마다 멤버 하나가 맡고, lag은 아직 읽지 않은 레코드 수입니다. consumer를 하나 더 추가해 그룹이 리밸런스하는 것을 보세요."
        }
        // The cluster map
        "Cluster map" => "클러스터 지도",
        "create a topic first" => "먼저 토픽을 만드세요",
        "No partition of yours yet: create a topic and its replicas appear here." => {
            "아직 직접 만든 파티션이 없습니다. 토픽을 만들면 그 복제본이 여기에 나타납니다."
        }
        "Producer: last record to {}-{} at offset {}" => "Producer: 마지막 레코드는 {}-{}의 offset {}",
        "Producer: nothing sent yet" => "Producer: 아직 보낸 레코드 없음",
        "Broker {} · controller" => "브로커 {} · 컨트롤러",
        "{}: {} — choose to stop, pause or isolate it" => {
            "{}: {} — 골라서 정지·일시 정지·격리할 수 있습니다"
        }
        "+{} more" => "+{}개 더",
        "leader" => "리더",
        "follower, in sync" => "팔로워(ISR 안)",
        "follower, out of the ISR" => "팔로워(ISR 밖)",
        "offline" => "오프라인",
        "Move partition" => "partition 이동:",
        "to brokers" => "대상 브로커",
        "Move" => "옮기기",
        "Cancel the move" => "이동 취소",
        "Elect the preferred leader" => "선호 리더 선출",
        "kafka-leader-election --election-type preferred: the first replica leads, if it is in sync" => {
            "kafka-leader-election --election-type preferred: 첫 번째 replica가 ISR에 있으면 리더가 됩니다"
        }
        "Moving: adding {}, removing {}" => "이동 중: {} 추가, {} 제거",
        "kafka-reassign-partitions --execute: the replicas grow to both sets, the new ones catch up and join the ISR, then the old ones leave" => {
            "kafka-reassign-partitions --execute: replica 목록을 두 집합의 합으로 늘리고, 새 replica가 따라잡아 ISR에 들어간 뒤 옛 replica가 빠집니다"
        }
        "+ joining" => "+ 합류 중",
        "− leaving" => "− 빠질 예정",
        " · being added by a reassignment: it catches up, then joins the ISR" => {
            " · 재할당으로 추가되는 중: 따라잡은 뒤 ISR에 들어갑니다"
        }
        " · leaves once the reassignment completes" => " · 재할당이 끝나면 빠집니다",
        "Group {} · {} · lag {}" => "그룹 {} · {} · lag {}",
        "LEO: the replica's log end · HW: the high watermark, what consumers may read" => {
            "LEO: 복제본 로그의 끝 · HW: high watermark, consumer가 읽을 수 있는 데까지"
        }
        "A single broker cannot be stopped: nothing would be left to serve." => {
            "브로커가 하나뿐이면 정지할 수 없습니다. 요청을 받을 브로커가 남지 않으니까요."
        }
        "Record {} at offset {}: show its lineage" => "{}의 offset {} 레코드: 계보 보기",
        "Records on their way to {}" => "{}(으)로 가는 레코드",
        "{} on broker {}: {} · LEO {} · HW {} — open its log" => {
            "{} (브로커 {}): {} · LEO {} · HW {} — 로그 열기"
        }
        "Details" => "자세히",
        "{} events not shown: more than {} a second" => {
            "이벤트 {}개는 표시하지 않음: 1초에 {}개까지만 보냅니다"
        }
        "The detailed views" => "자세한 보기",
        "A topic deleted and created again under the same name gets another id." => {
            "토픽을 지웠다가 같은 이름으로 다시 만들면 다른 id를 받습니다."
        }
        _ => return korean_scale_out(text),
    })
}

/// The Korean of scaling out: the replication throttle (KIP-73) and racks, as the map, the
/// partitions view and the cluster view show them.
fn korean_scale_out(text: &str) -> Option<&'static str> {
    Some(match text {
        "+ joining, throttled" => "+ 합류 중(스로틀)",
        "every broker, set at start" => "모든 브로커(시작할 때 설정)",
        "kite cluster add-broker --rack {}: a new broker on the rack with the fewest registers with the controller and holds nothing until partitions move to it" => {
            "kite cluster add-broker --rack {}: 브로커가 가장 적은 랙에 새 브로커가 컨트롤러에 등록하고, 파티션을 옮겨 오기 전까지는 아무것도 갖지 않습니다"
        }
        "kafka-reassign-partitions --throttle: the replicas the move adds catch up at most this many bytes a second; empty: unthrottled" => {
            "kafka-reassign-partitions --throttle: 재할당으로 추가되는 replica가 초당 이 바이트까지만 따라잡습니다. 비워 두면 스로틀하지 않습니다"
        }
        "throttled to (B/s)" => "스로틀(B/s)",
        "kafka-reassign-partitions --verify, once every move is done: the throttled rates and replicas go" => {
            "kafka-reassign-partitions --verify: 재할당이 모두 끝나면 스로틀 속도와 replica 목록을 지웁니다"
        }
        "Clear the throttle" => "스로틀 지우기",
        "Brokers as ids separated by commas, e.g. 0,2,3; a throttle as a number of bytes a second" => {
            "브로커 id를 쉼표로 구분해 적고(예: 0,2,3), 스로틀은 초당 바이트 수로 적으세요"
        }
        "Replication throttled (KIP-73): {}" => "복제 스로틀(KIP-73): {}",
        " · being added by a reassignment under a replication throttle: it catches up at the throttled rate, then joins the ISR" => {
            " · 복제 스로틀을 받으며 재할당으로 추가되는 중: 스로틀한 속도로 따라잡은 뒤 ISR에 들어갑니다"
        }
        _ => return None,
    })
}

/// How an engine names itself in its welcome (the status line): `kite serve`'s name, or the tab's
/// worker with where it keeps the cluster and what opening it found (`worker::TabEngine`), as
/// parts joined by ", ". Each English part with its Korean; `{}` is a value kept as it is.
const ENGINE_PARTS: &[(&str, &str)] = &[
    ("in-tab worker {} (wasm32)", "이 탭의 워커 {} (wasm32)"),
    ("kite serve {} (native)", "kite serve {} (네이티브)"),
    ("IndexedDB", "IndexedDB에 저장"),
    ("IndexedDB (strict)", "IndexedDB에 저장 (엄격한 내구성)"),
    ("ephemeral", "메모리에만 보관"),
    ("scenario", "시나리오"),
    ("new cluster", "새 클러스터"),
    ("new cluster of {} brokers", "브로커 {}대로 만든 새 클러스터"),
    ("{} partitions reopened", "파티션 {}개를 다시 열었음"),
    ("{} brokers reopened", "브로커 {}대를 다시 열었음"),
    ("{} segments recovered", "세그먼트 {}개 복구"),
    ("{} bytes cut", "{}바이트 잘라냄"),
    ("{} bytes after a gap dropped", "끊긴 곳 뒤의 {}바이트 버림"),
    ("shared state of {} requests", "공유된 상태(요청 {}개)"),
];

/// The parts that end a description with why the tab runs in memory: everything after them is
/// the reason, itself translated when it is one of `STATUS_SENTENCES`.
const ENGINE_FALLBACKS: &[(&str, &str)] = &[
    ("ephemeral — the shared state did not open: {}", "메모리에만 보관 — 공유된 상태를 열지 못했습니다: {}"),
    ("ephemeral: {}", "메모리에만 보관: {}"),
];

/// Whole sentences the status line shows: why the tab keeps its cluster in memory, and why a
/// server connection closed (`link`).
const STATUS_SENTENCES: &[(&str, &str)] = &[
    (
        "the cluster stored in this browser is open in another tab (its database lock was still held after {} ms: {}); this tab keeps its own cluster in memory — close the other tab and reload to use the stored one",
        "이 브라우저에 저장된 클러스터가 다른 탭에서 열려 있습니다({} ms를 기다려도 데이터베이스 잠금이 풀리지 않았습니다: {}). 이 탭은 자기 클러스터를 메모리에만 둡니다. 저장된 클러스터를 쓰려면 다른 탭을 닫고 새로고침하세요",
    ),
    ("cannot open IndexedDB database {}: {}", "IndexedDB 데이터베이스 {}를 열 수 없습니다: {}"),
    (
        "could not reach {}: the server is down, or it refused the connection (a missing or wrong token, or an origin it does not allow)",
        "{}에 연결하지 못했습니다. 서버가 꺼져 있거나 연결을 거부했습니다(토큰이 없거나 틀렸거나, 서버가 허용하지 않는 출처에서 접속한 경우).",
    ),
    ("{} closed the connection (code {}): {}", "{}가 연결을 닫았습니다(코드 {}): {}"),
    ("{} closed the connection (code {})", "{}가 연결을 닫았습니다(코드 {})"),
    // The notices an action's answer leaves.
    ("Topic {} deleted.", "{} 토픽을 삭제했습니다."),
    ("Configs of {} updated.", "{} 토픽의 설정을 바꿨습니다."),
    ("Dynamic configs of broker {} updated.", "브로커 {}의 동적 설정을 바꿨습니다."),
    ("Every broker's dynamic default configs updated.", "모든 브로커의 동적 기본 설정을 바꿨습니다."),
    ("{} now has {} partitions.", "{} 토픽의 파티션이 이제 {}개입니다."),
    ("Schema registered: {} version {} (id {})", "스키마를 등록했습니다: {} 버전 {}(id {})"),
    (
        "Broker {} added: it holds nothing until partitions move to it.",
        "브로커 {}를 추가했습니다. 파티션을 옮겨 오기 전까지는 아무것도 맡지 않습니다.",
    ),
    (
        "Broker {} held no replica and has left the cluster.",
        "브로커 {}는 맡은 복제본이 없어 바로 클러스터를 떠났습니다.",
    ),
    (
        "Broker {} is leaving: {} partitions move their replica off it, then it leaves the cluster.",
        "브로커 {}를 빼는 중입니다. 파티션 {}개의 복제본을 다른 브로커로 옮긴 뒤 클러스터를 떠납니다.",
    ),
    (
        "Records of {}-{} before offset {} deleted: every live replica's log starts there now (low watermark {}).",
        "{}-{}의 오프셋 {} 앞 레코드를 삭제했습니다. 이제 살아 있는 모든 레플리카의 로그가 거기서 시작합니다(low watermark {}).",
    ),
];

/// A sentence of the status line in `lang`; one the table does not know stays as it is.
pub fn status_sentence(lang: Lang, text: &str) -> String {
    match lang {
        Lang::Ko => fill(STATUS_SENTENCES, text).unwrap_or_else(|| text.to_string()),
        Lang::En => text.to_string(),
    }
}

/// `text` in Korean when it is one of `table`'s English templates filled in, its values kept.
fn fill(table: &[(&str, &'static str)], text: &str) -> Option<String> {
    table.iter().find_map(|&(english, korean)| {
        let values = values_in(english, text)?;
        let values: Vec<&dyn std::fmt::Display> =
            values.iter().map(|v| v as &dyn std::fmt::Display).collect();
        Some(put_values(korean, &values))
    })
}

/// The values `text` puts in `template`'s `{}`s, when it is that template filled in.
fn values_in<'a>(template: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let mut pieces = template.split("{}").peekable();
    let mut rest = text.strip_prefix(pieces.next()?)?;
    let mut values = Vec::new();
    while let Some(piece) = pieces.next() {
        // The last literal ends the text; the others end their value at their first occurrence.
        let at = if pieces.peek().is_none() { rest.strip_suffix(piece)?.len() } else { rest.find(piece)? };
        values.push(&rest[..at]);
        rest = &rest[at + piece.len()..];
    }
    rest.is_empty().then_some(values)
}

/// An engine's name from its welcome, in `lang`, part by part; a part not known stays as it is.
pub fn engine_name(lang: Lang, engine: &str) -> String {
    if lang == Lang::En {
        return engine.to_string();
    }
    let mut out: Vec<String> = Vec::new();
    let mut rest = engine;
    while !rest.is_empty() {
        // A fallback takes the rest of the text as its reason.
        let fallback = ENGINE_FALLBACKS.iter().find_map(|&(english, korean)| {
            let reason = rest.strip_prefix(english.strip_suffix("{}")?)?;
            Some(put_values(korean, &[&status_sentence(lang, reason)]))
        });
        if let Some(said) = fallback {
            out.push(said);
            break;
        }
        let (part, after) = rest.split_once(", ").unwrap_or((rest, ""));
        out.push(fill(ENGINE_PARTS, part).unwrap_or_else(|| part.to_string()));
        rest = after;
    }
    out.join(", ")
}

/// A `{}` template in `lang` with `values` put in order.
pub fn trf(lang: Lang, template: &'static str, values: &[&dyn std::fmt::Display]) -> String {
    put_values(tr(lang, template), values)
}

/// `template` with `values` put in its `{}`s, in order.
fn put_values(template: &str, values: &[&dyn std::fmt::Display]) -> String {
    let mut out = String::new();
    let mut values = values.iter();
    let mut parts = template.split("{}").peekable();
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some()
            && let Some(value) = values.next()
        {
            out.push_str(&value.to_string());
        }
    }
    out
}
