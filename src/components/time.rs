//! Times as people read them: relative, exact on hover.

use crate::model::time;
use leptos::prelude::*;

#[component]
pub fn RelativeTime(ms: i64) -> impl IntoView {
    let exact = time::exact_utc(ms);
    view! {
        <time datetime=exact.clone() title=exact>
            {time::relative(ms, time::now_ms())}
        </time>
    }
}
