//! What the log viewer asks of the browser: the clock, scroll positions,
//! sizes, the address's fragment and the clipboard. On the server each
//! answers as a page that has not been laid out yet.

/// Milliseconds from the page's start, for timing a search.
pub fn now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .performance()
            .map_or(0.0, |p| p.now())
    }
    #[cfg(not(feature = "hydrate"))]
    0.0
}

/// The fragment of the page's address, without its `#`.
pub fn hash() -> String {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .location()
            .hash()
            .unwrap_or_default()
            .trim_start_matches('#')
            .to_string()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Puts `anchor` in the address without scrolling or a history entry.
#[cfg(feature = "hydrate")]
pub fn replace_hash(anchor: &str) {
    if let Ok(history) = leptos::prelude::window().history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("#{anchor}")),
        );
    }
}

/// Runs `f` whenever the address's fragment changes, while the calling
/// component lives.
pub fn on_hash_change(f: impl Fn() + Clone + Send + Sync + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let handle = leptos::prelude::window_event_listener(leptos::ev::hashchange, move |_| f());
        leptos::prelude::on_cleanup(move || handle.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = f;
}

/// Copies `text` to the clipboard.
pub fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window()
            .navigator()
            .clipboard()
            .write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// A scrolling box's position: its scroll offset, its visible height and
/// width, and its whole content's height.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Viewport {
    pub top: f64,
    pub height: f64,
    pub width: f64,
    pub content: f64,
}

#[cfg(feature = "hydrate")]
pub fn viewport(el: &web_sys::Element) -> Viewport {
    Viewport {
        top: el.scroll_top() as f64,
        height: el.client_height() as f64,
        width: el.client_width() as f64,
        content: el.scroll_height() as f64,
    }
}

/// The width of one character of the log's font, measured on `probe`
/// (an element holding ten characters).
#[cfg(feature = "hydrate")]
pub fn char_width(probe: &web_sys::Element) -> f64 {
    let w = probe.get_bounding_client_rect().width() / 10.0;
    if w > 0.0 { w } else { 8.0 }
}
