//! What a deployment page's logs share ([`LogBook`]): each step's log and
//! what the reader did with it, the search across steps, and where a line
//! link points.

use super::dom;
use crate::api::deployments::get_step_log;
use crate::model::log::render::parse_anchor;
use crate::model::log::search::{self, Match};
use crate::model::log::{Appended, LogModel, OutputMark};
use crate::model::{DeploymentId, DeploymentStep, StepId};
use leptos::prelude::*;
use std::collections::HashMap;

/// Whether a step's whole log is here or being fetched.
#[derive(Clone, Debug, PartialEq)]
pub enum Whole {
    /// The page has only the tail it came with.
    No,
    Loading,
    Yes,
    Failed(String),
}

/// One step's log and what the reader did with it.
#[derive(Clone, Copy)]
pub struct StepLog {
    pub step_id: StepId,
    /// The step's number as the page shows it.
    pub number: i64,
    pub log: StoredValue<LogModel>,
    /// Bumped when the log, its matches or its folds change.
    pub rev: RwSignal<u64>,
    pub open: RwSignal<bool>,
    pub whole: RwSignal<Whole>,
    pub matches: StoredValue<Vec<Match>>,
    /// Groups the reader folded (true) or opened (false), by their header's
    /// line number; the others are folded once finished.
    folds: StoredValue<HashMap<u32, bool>>,
    /// Bumped whenever rows already drawn may read differently: a fold,
    /// new search results, the whole log in place of the tail.
    redraw: StoredValue<u64>,
    /// Lines put before those shown when the whole log replaced the tail,
    /// for the view to keep its place.
    pub prepended: StoredValue<u32>,
    /// What waits for the whole log.
    waiting: StoredValue<Vec<Box<dyn FnOnce() + Send + Sync>>>,
    /// Line numbers a link points at.
    pub highlight: RwSignal<Option<(u32, u32)>>,
    /// A line to bring into view, once drawn (a line index).
    pub reveal: RwSignal<Option<u32>>,
}

impl StepLog {
    fn new(step: &DeploymentStep, open: bool) -> Self {
        let log = LogModel::new(
            step.output_offset,
            step.output_line as u32,
            &step.output,
            &step.output_times,
        );
        Self {
            step_id: step.id,
            number: step.sort_order,
            whole: RwSignal::new(if log.is_tail() { Whole::No } else { Whole::Yes }),
            log: StoredValue::new(log),
            rev: RwSignal::new(0),
            open: RwSignal::new(open),
            matches: StoredValue::new(Vec::new()),
            folds: StoredValue::new(HashMap::new()),
            redraw: StoredValue::new(0),
            prepended: StoredValue::new(0),
            waiting: StoredValue::new(Vec::new()),
            highlight: RwSignal::new(None),
            reveal: RwSignal::new(None),
        }
    }

    fn bump(&self) {
        self.rev.update(|n| *n += 1);
    }

    /// Whether the group headed by `line` is folded.
    pub fn folded(&self, line: u32) -> bool {
        self.log.with_value(|l| {
            let chosen = self.folds.with_value(|f| f.get(&l.number(line)).copied());
            chosen.unwrap_or_else(|| l.group_at(line).is_some_and(|g| g.end.is_some()))
        })
    }

    /// Folds or unfolds the group headed by `line`.
    pub fn toggle(&self, line: u32) {
        let fold = !self.folded(line);
        let number = self.log.with_value(|l| l.number(line));
        self.folds.update_value(|f| {
            f.insert(number, fold);
        });
        self.changed();
    }

    /// Rows already drawn may read differently now.
    fn changed(&self) {
        self.redraw.update_value(|n| *n += 1);
        self.bump();
    }

    /// Counts the changes that make drawn rows read differently.
    #[cfg(feature = "hydrate")]
    pub fn redraws(&self) -> u64 {
        self.redraw.get_value()
    }

    /// Unfolds every group that holds `line`.
    fn unfold_to(&self, line: u32) {
        for header in self.log.with_value(|l| l.groups_holding(line)) {
            if self.folded(header) {
                self.toggle(header);
            }
        }
    }
}

/// What the steps of one page share: the search, the display choices and
/// where a line link points.
#[derive(Clone, Copy)]
pub struct LogBook {
    pub deployment_id: DeploymentId,
    pub steps: StoredValue<Vec<StepLog>>,
    pub query: RwSignal<String>,
    /// The current match: a step's index and a match's index in it.
    pub current: RwSignal<Option<(usize, usize)>>,
    pub total: RwSignal<usize>,
    /// How long the last search took in the browser, in ms.
    pub search_ms: RwSignal<f64>,
    pub times: RwSignal<bool>,
    pub wrap: RwSignal<bool>,
    /// Whether a search waits to run again over a whole log.
    rerun: StoredValue<bool>,
}

impl LogBook {
    /// The logs of `steps`, the step in `open` opened.
    pub fn new(
        deployment_id: DeploymentId,
        steps: &mut [DeploymentStep],
        open: Option<StepId>,
    ) -> Self {
        let logs = steps
            .iter_mut()
            .map(|s| {
                let log = StepLog::new(s, open == Some(s.id));
                // The book holds the output from here on.
                s.output = String::new();
                s.output_times = Vec::new();
                log
            })
            .collect();
        Self {
            deployment_id,
            steps: StoredValue::new(logs),
            query: RwSignal::new(String::new()),
            current: RwSignal::new(None),
            total: RwSignal::new(0),
            search_ms: RwSignal::new(0.0),
            times: RwSignal::new(true),
            wrap: RwSignal::new(false),
            rerun: StoredValue::new(false),
        }
    }

    pub fn step(&self, id: StepId) -> Option<StepLog> {
        self.steps
            .with_value(|s| s.iter().find(|l| l.step_id == id).copied())
    }

    /// Makes room for a step the page did not know.
    pub fn add_step(&self, step: &DeploymentStep) {
        if self.step(step.id).is_none() {
            self.steps.update_value(|s| {
                s.push(StepLog::new(step, false));
                s.sort_by_key(|l| l.number);
            });
        }
    }

    /// Live output for a step.
    pub fn append(
        &self,
        step_id: StepId,
        offset: i64,
        text: &str,
        times: &[OutputMark],
    ) -> Appended {
        let Some(step) = self.step(step_id) else {
            return Appended::NotHere;
        };
        let done = step.log.try_update_value(|l| l.append(offset, text, times));
        let done = done.unwrap_or(Appended::NotHere);
        if done == Appended::Yes {
            let from = step.log.with_value(LogModel::changed_from);
            self.refresh_matches(&step, from);
            step.bump();
        }
        done
    }

    /// Fetches a step's whole log unless it is here or on its way; `then`
    /// runs once it is here.
    pub fn load_whole(&self, step: StepLog, then: impl FnOnce() + Send + Sync + 'static) {
        match step.whole.get_untracked() {
            Whole::Yes => return then(),
            Whole::Loading => return step.waiting.update_value(|w| w.push(Box::new(then))),
            Whole::No | Whole::Failed(_) => {}
        }
        step.waiting.update_value(|w| w.push(Box::new(then)));
        step.whole.set(Whole::Loading);
        let book = *self;
        let deployment = self.deployment_id.to_string();
        leptos::task::spawn_local(async move {
            match get_step_log(deployment, step.step_id.to_string()).await {
                Ok(whole) => {
                    let whole = LogModel::whole(&whole);
                    let before = step.log.with_value(LogModel::first_line);
                    step.log.update_value(|l| l.absorb(whole));
                    step.prepended.set_value(before);
                    step.whole.set(Whole::Yes);
                    book.refresh_matches(&step, 0);
                    step.changed();
                    for then in step
                        .waiting
                        .try_update_value(std::mem::take)
                        .unwrap_or_default()
                    {
                        then();
                    }
                }
                Err(e) => {
                    step.waiting.set_value(Vec::new());
                    step.whole.set(Whole::Failed(e.message));
                }
            }
        });
    }

    /// Searches every step for the query as it now is.
    pub fn search(&self) {
        let started = dom::now();
        let phrase = self.query.get_untracked();
        let mut total = 0;
        for step in self.steps.get_value() {
            let found = step.log.with_value(|l| search::find(l, &phrase));
            total += found.len();
            if !found.is_empty() {
                step.open.set(true);
            }
            step.matches.set_value(found);
            step.changed();
            let partial = matches!(step.whole.get_untracked(), Whole::No | Whole::Loading);
            if !phrase.is_empty() && partial && !self.rerun.get_value() {
                // The rest of the log may hold more: search again once it is here.
                self.rerun.set_value(true);
                let book = *self;
                self.load_whole(step, move || {
                    book.rerun.set_value(false);
                    book.search();
                });
            }
        }
        self.total.set(total);
        self.search_ms.set(dom::now() - started);
        self.go(if total > 0 { Some(0) } else { None });
    }

    /// Searches again what changed of a step's log, from `from` in its text on.
    fn refresh_matches(&self, step: &StepLog, from: u32) {
        let phrase = self.query.get_untracked();
        if phrase.is_empty() {
            return;
        }
        let before = step.matches.with_value(Vec::len);
        let found = step.log.with_value(|l| search::find_from(l, &phrase, from));
        step.matches.update_value(|m| {
            m.retain(|m| m.start < from);
            m.extend(found);
        });
        let after = step.matches.with_value(Vec::len);
        if after != before {
            self.total
                .update(|t| *t = (*t + after).saturating_sub(before));
        }
    }

    /// The current match's place among all matches, from 0.
    pub fn position(&self) -> Option<usize> {
        let (step, i) = self.current.get()?;
        let before: usize = self.steps.with_value(|s| {
            s[..step]
                .iter()
                .map(|l| l.matches.with_value(Vec::len))
                .sum()
        });
        Some(before + i)
    }

    /// Moves to the next (`forward`) or previous match, round the end.
    pub fn step_match(&self, forward: bool) {
        let total = self.total.get_untracked();
        if total == 0 {
            return;
        }
        let next = match self.position_untracked() {
            Some(at) if forward => (at + 1) % total,
            Some(at) => (at + total - 1) % total,
            None if forward => 0,
            None => total - 1,
        };
        self.go(Some(next));
    }

    fn position_untracked(&self) -> Option<usize> {
        untrack(|| self.position())
    }

    /// Makes the `n`th match of all current, opening and scrolling to it.
    fn go(&self, n: Option<usize>) {
        let Some(mut n) = n else {
            self.current.set(None);
            return;
        };
        for (i, step) in self.steps.get_value().into_iter().enumerate() {
            let count = step.matches.with_value(Vec::len);
            if n < count {
                let line = step.matches.with_value(|m| m[n].line);
                self.current.set(Some((i, n)));
                step.open.set(true);
                step.unfold_to(line);
                step.bump();
                step.reveal.set(Some(line));
                return;
            }
            n -= count;
        }
    }

    /// The current match's index within `step`'s matches, if it is there.
    pub fn current_in(&self, step: StepId) -> Option<usize> {
        let (i, m) = self.current.get_untracked()?;
        self.steps
            .with_value(|s| s.get(i).map(|l| l.step_id))
            .filter(|id| *id == step)
            .map(|_| m)
    }

    /// Follows the address's `#step-2-L120` anchor once the page runs, and
    /// whenever it changes.
    pub fn follow_address(&self) {
        let book = *self;
        Effect::new(move |_| book.follow_anchor(&dom::hash()));
        dom::on_hash_change(move || book.follow_anchor(&dom::hash()));
    }

    /// Opens, highlights and scrolls to what a `#step-2-L120(-L140)` anchor names.
    pub fn follow_anchor(&self, anchor: &str) {
        let Some((number, first, last)) = parse_anchor(anchor) else {
            return;
        };
        let Some(step) = self
            .steps
            .with_value(|s| s.iter().find(|l| l.number == number).copied())
        else {
            return;
        };
        step.open.set(true);
        step.highlight.set(Some((first, last)));
        let show = move || {
            if let Some(line) = step.log.with_value(|l| l.index_of(first)) {
                step.unfold_to(line);
                step.bump();
                step.reveal.set(Some(line));
            }
        };
        if step.log.with_value(|l| l.index_of(first).is_some()) {
            show();
        } else {
            self.load_whole(step, show);
        }
    }
}
