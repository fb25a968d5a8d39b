//! `cargo xtask docs`: the docs site (`docs/site/{en,ko}/*.html`) built into `dist/docs/`, where
//! `kite serve` serves it under `/docs`. Each page's `{{scenario:NAME}}` becomes the text of
//! `docs/scenarios/NAME.kite` (for a `<kite-playground>`), `{{url:NAME}}` its `?scenario=` parameter
//! (for an iframe, from `kite scenario url`), and the page is wrapped in the site's layout.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The site's languages: (directory, `<html lang>`, the other language's directory and name).
const LANGUAGES: &[(&str, &str, &str, &str)] = &[("en", "en", "ko", "한국어"), ("ko", "ko", "en", "English")];

/// Builds the site into `ui_dir/docs` with `kite` (for the URL parameters); returns its path.
pub(crate) fn build(ui_dir: &Path, kite: &Path) -> Result<PathBuf, String> {
    let root = crate::workspace_root();
    let site = root.join("docs").join("site");
    let out = ui_dir.join("docs");
    for &(dir, lang, other_dir, other_name) in LANGUAGES {
        let target = out.join(dir);
        std::fs::create_dir_all(&target).map_err(|e| format!("cannot create {}: {e}", target.display()))?;
        let mut pages: Vec<PathBuf> = std::fs::read_dir(site.join(dir))
            .map_err(|e| format!("cannot list {}: {e}", site.join(dir).display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
            .collect();
        pages.sort();
        for page in pages {
            let source =
                std::fs::read_to_string(&page).map_err(|e| format!("cannot read {}: {e}", page.display()))?;
            let body = fill(&source, &root, kite).map_err(|e| format!("{}: {e}", page.display()))?;
            let title = source
                .lines()
                .next()
                .and_then(|l| l.trim().strip_prefix("<!-- title:"))
                .and_then(|l| l.strip_suffix("-->"))
                .map(str::trim)
                .ok_or_else(|| format!("{} does not start with <!-- title: … -->", page.display()))?;
            let name = page.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let html = layout(lang, title, &format!("../{other_dir}/{name}"), other_name, &body);
            std::fs::write(target.join(&name), html).map_err(|e| format!("cannot write {name}: {e}"))?;
        }
    }
    std::fs::copy(site.join("site.css"), out.join("site.css"))
        .map_err(|e| format!("cannot copy site.css: {e}"))?;
    // The site's front door picks English.
    let index = "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url=en/index.html\">\
                 <a href=\"en/index.html\">Kite docs</a>\n";
    std::fs::write(out.join("index.html"), index)
        .map_err(|e| format!("cannot write the site's index: {e}"))?;
    // `dist::build` installed brotli if it could.
    crate::dist::precompress(&out, false)?;
    println!("xtask: docs ready in {}", out.display());
    Ok(out)
}

/// Replaces `{{scenario:NAME}}` and `{{url:NAME}}` in `source`.
fn fill(source: &str, root: &Path, kite: &Path) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = source;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or("a `{{` is not closed")? + start;
        let (kind, name) =
            rest[start + 2..end].split_once(':').ok_or("expected {{scenario:NAME}} or {{url:NAME}}")?;
        let file = root.join("docs").join("scenarios").join(format!("{name}.kite"));
        match kind {
            "scenario" => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                // Inside <script type="text/kite-scenario"> only `</` could end the element early.
                if text.contains("</") {
                    return Err(format!(
                        "{} contains `</`, which would end its <script> early",
                        file.display()
                    ));
                }
                out.push_str(&text);
            }
            "url" => {
                let output = Command::new(kite)
                    .args(["scenario", "url"])
                    .arg(&file)
                    .output()
                    .map_err(|e| format!("cannot run {}: {e}", kite.display()))?;
                if !output.status.success() {
                    return Err(String::from_utf8_lossy(&output.stderr).into_owned());
                }
                out.push_str(String::from_utf8_lossy(&output.stdout).trim());
            }
            other => return Err(format!("unknown placeholder {{{{{other}:…}}}}")),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn layout(lang: &str, title: &str, other_href: &str, other_name: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="../site.css">
  <script type="module" src="/kite-embed.js"></script>
</head>
<body>
  <nav><a href="index.html">Kite docs</a> · <a href="/">Playground</a> · <a href="{other_href}" hreflang="{other}">{other_name}</a></nav>
  <main>
{body}
  </main>
</body>
</html>
"#,
        other = other_href.split('/').nth(1).unwrap_or_default()
    )
}
