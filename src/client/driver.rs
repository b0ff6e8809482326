//! The browser side of the state machine in `machine.rs`: it opens connections, runs
//! the retry, idle and pause timers, listens to the page's life (`page.rs`: `online`,
//! visibility, the back/forward cache) and hands states and errors to the client's
//! [`Delivery`], for the Rust [`SseClient`](crate::SseClient). The npm face carries out
//! the same machine's effects in JS (`bindings/js_driver.js`), so that its package holds
//! no closure: keep the two alike.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use super::page::{self, Page, PageEvent};
use crate::delivery::Delivery;
use crate::event::{ConnectionState, SseError};
use crate::machine::{Effect, Machine};
use crate::machine::{Failure, FailureClass};
use crate::runtime::{self, Timer};
use crate::transport::{self, Connection, FetchConfig, FetchRequest, Request, Signal, SignalSink};

/// What a driver needs to know about its requests; checked by the builder.
pub(crate) struct Config {
    /// The absolute URL, without the resume parameter.
    pub(crate) url: String,
    pub(crate) with_credentials: bool,
    /// `None` when resuming is off.
    pub(crate) resume_param: Option<String>,
    pub(crate) idle_timeout: Option<Duration>,
    /// `Some` when the fetch transport was chosen.
    pub(crate) fetch: Option<Rc<FetchConfig>>,
    /// Pause once the page has been hidden this long; `None` never pauses.
    pub(crate) pause_when_hidden: Option<Duration>,
}

/// What happened, for the machine.
enum Input {
    /// The first request, or the one a retry timer waited for.
    Connect,
    Reconnect,
    Close,
    /// `online`, or the page became visible: a pending retry is made now.
    Wake,
    /// The page was hidden too long, or went into the back/forward cache.
    Pause,
    /// The page is visible, or restored from the back/forward cache.
    Resume,
    Opened,
    Failed(Failure),
}

pub(crate) struct Driver {
    weak: Weak<Driver>,
    config: Config,
    delivery: Rc<dyn Delivery>,
    core: RefCell<Core>,
    /// When bytes last arrived on the fetch transport; checked when the idle timer
    /// fires, so that a chunk costs a store instead of a new timer.
    last_activity: Cell<Duration>,
    /// A page of another client of the share this driver serves is visible: a hidden
    /// page alone does not pause a shared connection.
    seen_elsewhere: Cell<bool>,
    /// Paused while another client of its share leads (its page went into the
    /// back/forward cache): the page's events do not wake it.
    standing_by: Cell<bool>,
}

struct Core {
    machine: Machine,
    /// Bumped whenever the connection is let go, so signals and timers that belong to
    /// an earlier connection are ignored.
    generation: u64,
    connection: Option<Box<dyn Connection>>,
    retry_timer: Option<Timer>,
    idle_timer: Option<Timer>,
    /// Runs while the page is hidden and the client could be paused; it outlives
    /// connections, since the page stays hidden across them.
    pause_timer: Option<Timer>,
    /// The page's listeners, from the start until the client closes.
    page: Option<Page>,
}

impl Driver {
    /// Makes the first request at once.
    pub(crate) fn start(
        config: Config,
        machine: Machine,
        delivery: Rc<dyn Delivery>,
    ) -> Rc<Driver> {
        let driver = Rc::new_cyclic(|weak| Driver {
            weak: weak.clone(),
            config,
            delivery,
            core: RefCell::new(Core {
                machine,
                generation: 0,
                connection: None,
                retry_timer: None,
                idle_timer: None,
                pause_timer: None,
                page: None,
            }),
            last_activity: Cell::new(Duration::ZERO),
            seen_elsewhere: Cell::new(false),
            standing_by: Cell::new(false),
        });
        driver.step(Input::Connect);
        if driver.state() != ConnectionState::Closed {
            let weak = driver.weak.clone();
            let page = Page::listen(move |event| {
                if let Some(driver) = weak.upgrade() {
                    driver.on_page(event);
                }
            });
            driver.core.borrow_mut().page = Some(page);
            // A page that is hidden from the start has been hidden since then.
            driver.start_pause_timer();
        }
        driver
    }

    /// Drops the current connection and connects again now, resuming. A paused client
    /// connects too; if the page is still hidden, its pause timer starts again.
    pub(crate) fn reconnect(&self) {
        self.step(Input::Reconnect);
        self.start_pause_timer();
    }

    /// Closes for good.
    pub(crate) fn close(&self) {
        self.step(Input::Close);
    }

    pub(crate) fn state(&self) -> ConnectionState {
        self.core.borrow().machine.state()
    }

    /// The last event id delivered (or given as an option); empty until there is one.
    pub(crate) fn last_event_id(&self) -> String {
        let mut core = self.core.borrow_mut();
        self.catch_up(&mut core);
        core.machine.last_event_id().to_owned()
    }

    pub(crate) fn url(&self) -> &str {
        &self.config.url
    }

    /// A handler for `event_type` now exists: the connection starts listening for it.
    pub(crate) fn listen(&self, event_type: &str) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            if let Some(connection) = core.connection.as_mut() {
                connection.listen(event_type);
            }
        }
    }

    /// The last handler of `event_type` is gone.
    pub(crate) fn unlisten(&self, event_type: &str) {
        if let Ok(mut core) = self.core.try_borrow_mut() {
            if let Some(connection) = core.connection.as_mut() {
                connection.unlisten(event_type);
            }
        }
    }

    /// Brings the machine up to date with what the connection's events told.
    fn catch_up(&self, core: &mut Core) {
        let progress = self.delivery.take_progress();
        if progress.delivered {
            core.machine.event();
        }
        if let Some(id) = progress.id {
            core.machine.id(id);
        }
    }

    /// Feeds one input to the machine and carries out what it asks for. Deliveries
    /// wait until no borrow is held, because handlers may call back into the client.
    fn step(&self, input: Input) {
        let mut effects = {
            let mut core = self.core.borrow_mut();
            self.catch_up(&mut core);
            let machine = &mut core.machine;
            match input {
                Input::Connect => machine.connect(),
                Input::Reconnect => machine.reconnect(),
                Input::Close => machine.close(),
                Input::Wake => machine.wake(),
                Input::Pause => machine.pause(),
                Input::Resume => machine.resume(),
                Input::Opened => machine.opened(runtime::now()),
                Input::Failed(failure) => {
                    machine.failed(failure, runtime::now(), runtime::random())
                }
            }
        };
        // States and errors, handed over once the machine's effects are carried out.
        let mut reports = Vec::new();
        // What a close let go of, dropped once no borrow is held.
        let mut dropped = None;
        while !effects.is_empty() {
            // A connection that cannot even be made is a fatal failure, whose effects
            // come next (the machine always asks to connect last).
            let mut next = Vec::new();
            for effect in effects {
                match effect {
                    Effect::State(_) | Effect::Error(_) => reports.push(effect),
                    Effect::Connect => {
                        if let Err(error) = self.open_connection() {
                            let failure = Failure {
                                error,
                                class: FailureClass::Fatal,
                                retry_after: None,
                            };
                            let mut core = self.core.borrow_mut();
                            next = core.machine.failed(failure, runtime::now(), 0.0);
                        }
                    }
                    Effect::Wait(delay) => self.start_retry_timer(delay),
                    Effect::Stop => {
                        let mut core = self.core.borrow_mut();
                        self.let_go(&mut core);
                        dropped = Some((core.page.take(), core.pause_timer.take()));
                    }
                    Effect::Suspend => {
                        let mut core = self.core.borrow_mut();
                        self.let_go(&mut core);
                        core.pause_timer = None;
                    }
                }
            }
            effects = next;
        }
        for report in reports {
            match report {
                Effect::State(state) => self.delivery.state(state),
                Effect::Error(error) => self.delivery.error(&error),
                Effect::Connect | Effect::Wait(_) | Effect::Stop | Effect::Suspend => {}
            }
        }
        drop(dropped);
    }

    /// Whether a page of another client of the share is visible (a shared
    /// connection pauses only when every sharing page has been hidden long enough).
    #[cfg(feature = "share")]
    pub(crate) fn seen_elsewhere(&self, seen: bool) {
        if self.seen_elsewhere.replace(seen) == seen {
            return;
        }
        if seen {
            self.on_page(PageEvent::Visible);
        } else {
            self.start_pause_timer();
        }
    }

    /// `true`: another client of the share leads from now on, and this connection
    /// pauses until [`stand_by(false, …)`](Driver::stand_by). `false`: this client
    /// leads again; it connects, resuming from `newest_id` (the newest id any client of
    /// the share saw) unless that is empty or resuming is off.
    #[cfg(feature = "share")]
    pub(crate) fn stand_by(&self, standing_by: bool, newest_id: &str) {
        self.standing_by.set(standing_by);
        if standing_by {
            let timer = self.core.borrow_mut().pause_timer.take();
            drop(timer);
            self.step(Input::Pause);
            return;
        }
        if !newest_id.is_empty() && self.config.resume_param.is_some() {
            // What the last connection's events told is already caught up: start the
            // next one from the newest id instead.
            self.delivery.begin(newest_id);
            self.core.borrow_mut().machine.id(newest_id.to_owned());
        }
        self.step(Input::Resume);
        self.start_pause_timer();
    }

    /// Whether no page the connection serves is visible.
    fn unseen(&self) -> bool {
        page::hidden() && !self.seen_elsewhere.get()
    }

    /// What happened to the page.
    fn on_page(&self, event: PageEvent) {
        if self.standing_by.get() {
            return;
        }
        match event {
            PageEvent::Online => self.step(Input::Wake),
            PageEvent::Hidden => self.start_pause_timer(),
            PageEvent::Visible => {
                let timer = self.core.borrow_mut().pause_timer.take();
                drop(timer);
                self.step(Input::Wake);
                self.step(Input::Resume);
            }
            PageEvent::Frozen => self.step(Input::Pause),
            PageEvent::Restored => {
                self.step(Input::Resume);
                // Restored but hidden (a background tab): hidden from now on.
                self.start_pause_timer();
            }
        }
    }

    /// Starts the pause timer if the client pauses when hidden, the page is hidden, the
    /// client is neither paused nor closed, and the timer is not already running.
    fn start_pause_timer(&self) {
        let Some(after) = self.config.pause_when_hidden else {
            return;
        };
        let mut core = self.core.borrow_mut();
        let paused_or_closed = matches!(
            core.machine.state(),
            ConnectionState::Paused | ConnectionState::Closed
        );
        if paused_or_closed || core.pause_timer.is_some() || !self.unseen() {
            return;
        }
        let weak = self.weak.clone();
        core.pause_timer = Some(Timer::new(
            after,
            Box::new(move || {
                if let Some(driver) = weak.upgrade() {
                    driver.core.borrow_mut().pause_timer = None;
                    // Never paused while visible.
                    if driver.unseen() {
                        driver.step(Input::Pause);
                    }
                }
            }),
        ));
    }

    /// Lets go of the connection and every timer, keeping what its events told.
    fn let_go(&self, core: &mut Core) {
        if core.connection.is_some() {
            self.catch_up(core);
            self.delivery.end();
        }
        core.generation += 1;
        core.connection = None;
        core.retry_timer = None;
        core.idle_timer = None;
    }

    fn open_connection(&self) -> Result<(), SseError> {
        let mut core = self.core.borrow_mut();
        self.let_go(&mut core);
        let generation = core.generation;
        let weak = self.weak.clone();
        let sink: SignalSink = Rc::new(move |signal: Signal<'_>| {
            if let Some(driver) = weak.upgrade() {
                driver.on_signal(generation, signal);
            }
        });
        let resume_from = core.machine.last_event_id();
        self.delivery.begin(resume_from);
        // A server scripted in the page (feature `testing`) answers instead of the
        // network when one is installed for this URL.
        #[cfg(feature = "testing")]
        let scripted = crate::testing::intercept(crate::testing::Intercepted {
            url: &self.config.url,
            fetch: self.config.fetch.as_ref(),
            resume: self
                .config
                .resume_param
                .as_deref()
                .map(|name| (name, resume_from)),
            delivery: &self.delivery,
            sink: &sink,
        });
        #[cfg(not(feature = "testing"))]
        let scripted: Option<Result<Box<dyn Connection>, SseError>> = None;
        let connection = match (scripted, &self.config.fetch) {
            (Some(connection), _) => connection?,
            // The real Last-Event-ID header; the URL stays as given.
            (None, Some(fetch)) => {
                let request = FetchRequest {
                    url: &self.config.url,
                    last_event_id: self.config.resume_param.is_some().then_some(resume_from),
                    config: fetch.clone(),
                };
                self.delivery.open_fetch(request, sink)?
            }
            (None, None) => {
                let resume = self
                    .config
                    .resume_param
                    .as_deref()
                    .map(|name| (name, resume_from));
                let url = runtime::request_url(&self.config.url, resume);
                let request = Request {
                    url: &url,
                    with_credentials: self.config.with_credentials,
                    delivery: self.delivery.clone(),
                };
                transport::eventsource::open(request, sink)?
            }
        };
        core.connection = Some(connection);
        self.last_activity.set(runtime::now());
        if let Some(timeout) = self.config.idle_timeout {
            core.idle_timer = Some(self.idle_timer(generation, timeout));
        }
        Ok(())
    }

    fn start_retry_timer(&self, delay: Duration) {
        let mut core = self.core.borrow_mut();
        self.let_go(&mut core);
        let (generation, weak) = (core.generation, self.weak.clone());
        core.retry_timer = Some(Timer::new(
            delay,
            Box::new(move || {
                if let Some(driver) = weak.upgrade() {
                    if driver.core.borrow().generation == generation {
                        driver.step(Input::Connect);
                    }
                }
            }),
        ));
    }

    fn idle_timer(&self, generation: u64, after: Duration) -> Timer {
        let weak = self.weak.clone();
        Timer::new(
            after,
            Box::new(move || {
                if let Some(driver) = weak.upgrade() {
                    driver.on_idle_timer(generation);
                }
            }),
        )
    }

    fn on_idle_timer(&self, generation: u64) {
        let Some(timeout) = self.config.idle_timeout else {
            return;
        };
        if self.core.borrow().generation != generation {
            return;
        }
        let last = match self.delivery.last_event_at() {
            Some(event_at) => event_at.max(self.last_activity.get()),
            None => self.last_activity.get(),
        };
        let quiet = runtime::now().saturating_sub(last);
        if quiet < timeout {
            let timer = self.idle_timer(generation, timeout - quiet);
            self.core.borrow_mut().idle_timer = Some(timer);
            return;
        }
        self.fail(Failure {
            error: SseError::Idle { timeout },
            class: FailureClass::Retryable,
            retry_after: None,
        });
    }

    fn on_signal(&self, generation: u64, signal: Signal<'_>) {
        if self.core.borrow().generation != generation {
            return;
        }
        match signal {
            Signal::Event(event) => self.delivery.parsed(event),
            Signal::Id(id) => self.delivery.parsed_id(id),
            Signal::ChunkEnd => self.delivery.flush(),
            Signal::Activity => {
                // Read the clock only when an idle timer will ask.
                if self.config.idle_timeout.is_some() {
                    self.last_activity.set(runtime::now());
                }
            }
            Signal::Opened => self.step(Input::Opened),
            Signal::Retry(retry) => self.core.borrow_mut().machine.server_retry(retry),
            Signal::Failed(failure) => self.fail(failure),
        }
    }

    fn fail(&self, failure: Failure) {
        self.step(Input::Failed(failure));
    }
}
