//! The browser's half of the log viewer: drawing the rows in view,
//! following new output, folds, line links and revealing a line. Gives
//! the scroll and click handlers of the log.

#[cfg(feature = "hydrate")]
use super::book::Whole;
use super::book::{LogBook, StepLog};
#[cfg(feature = "hydrate")]
use super::dom;
#[cfg(feature = "hydrate")]
use super::rows::{Layout, MARGIN, ROW, draw_rows, layout, number_width};
use leptos::prelude::*;

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub struct Parts {
    pub book: LogBook,
    pub step: StepLog,
    pub started_at: Signal<Option<i64>>,
    pub running: Signal<bool>,
    pub follow: RwSignal<bool>,
    pub drawn: RwSignal<bool>,
    pub scroller: NodeRef<leptos::html::Div>,
    pub canvas: NodeRef<leptos::html::Div>,
    pub rows_el: NodeRef<leptos::html::Div>,
    pub probe: NodeRef<leptos::html::Span>,
}

#[cfg(not(feature = "hydrate"))]
pub fn drive(parts: Parts) -> (impl Fn() + Copy, impl Fn(leptos::ev::MouseEvent) + Copy) {
    let _ = parts;
    (|| {}, |_| {})
}

/// Rows drawn above and below those in view.
/// Everything but the rows themselves that their markup depends on.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy, PartialEq)]
struct DrawKey {
    redraws: u64,
    groups: (usize, usize),
    matches: usize,
    current: Option<usize>,
    highlight: Option<(u32, u32)>,
    started_at: Option<i64>,
    wrap: bool,
}

/// Where a drawing scrolls first.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy)]
enum Scroll {
    Keep,
    End,
    To(f64),
}

/// The rows on screen: `first..last` of the layout, drawn for `key`.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy)]
struct Drawn {
    key: DrawKey,
    first: usize,
    last: usize,
}

#[cfg(feature = "hydrate")]
fn remove(row: Option<web_sys::Element>) {
    if let Some(row) = row {
        row.remove();
    }
}

#[cfg(feature = "hydrate")]
pub fn drive(p: Parts) -> (impl Fn() + Copy, impl Fn(leptos::ev::MouseEvent) + Copy) {
    use wasm_bindgen::JsCast;
    let Parts {
        book,
        step,
        started_at,
        running,
        follow,
        drawn,
        scroller,
        canvas,
        rows_el,
        probe,
    } = p;
    let layout_now = StoredValue::new(Layout::default());
    let scheduled = StoredValue::new(false);

    // What the rows drawn so far were drawn for.
    let on_screen = StoredValue::new(None::<Drawn>);

    // Draws the rows in view, scrolled first as `scroll` says. Rows
    // already on screen stay when nothing but new output changed, so a
    // live log keeps the reader's selection and does not flicker.
    let draw = move |scroll: Scroll| {
        let (Some(el), Some(canvas), Some(rows_el)) = (
            scroller.get_untracked(),
            canvas.get_untracked(),
            rows_el.get_untracked(),
        ) else {
            return;
        };
        let height = layout_now.with_value(Layout::height);
        let width = step.log.with_value(number_width);
        let _ = canvas.set_attribute("style", &format!("height:{height}px;{width}"));
        let _ = canvas.set_attribute("class", "log-canvas virtual");
        match scroll {
            Scroll::Keep => {}
            Scroll::End => el.set_scroll_top(el.scroll_height()),
            Scroll::To(y) => el.set_scroll_top(y.max(0.0) as i32),
        }
        let vp = dom::viewport(&el);
        let key = DrawKey {
            redraws: step.redraws(),
            groups: step.log.with_value(|l| {
                (
                    l.groups().len(),
                    l.groups().iter().filter(|g| g.end.is_some()).count(),
                )
            }),
            matches: step.matches.with_value(Vec::len),
            current: book.current_in(step.step_id),
            highlight: step.highlight.get_untracked(),
            started_at: started_at.get_untracked(),
            wrap: book.wrap.get_untracked(),
        };
        layout_now.with_value(|layout| {
            let n = layout.rows.len();
            let first = layout.row_at(vp.top).saturating_sub(MARGIN).min(n);
            let last = (layout.row_at(vp.top + vp.height.max(ROW)) + MARGIN + 1)
                .min(n)
                .max(first);
            let _ = rows_el.set_attribute(
                "style",
                &format!("transform:translateY({}px)", layout.top_of(first)),
            );
            let html = |a: usize, b: usize| {
                step.log.with_value(|log| {
                    draw_rows(
                        &book,
                        &step,
                        log,
                        &layout.rows[a..b],
                        started_at.get_untracked(),
                    )
                })
            };
            match on_screen.get_value() {
                Some(old) if old.key == key && first < old.last && old.first < last => {
                    if first > old.first {
                        for _ in old.first..first {
                            remove(rows_el.first_element_child());
                        }
                    } else if first < old.first {
                        let _ = rows_el.insert_adjacent_html("afterbegin", &html(first, old.first));
                    }
                    if last < old.last {
                        for _ in last..old.last {
                            remove(rows_el.last_element_child());
                        }
                    } else {
                        // The last row drawn may have grown since.
                        remove(rows_el.last_element_child());
                        let _ =
                            rows_el.insert_adjacent_html("beforeend", &html(old.last - 1, last));
                    }
                }
                _ => rows_el.set_inner_html(&html(first, last)),
            }
            on_screen.set_value(Some(Drawn { key, first, last }));
        });
        if !drawn.get_untracked() {
            drawn.set(true);
        }
    };

    // Brings a line into view, a third of the way down.
    let reveal = move |line: u32| {
        step.reveal.set(None);
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let row = layout_now.with_value(|l| l.rows.partition_point(|r| *r < line));
        let y = layout_now.with_value(|l| l.top_of(row));
        follow.set(false);
        el.scroll_into_view_with_bool(false);
        draw(Scroll::To(y - dom::viewport(&el).height / 3.0));
    };

    // Lays the rows out again when the log, its folds or matches, the
    // wrap setting or the step's state change, keeping the newest
    // output in view while following.
    // This step's current match, so moving between matches elsewhere
    // leaves this log alone.
    let current = Memo::new(move |_| {
        book.current.track();
        book.current_in(step.step_id)
    });
    Effect::new(move |_| {
        step.rev.track();
        current.track();
        step.highlight.track();
        step.reveal.track();
        let open = step.open.get();
        let wrap = book.wrap.get();
        let times = book.times.get();
        let _ = running.get();
        if !open {
            return;
        }
        let columns = wrap.then(|| {
            let (Some(el), Some(probe)) = (scroller.get_untracked(), probe.get_untracked()) else {
                return 80;
            };
            let char_w = dom::char_width(&probe);
            let gutter = if times { 15.0 } else { 8.0 };
            ((dom::viewport(&el).width / char_w) - gutter).max(20.0) as usize
        });
        layout_now.set_value(layout(&step, columns));
        // The whole log came in place of the tail: the lines in view move
        // down by what came before them, and so does the view.
        let prepended = step.prepended.get_value();
        step.prepended.set_value(0);
        match step.reveal.get_untracked() {
            Some(line) => reveal(line),
            None => {
                // A reader who scrolled up since the last drawing (the
                // scroll event may not have come yet) is not pulled back.
                let el = scroller.get_untracked();
                let at_end = !drawn.get_untracked()
                    || el.as_ref().is_none_or(|el| {
                        let vp = dom::viewport(el);
                        vp.top + vp.height >= vp.content - ROW
                    });
                if follow.get_untracked() && !at_end {
                    follow.set(false);
                }
                let scroll = match el {
                    _ if follow.get_untracked() => Scroll::End,
                    Some(el) if prepended > 0 && drawn.get_untracked() => {
                        let row =
                            layout_now.with_value(|l| l.rows.partition_point(|r| *r < prepended));
                        let shift = layout_now.with_value(|l| l.top_of(row));
                        Scroll::To(el.scroll_top() as f64 + shift)
                    }
                    _ => Scroll::Keep,
                };
                draw(scroll);
            }
        }
    });

    // Loads the whole log once the reader opens a step that has only its tail.
    Effect::new(move |_| {
        if step.open.get() && step.whole.get() == Whole::No {
            book.load_whole(step, || {});
        }
    });

    // Following again scrolls to the newest output.
    Effect::new(move |prev: Option<bool>| {
        let now = follow.get();
        if now && prev == Some(false) {
            draw(Scroll::End);
        }
        now
    });

    // Scrolling draws the rows now in view (once a frame); scrolling
    // up stops following, back at the end follows again.
    let on_scroll = move || {
        if let Some(el) = scroller.get_untracked() {
            let vp = dom::viewport(&el);
            let at_end = vp.top + vp.height >= vp.content - ROW;
            if follow.get_untracked() != at_end {
                follow.set(at_end);
            }
        }
        if !scheduled.get_value() {
            scheduled.set_value(true);
            request_animation_frame(move || {
                scheduled.set_value(false);
                draw(Scroll::Keep);
            });
        }
    };

    // A fold's header folds; a line number links to the line (with
    // Shift, to the range from the line linked before).
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if let Ok(Some(toggle)) = target.closest(".lg-toggle") {
            if let Some(line) = toggle.get_attribute("data-g").and_then(|g| g.parse().ok()) {
                // The header stays where it is, under the reader's pointer.
                follow.set(false);
                step.toggle(line);
            }
        } else if let Ok(Some(link)) = target.closest("a.ln") {
            let Some(n) = link
                .get_attribute("data-n")
                .and_then(|n| n.parse::<u32>().ok())
            else {
                return;
            };
            ev.prevent_default();
            let (first, last) = match step.highlight.get_untracked() {
                Some((a, _)) if ev.shift_key() => (a.min(n), a.max(n)),
                _ => (n, n),
            };
            let anchor = if first == last {
                format!("step-{}-L{first}", step.number)
            } else {
                format!("step-{}-L{first}-L{last}", step.number)
            };
            dom::replace_hash(&anchor);
            step.highlight.set(Some((first, last)));
        }
    };
    (on_scroll, on_click)
}
