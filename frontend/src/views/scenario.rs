//! The page's scenario (`?scenario=`, docs/scenarios.md): the steps played so far with what each
//! did — expectations held or not, and whether the reader's prediction did — the reader's pause
//! and a Continue button, or a question and a button per choice, or the script's line-numbered
//! error; and a link that opens the same scenario in the full playground.

use kite_shared::api::TabCommand;
use kite_shared::scenario::{Outcome, Prediction};
use yew::prelude::*;

use crate::i18n::{Lang, tr, trf};
use crate::state::ScenarioView;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub scenario: Option<ScenarioView>,
    /// Why the script cannot be played (the engine's refusal), shown in place of the steps.
    pub error: Option<String>,
    pub ready: bool,
    pub send: Callback<TabCommand>,
    /// Where the full playground opens this scenario (shown in an embed).
    pub full_playground: Option<String>,
}

/// A step's sentence in the page's language: the Korean when there is one (a pause's from the
/// script, a report's from the run).
fn in_lang(lang: Lang, english: &str, korean: Option<&String>) -> String {
    match (lang, korean) {
        (Lang::Ko, Some(korean)) => korean.clone(),
        _ => english.to_string(),
    }
}

/// What became of the reader's prediction, under the expectation that settled it.
fn verdict(lang: Lang, prediction: &Prediction) -> Html {
    let (class, text) = match &prediction.picked {
        Some(picked) if prediction.held() => ("held", trf(lang, "Your prediction: {} — right.", &[picked])),
        Some(picked) => (
            "missed",
            trf(lang, "Your prediction: {} — the engine's answer is {}.", &[picked, &prediction.answer]),
        ),
        None => ("unasked", trf(lang, "No prediction: the engine's answer is {}.", &[&prediction.answer])),
    };
    html! { <span class={classes!("verdict", class)} data-verdict={class}>{ text }</span> }
}

/// The question the run stopped at, with a button per choice: picking one runs the scenario on.
fn question(lang: Lang, text: String, choices: &[String], ready: bool, send: &Callback<TabCommand>) -> Html {
    html! {
        <div class="reader-question" id="scenario-question" role="group" aria-labelledby="scenario-question-text">
            <p id="scenario-question-text">{ text }</p>
            <p class="hint">{ tr(lang, "Predict, then the engine runs on.") }</p>
            { for choices.iter().map(|choice| {
                let (send, picked) = (send.clone(), choice.clone());
                let onclick = Callback::from(move |_: MouseEvent| {
                    send.emit(TabCommand::ContinueScenario { choice: Some(picked.clone()) })
                });
                html! {
                    <button type="button" class="choice" data-choice={choice.clone()} disabled={!ready} {onclick}>
                        { choice.clone() }</button>
                }
            }) }
        </div>
    }
}

#[function_component(ScenarioPanel)]
pub fn scenario_panel(props: &Props) -> Html {
    let lang = use_context::<Lang>().unwrap_or_default();
    let proceed = {
        let send = props.send.clone();
        Callback::from(move |_: MouseEvent| send.emit(TabCommand::ContinueScenario { choice: None }))
    };
    let view = props.scenario.clone().unwrap_or_default();
    let failed = view.steps.iter().filter(|s| matches!(s.outcome, Outcome::Failed { .. })).count();
    let passed = view.steps.iter().filter(|s| matches!(s.outcome, Outcome::Passed { .. })).count();
    let paused = view.steps.last().and_then(|s| match &s.outcome {
        Outcome::Paused { text, ko } => Some(in_lang(lang, text, ko.as_ref())),
        _ => None,
    });
    let asked = view.steps.last().and_then(|s| match &s.outcome {
        Outcome::Asked { text, ko, choices } if !view.finished => {
            Some(question(lang, in_lang(lang, text, ko.as_ref()), choices, props.ready, &props.send))
        }
        _ => None,
    });
    html! {
        <section class="panel scenario" id="scenario" aria-labelledby="scenario-title">
            <h2 id="scenario-title">{ tr(lang, "Scenario") }
                if let Some(href) = &props.full_playground {
                    <a class="button open-full" id="open-full" href={href.clone()} target="_blank" rel="noopener">
                        { tr(lang, "Open in the full playground") }</a>
                }
            </h2>
            if let (Some(error), true) = (&props.error, view.steps.is_empty()) {
                <p class="error" id="scenario-error" role="alert">{ error }</p>
            }
            <ol class="steps" id="scenario-steps">
                { for view.steps.iter().map(|s| {
                    let (class, text, prediction) = match &s.outcome {
                        Outcome::Done { said, ko } => ("done", in_lang(lang, said, ko.as_ref()), None),
                        Outcome::Paused { text, ko } => ("paused", in_lang(lang, text, ko.as_ref()), None),
                        Outcome::Asked { text, ko, .. } => ("asked", in_lang(lang, text, ko.as_ref()), None),
                        Outcome::Passed { said, ko, prediction } => {
                            ("passed", format!("✓ {}", in_lang(lang, said, ko.as_ref())), prediction.as_ref())
                        }
                        Outcome::Failed { why, ko, prediction } => {
                            ("failed", format!("✗ {}", in_lang(lang, why, ko.as_ref())), prediction.as_ref())
                        }
                    };
                    html! {
                        <li class={classes!("step", class)} data-line={s.line.to_string()} data-outcome={class}>
                            <code class="source">{ format!("{:>3}  {}", s.line, s.source) }</code>
                            <span class="said">{ text }
                                if let Some(prediction) = prediction { { verdict(lang, prediction) } }</span>
                        </li>
                    }
                }) }
            </ol>
            if let (Some(text), false) = (&paused, view.finished) {
                <p class="reader-pause" id="scenario-paused">{ text }</p>
            }
            if let Some(question) = asked.clone() { { question } }
            if props.scenario.is_some() {
                <p class="hint" id="scenario-summary" data-finished={view.finished.to_string()}
                    data-failed={failed.to_string()} data-passed={passed.to_string()}>
                    { trf(lang, "{} expectations held, {} failed", &[&passed, &failed]) }
                    if view.finished { { " · " }{ tr(lang, "the end") } }
                </p>
            }
            if !view.finished && props.scenario.is_some() && asked.is_none() {
                <button id="scenario-continue" type="button" disabled={!props.ready} onclick={proceed}>
                    { tr(lang, "Continue") }</button>
            }
        </section>
    }
}
