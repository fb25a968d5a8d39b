//! A script in a URL: `v1.` then base64url (no padding) of the script's text deflated (raw
//! DEFLATE, RFC 1951). The version prefix lets later formats change while old links keep opening.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::MAX_SCENARIO_BYTES;

/// The format `to_url` writes.
pub const URL_FORMAT_VERSION: &str = "v1";

/// The URL parameter for `text`.
pub fn to_url(text: &str) -> String {
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = deflate.write_all(text.as_bytes());
    let bytes = deflate.finish().unwrap_or_default();
    format!("{URL_FORMAT_VERSION}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The script in a URL parameter `to_url` wrote; an error says what was wrong with it.
pub fn from_url(parameter: &str) -> Result<String, String> {
    from_url_within(parameter, MAX_SCENARIO_BYTES)
}

/// `from_url` for a text of up to `max_bytes` (a shared state is larger than a script).
pub fn from_url_within(parameter: &str, max_bytes: usize) -> Result<String, String> {
    let Some((version, data)) = parameter.split_once('.') else {
        return Err("the scenario parameter has no version (expected v1.…)".into());
    };
    if version != URL_FORMAT_VERSION {
        return Err(format!(
            "the scenario parameter is version {version}; this Kite reads {URL_FORMAT_VERSION}"
        ));
    }
    let bytes =
        URL_SAFE_NO_PAD.decode(data).map_err(|e| format!("the scenario parameter is not base64url: {e}"))?;
    let mut text = String::new();
    // One byte past the limit tells a script that is too long from one that just fits.
    let mut inflate = flate2::read::DeflateDecoder::new(&bytes[..]).take(max_bytes as u64 + 1);
    inflate
        .read_to_string(&mut text)
        .map_err(|e| format!("the scenario parameter does not inflate to text: {e}"))?;
    if text.len() > max_bytes {
        return Err(format!("the scenario is longer than {max_bytes} bytes"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_goes_through_a_url_and_back() {
        let text = "seed 1\ntopic orders partitions 3\nproduce orders key=\"a b\" value=1\n";
        let parameter = to_url(text);
        assert!(parameter.starts_with("v1.") && !parameter.contains(['+', '/', '=']), "{parameter}");
        assert_eq!(from_url(&parameter).as_deref(), Ok(text));
    }

    #[test]
    fn bad_parameters_say_what_is_wrong() {
        assert!(from_url("abc").unwrap_err().contains("no version"));
        assert!(from_url("v9.abc").unwrap_err().contains("version v9"));
        assert!(from_url("v1.!!!").unwrap_err().contains("not base64url"));
        assert!(from_url("v1.AAAA").unwrap_err().contains("inflate"));
        let huge = to_url(&"x".repeat(MAX_SCENARIO_BYTES + 10));
        assert!(from_url(&huge).unwrap_err().contains("longer than"));
    }
}
