//! The page's end of the live channel: one WebSocket per page, opened by
//! the app shell, reconnecting forever with exponential backoff and jitter.
//! Pages register listeners for the messages they care about and refetch
//! their data when told to resync (a `reset`, or a connection that could
//! not resume from a known position).

use crate::model::live::LiveMessage;
use leptos::prelude::*;
use std::sync::Arc;

/// What the connection indicator shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    Reconnecting,
}

type Listener = Arc<dyn Fn(&LiveMessage) + Send + Sync>;

/// Whose socket the page opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The signed-in member's; when their session ends the page goes to
    /// sign in.
    Member,
    /// A wallboard link's (`/ws?wallboard=<token>`); when it is revoked the
    /// page says so and stops reconnecting.
    WallboardLink(String),
}

/// The live channel as pages see it; `Copy`, provided by the app shell
/// (or the wallboard).
#[derive(Clone, Copy)]
pub struct Live {
    pub status: RwSignal<LiveStatus>,
    /// Bumped when pages must refetch to show exactly the server's state.
    pub resync: RwSignal<u64>,
    /// Bumped by every `hello`: the page is connected again and may have
    /// missed what no event describes.
    pub connected: RwSignal<u64>,
    /// The build of the server the socket reached, from its `hello`.
    pub server_build: RwSignal<Option<String>>,
    /// The socket was closed for good: the wallboard link was revoked.
    pub ended: RwSignal<bool>,
    /// How many recent messages are kept for late listeners (none for a
    /// page that refetches on every change anyway).
    keep_recent: usize,
    listeners: StoredValue<Vec<(u64, Listener)>>,
    next_id: StoredValue<u64>,
    /// The latest record messages, replayed to each new listener: a page
    /// that fetched its data while messages were arriving folds them in
    /// (versions and offsets make a repeat harmless), so none falls
    /// between its fetch and its subscription.
    recent: StoredValue<std::collections::VecDeque<LiveMessage>>,
}

/// How many recent messages a new listener is given.
const RECENT: usize = 1000;

impl Live {
    fn new(keep_recent: usize) -> Self {
        Self {
            status: RwSignal::new(LiveStatus::Connecting),
            resync: RwSignal::new(0),
            connected: RwSignal::new(0),
            server_build: RwSignal::new(None),
            ended: RwSignal::new(false),
            keep_recent,
            listeners: StoredValue::new(Vec::new()),
            next_id: StoredValue::new(0),
            recent: StoredValue::new(Default::default()),
        }
    }

    /// Calls `f` with every record message while the calling component
    /// lives. On the server, where nothing streams, it does nothing.
    pub fn subscribe(&self, f: impl Fn(&LiveMessage) + Send + Sync + 'static) {
        if cfg!(not(feature = "hydrate")) {
            return;
        }
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let f: Listener = Arc::new(f);
        self.recent
            .with_value(|recent| recent.iter().for_each(|m| f(m)));
        self.listeners.update_value(|l| l.push((id, f)));
        let listeners = self.listeners;
        on_cleanup(move || {
            listeners.try_update_value(|l| l.retain(|(i, _)| *i != id));
        });
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn dispatch(&self, message: &LiveMessage) {
        if self.keep_recent > 0 {
            self.recent.update_value(|recent| {
                if recent.len() >= self.keep_recent {
                    recent.pop_front();
                }
                recent.push_back(message.clone());
            });
        }
        // Listeners may subscribe or unsubscribe while handling a message.
        let listeners: Vec<Listener> = self
            .listeners
            .with_value(|l| l.iter().map(|(_, f)| f.clone()).collect());
        for f in listeners {
            f(message);
        }
    }
}

/// The live channel of the current page.
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(|| Live::new(RECENT))
}

/// Creates the page's live channel; `position` is where the server-rendered
/// data stands, so the first connection resumes from there and misses nothing.
pub fn provide_live(position: impl Fn() -> Option<i64> + 'static) -> Live {
    provide_live_on(Channel::Member, RECENT, position)
}

/// [`provide_live`] for `channel`, keeping `keep_recent` messages for
/// listeners that subscribe late.
pub fn provide_live_on(
    channel: Channel,
    keep_recent: usize,
    position: impl Fn() -> Option<i64> + 'static,
) -> Live {
    let live = Live::new(keep_recent);
    provide_context(live);
    #[cfg(feature = "hydrate")]
    {
        let started = StoredValue::new(false);
        Effect::new(move |_| {
            if let Some(p) = position()
                && !started.get_value()
            {
                started.set_value(true);
                socket::start(live, Some(p), channel.clone());
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (position, channel);
    live
}

#[cfg(feature = "hydrate")]
mod socket {
    use super::{Channel, Live, LiveStatus};
    use crate::model::live::LiveMessage;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{CloseEvent, MessageEvent, WebSocket};

    /// No message for this long (the server sends a heartbeat every 20 s)
    /// means the connection is dead even if the browser has not noticed.
    const SILENCE: Duration = Duration::from_secs(45);
    const FIRST_RETRY_MS: f64 = 500.0;
    /// The close code the server ends a signed-out page's socket with.
    const SIGNED_OUT: u16 = 1008;
    const MAX_RETRY_MS: f64 = 30_000.0;

    struct Conn {
        live: Live,
        channel: Channel,
        /// The last position seen; `None` after a reset.
        position: Option<i64>,
        attempts: u32,
        socket: Option<WebSocket>,
        on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
        on_close: Option<Closure<dyn FnMut(CloseEvent)>>,
        /// When the socket last said anything (`Date.now()`).
        heard_at: f64,
        /// One interval per connection checks `heard_at`: a timer re-armed
        /// per message would leave a cleared callback behind each time.
        watchdog: Option<IntervalHandle>,
    }

    thread_local! {
        /// The page's one connection; the socket's handlers hold it weakly.
        static CONNECTION: RefCell<Option<Rc<RefCell<Conn>>>> = const { RefCell::new(None) };
    }

    pub fn start(live: Live, position: Option<i64>, channel: Channel) {
        // A page reached by client-side navigation replaces the previous
        // page's connection: unhook and close it first.
        if let Some(old) = CONNECTION.with(|c| c.borrow_mut().take()) {
            stop(&old);
        }
        let conn = Rc::new(RefCell::new(Conn {
            live,
            channel,
            position,
            attempts: 0,
            socket: None,
            on_message: None,
            on_close: None,
            heard_at: 0.0,
            watchdog: None,
        }));
        CONNECTION.with(|c| *c.borrow_mut() = Some(conn.clone()));
        connect(&conn);
    }

    fn url(position: Option<i64>, channel: &Channel) -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().ok()?;
        let mut query = Vec::new();
        if let Channel::WallboardLink(token) = channel {
            query.push(format!(
                "wallboard={}",
                String::from(js_sys::encode_uri_component(token))
            ));
        }
        if let Some(p) = position {
            query.push(format!("after={p}"));
        }
        Some(if query.is_empty() {
            format!("{scheme}://{host}/ws")
        } else {
            format!("{scheme}://{host}/ws?{}", query.join("&"))
        })
    }

    fn connect(conn: &Rc<RefCell<Conn>>) {
        let (position, channel) = {
            let c = conn.borrow();
            (c.position, c.channel.clone())
        };
        let Some(socket) = url(position, &channel).and_then(|u| WebSocket::new(&u).ok()) else {
            retry(conn);
            return;
        };
        let on_message = {
            let conn = Rc::downgrade(conn);
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                if let (Some(conn), Some(text)) = (conn.upgrade(), ev.data().as_string()) {
                    received(&conn, &text);
                }
            })
        };
        let on_close = {
            let conn = Rc::downgrade(conn);
            Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
                let Some(conn) = conn.upgrade() else { return };
                // 1008: the session ended (signed out here or elsewhere, or
                // removed from the team), or the wallboard link was
                // revoked; the page has nothing more to show.
                if ev.code() == SIGNED_OUT {
                    let (live, channel) = {
                        let c = conn.borrow();
                        (c.live, c.channel.clone())
                    };
                    match channel {
                        Channel::Member => {
                            let _ = window().location().set_href("/signin");
                        }
                        Channel::WallboardLink(_) => {
                            stop(&conn);
                            live.ended.set(true);
                        }
                    }
                    return;
                }
                retry(&conn);
            })
        };
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut c = conn.borrow_mut();
        c.socket = Some(socket);
        c.on_message = Some(on_message);
        c.on_close = Some(on_close);
        drop(c);
        arm_watchdog(conn);
    }

    fn received(conn: &Rc<RefCell<Conn>>, text: &str) {
        conn.borrow_mut().heard_at = js_sys::Date::now();
        let message = match serde_json::from_str::<LiveMessage>(text) {
            Ok(message) => message,
            Err(e) => {
                leptos::logging::warn!("live channel: unreadable message ({e})");
                return;
            }
        };
        let live = conn.borrow().live;
        match &message {
            LiveMessage::Hello { position, build } => {
                let resumed = conn.borrow().position.is_some();
                {
                    let mut c = conn.borrow_mut();
                    c.position = Some(*position);
                    c.attempts = 0;
                }
                if build.is_some() && live.server_build.get_untracked() != *build {
                    live.server_build.set(build.clone());
                }
                live.status.set(LiveStatus::Live);
                live.connected.update(|n| *n += 1);
                if !resumed {
                    // Nothing to resume from: what the page shows may be stale.
                    live.resync.update(|n| *n += 1);
                }
            }
            LiveMessage::Reset { .. } => {
                conn.borrow_mut().position = None;
                live.resync.update(|n| *n += 1);
                // The server closes the socket; the reconnect starts afresh.
            }
            other => {
                conn.borrow_mut().position = Some(other.position());
                if !matches!(other, LiveMessage::Heartbeat { .. }) {
                    live.dispatch(other);
                }
            }
        }
    }

    /// Closes a socket that has been silent for [`SILENCE`]; checked a few
    /// times within it, so a dead connection is noticed in time.
    fn arm_watchdog(conn: &Rc<RefCell<Conn>>) {
        if let Some(old) = conn.borrow_mut().watchdog.take() {
            old.clear();
        }
        conn.borrow_mut().heard_at = js_sys::Date::now();
        let weak = Rc::downgrade(conn);
        let handle = set_interval_with_handle(
            move || {
                if let Some(conn) = weak.upgrade() {
                    let c = conn.borrow();
                    let silent = js_sys::Date::now() - c.heard_at;
                    // Closing fires onclose, which schedules the reconnect.
                    if silent >= SILENCE.as_millis() as f64
                        && let Some(socket) = c.socket.as_ref()
                    {
                        let _ = socket.close();
                    }
                }
            },
            SILENCE / 5,
        )
        .ok();
        conn.borrow_mut().watchdog = handle;
    }

    /// Closes the socket and unhooks its handlers and watchdog.
    fn stop(conn: &Rc<RefCell<Conn>>) {
        let mut c = conn.borrow_mut();
        if let Some(old) = c.socket.take() {
            old.set_onmessage(None);
            old.set_onclose(None);
            let _ = old.close();
        }
        if let Some(w) = c.watchdog.take() {
            w.clear();
        }
        // The handlers are unhooked above, so they can go now.
        c.on_message = None;
        c.on_close = None;
    }

    /// Drops the old socket and tries again after a growing, jittered delay.
    fn retry(conn: &Rc<RefCell<Conn>>) {
        stop(conn);
        let delay = {
            let mut c = conn.borrow_mut();
            let base = (FIRST_RETRY_MS * 2f64.powi(c.attempts.min(16) as i32)).min(MAX_RETRY_MS);
            c.attempts += 1;
            // Full jitter between half and all of the delay, so a restarted
            // server is not hit by every page at the same instant.
            base * (0.5 + js_sys::Math::random() / 2.0)
        };
        conn.borrow().live.status.set(LiveStatus::Reconnecting);
        let weak = Rc::downgrade(conn);
        set_timeout(
            move || {
                if let Some(conn) = weak.upgrade() {
                    connect(&conn);
                }
            },
            Duration::from_millis(delay as u64),
        );
    }
}
