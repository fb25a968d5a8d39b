//! The UI's views: small components that render state and dispatch commands.

pub mod cluster;
pub mod connection;
pub mod consumers;
pub mod metrics;
pub mod partitions;
pub mod producer;
pub mod timeline;
pub mod topics;

use web_sys::HtmlInputElement;
use yew::{InputEvent, TargetCast, UseStateHandle};

/// An `oninput` handler that keeps a text state in step with its input element.
pub fn bind_text(state: &UseStateHandle<String>) -> yew::Callback<InputEvent> {
    let state = state.clone();
    yew::Callback::from(move |e: InputEvent| state.set(e.target_unchecked_into::<HtmlInputElement>().value()))
}
