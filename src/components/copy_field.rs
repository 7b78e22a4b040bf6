//! A value to copy (an invite link): shown in full, selected on focus,
//! with a button that puts it on the clipboard.

use leptos::prelude::*;

#[component]
pub fn CopyField(
    value: String,
    label: &'static str,
    /// The input's id, unique on the page.
    #[prop(default = "copy-field")]
    id: &'static str,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let copied = RwSignal::new(false);
    let on_copy = move |_| {
        select_all(input);
        copied.set(copy_to_clipboard(&value_of(input)));
    };
    view! {
        <div class="copy-field">
            <label class="visually-hidden" for=id>{label}</label>
            <input id=id node_ref=input type="text" readonly value=value
                spellcheck="false" on:focus=move |_| select_all(input) />
            <button class="button" type="button" on:click=on_copy>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}

fn value_of(input: NodeRef<leptos::html::Input>) -> String {
    input
        .get_untracked()
        .map(|el| el.value())
        .unwrap_or_default()
}

fn select_all(input: NodeRef<leptos::html::Input>) {
    if let Some(el) = input.get_untracked() {
        el.select();
    }
}

/// Whether the text was handed to the clipboard (browsers allow it on
/// secure origins, localhost included); elsewhere the text stays selected
/// for Ctrl+C.
fn copy_to_clipboard(text: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let clipboard = window().navigator().clipboard();
        let _ = clipboard.write_text(text);
        window().is_secure_context()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}
