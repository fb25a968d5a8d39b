//! The datagen source: mock records shaped like kafka-connect-datagen's quickstarts (`orders`,
//! `users`, `pageviews`, `clickstream`), one every random interval up to `max.interval` ms, for
//! `iterations` records (`-1`: without end). Kite draws the fields from the task's own seeded
//! stream (the worker's seed, the connector and the task), not from Avro schemas as
//! kafka-connect-datagen does: the field names and kinds are its quickstarts', the values Kite's.

use serde_json::{Value, json};

use super::converter::Data;
use crate::random::Rng;

/// A quickstart: which kind of record the source makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quickstart {
    /// `{"ordertime","orderid","itemid","orderunits","address":{"city","state","zipcode"}}`,
    /// keyed by `orderid`.
    Orders,
    /// `{"registertime","userid","regionid","gender"}`, keyed by `userid`.
    Users,
    /// `{"viewtime","userid","pageid"}`, keyed by `viewtime`.
    Pageviews,
    /// A web server's access log line as fields, keyed by `ip`.
    Clickstream,
}

impl Quickstart {
    /// Every quickstart, by name.
    pub const ALL: [(&'static str, Quickstart); 4] = [
        ("orders", Quickstart::Orders),
        ("users", Quickstart::Users),
        ("pageviews", Quickstart::Pageviews),
        ("clickstream", Quickstart::Clickstream),
    ];

    /// The quickstart by its name (`quickstart=orders`).
    pub fn named(name: &str) -> Option<Quickstart> {
        Quickstart::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.trim())).map(|(_, q)| *q)
    }
}

/// The earliest and latest time kafka-connect-datagen's quickstarts draw `ordertime` and
/// `registertime` from (ms).
const TIME_RANGE_MS: (i64, i64) = (1_487_715_775_521, 1_519_273_364_600);

/// A number in `low..=high`.
fn between(rng: &mut Rng, low: i64, high: i64) -> i64 {
    low + (rng.next_u64() % (high - low + 1) as u64) as i64
}

fn pick<'a>(rng: &mut Rng, choices: &[&'a str]) -> &'a str {
    choices[(rng.next_u64() % choices.len() as u64) as usize]
}

/// The `iteration`th record of a quickstart: its key and value.
pub fn record(quickstart: Quickstart, iteration: u64, rng: &mut Rng) -> (Data, Data) {
    let value = match quickstart {
        Quickstart::Orders => json!({
            "ordertime": between(rng, TIME_RANGE_MS.0, TIME_RANGE_MS.1),
            "orderid": iteration,
            "itemid": format!("Item_{}", between(rng, 1, 999)),
            "orderunits": between(rng, 1, 100) as f64 / 10.0,
            "address": {
                "city": format!("City_{}", between(rng, 1, 99)),
                "state": format!("State_{}", between(rng, 1, 99)),
                "zipcode": between(rng, 10_000, 99_999),
            },
        }),
        Quickstart::Users => json!({
            "registertime": between(rng, TIME_RANGE_MS.0, TIME_RANGE_MS.1),
            "userid": format!("User_{}", between(rng, 1, 9)),
            "regionid": format!("Region_{}", between(rng, 1, 9)),
            "gender": pick(rng, &["MALE", "FEMALE", "OTHER"]),
        }),
        Quickstart::Pageviews => json!({
            "viewtime": iteration * 10 + 1,
            "userid": format!("User_{}", between(rng, 1, 9)),
            "pageid": format!("Page_{}", between(rng, 1, 99)),
        }),
        Quickstart::Clickstream => json!({
            "ip": pick(rng, &["111.152.45.45", "111.203.236.146", "222.245.174.248", "122.152.45.245", "233.90.225.227"]),
            "userid": between(rng, 1, 40),
            "remote_user": "-",
            "_time": TIME_RANGE_MS.1 + iteration as i64 * 1000,
            "request": pick(rng, &["GET /index.html HTTP/1.1", "GET /site/user_status.html HTTP/1.1", "GET /site/login.html HTTP/1.1", "GET /images/track.png HTTP/1.1"]),
            "status": pick(rng, &["200", "302", "404", "405", "406", "407"]),
            "bytes": pick(rng, &["278", "1289", "2048", "4096", "4006", "4196", "14096"]),
            "referrer": "-",
            "agent": pick(rng, &["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/537.36"]),
        }),
    };
    let key_field = match quickstart {
        Quickstart::Orders => "orderid",
        Quickstart::Users => "userid",
        Quickstart::Pageviews => "viewtime",
        Quickstart::Clickstream => "ip",
    };
    let key = match value.get(key_field).cloned().unwrap_or(Value::Null) {
        Value::String(s) => Data::String(s),
        other => Data::Json(other),
    };
    (key, Data::Json(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_quickstart_keys_its_records_as_kafka_connect_datagen_does() {
        let mut rng = Rng::from_seed(1);
        let (key, value) = record(Quickstart::Orders, 7, &mut rng);
        assert_eq!(key, Data::Json(json!(7)));
        let Data::Json(value) = value else { panic!("a map") };
        assert!(value["itemid"].as_str().unwrap().starts_with("Item_"));
        assert!(value["address"]["zipcode"].as_i64().unwrap() >= 10_000);
        let (key, _) = record(Quickstart::Users, 0, &mut rng);
        assert!(matches!(key, Data::String(ref u) if u.starts_with("User_")));
        assert_eq!(Quickstart::named(" Pageviews"), Some(Quickstart::Pageviews));
        assert_eq!(Quickstart::named("stocks"), None);
        let again = record(Quickstart::Clickstream, 3, &mut Rng::from_seed(9));
        assert_eq!(
            again,
            record(Quickstart::Clickstream, 3, &mut Rng::from_seed(9)),
            "the same seed, the same record"
        );
    }
}
