//! The connection state machine without a browser: inputs in, effects out.
//!
//! ```text
//! connecting --open--> open --error / stream end--> reconnecting(attempt, delay) --timer--> connecting
//! connecting --retryable failure--> reconnecting
//! any --fatal failure or retries exhausted--> closed
//! any --close() or last handle dropped--> closed
//! reconnecting --online / page visible (wake)--> connecting   (the attempt count is kept)
//! any but closed --page hidden too long / into the back-forward cache (pause)--> paused
//! paused --page visible or restored (resume), reconnect()--> connecting
//! ```
//!
//! Time and the random draw for jitter are arguments, so every transition is tested
//! natively; `client/driver.rs` carries the effects out with real connections and timers.

use std::time::Duration;

use crate::backoff::{Backoff, RetryDecision, RetryState};
use crate::event::{ConnectionState, SseError};

/// How a connection ended, and whether trying again can help.
pub(crate) struct Failure {
    pub(crate) error: SseError,
    pub(crate) class: FailureClass,
    /// A server's `Retry-After`: the least wait before the next request.
    pub(crate) retry_after: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureClass {
    /// Worth another try after the backoff delay.
    Retryable,
    /// The server ended the stream (or, on the native transport, the stream was lost
    /// after it opened, which it cannot tell apart). Retried unless `reconnect_on_end`
    /// is off.
    Ended,
    /// Trying again cannot help: close. The native transport cannot tell (the client
    /// uses it when a connection cannot even be made); the fetch transport reports it
    /// for 204, most 4xx and a wrong Content-Type.
    Fatal,
}

/// What the machine asks its driver to do, in order.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Let go of the current connection and its timers, and open a new connection.
    Connect,
    /// Let go of the current connection and its timers, and [`Machine::connect`] after
    /// this delay.
    Wait(Duration),
    /// Let go of everything; the machine is closed.
    Stop,
    /// Let go of the current connection and its timers; the machine is paused until
    /// [`Machine::resume`] (or a reconnect or a close).
    Suspend,
    /// Hand a state change to the handlers.
    State(ConnectionState),
    /// Hand an error to the handlers.
    Error(SseError),
}

pub(crate) type Effects = Vec<Effect>;

pub(crate) struct Machine {
    state: ConnectionState,
    retry: RetryState,
    last_event_id: String,
    reconnect_on_end: bool,
}

impl Machine {
    /// A machine about to make its first request (state `Connecting`).
    pub(crate) fn new(backoff: Backoff, last_event_id: String, reconnect_on_end: bool) -> Self {
        Machine {
            state: ConnectionState::Connecting,
            retry: RetryState::new(backoff),
            last_event_id,
            reconnect_on_end,
        }
    }

    pub(crate) fn state(&self) -> ConnectionState {
        self.state
    }

    pub(crate) fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Makes a request now: the first one, or the one a retry timer was waiting for.
    pub(crate) fn connect(&mut self) -> Effects {
        let mut effects = Effects::new();
        if self.state != ConnectionState::Closed {
            self.set_state(ConnectionState::Connecting, &mut effects);
            effects.push(Effect::Connect);
        }
        effects
    }

    /// The user asked for a fresh connection: no failure is counted or reported.
    pub(crate) fn reconnect(&mut self) -> Effects {
        if self.state == ConnectionState::Closed {
            return Effects::new();
        }
        self.retry.on_abandon();
        self.connect()
    }

    /// The network came back, or the page became visible: a client waiting out a
    /// backoff delay connects now. The attempt count is kept, so a failure of this
    /// request waits the next delay. In any other state (paused included) nothing
    /// happens.
    pub(crate) fn wake(&mut self) -> Effects {
        match self.state {
            ConnectionState::Reconnecting { .. } => self.connect(),
            _ => Effects::new(),
        }
    }

    /// The page has been hidden too long, or went into the back/forward cache: let go
    /// of the connection (or the pending retry) until [`resume`](Self::resume). Nothing
    /// happens once closed or already paused.
    pub(crate) fn pause(&mut self) -> Effects {
        let mut effects = Effects::new();
        if matches!(
            self.state,
            ConnectionState::Closed | ConnectionState::Paused
        ) {
            return effects;
        }
        // As for reconnect(): the connection was let go, not lost.
        self.retry.on_abandon();
        self.set_state(ConnectionState::Paused, &mut effects);
        effects.push(Effect::Suspend);
        effects
    }

    /// The page is visible (or restored) again: a paused client connects now, resuming
    /// from the last id. Nothing happens in any other state.
    pub(crate) fn resume(&mut self) -> Effects {
        match self.state {
            ConnectionState::Paused => self.connect(),
            _ => Effects::new(),
        }
    }

    /// The server accepted the stream at `now`.
    pub(crate) fn opened(&mut self, now: Duration) -> Effects {
        let mut effects = Effects::new();
        self.retry.on_open(now);
        self.set_state(ConnectionState::Open, &mut effects);
        effects
    }

    /// The connection delivered an event: it is healthy.
    pub(crate) fn event(&mut self) {
        self.retry.on_event();
    }

    /// The stream's last event id moved (with an event or without one); it is carried
    /// across reconnects until the server sends another.
    pub(crate) fn id(&mut self, id: String) {
        self.last_event_id = id;
    }

    /// A server's `retry:` field.
    pub(crate) fn server_retry(&mut self, retry: Duration) {
        self.retry.set_server_retry(retry);
    }

    /// The connection failed at `now`; `random` is a draw from `[0, 1)` for jitter.
    pub(crate) fn failed(&mut self, failure: Failure, now: Duration, random: f64) -> Effects {
        let mut effects = Effects::new();
        // Paused: no connection is current, so whatever failed was let go already.
        if matches!(
            self.state,
            ConnectionState::Closed | ConnectionState::Paused
        ) {
            return effects;
        }
        effects.push(Effect::Error(failure.error));
        if let Some(retry_after) = failure.retry_after {
            self.retry.set_retry_after(retry_after);
        }
        let retry = match failure.class {
            FailureClass::Retryable => true,
            FailureClass::Ended => self.reconnect_on_end,
            FailureClass::Fatal => false,
        };
        if !retry {
            self.close_into(&mut effects);
            return effects;
        }
        match self.retry.on_failure(now, random) {
            RetryDecision::Retry { attempt, delay } => {
                self.set_state(
                    ConnectionState::Reconnecting { attempt, delay },
                    &mut effects,
                );
                effects.push(Effect::Wait(delay));
            }
            RetryDecision::Exhausted { attempts } => {
                let exhausted = SseError::RetriesExhausted { attempts };
                effects.push(Effect::Error(exhausted));
                self.close_into(&mut effects);
            }
        }
        effects
    }

    /// Closes for good; reports `Closed` once.
    pub(crate) fn close(&mut self) -> Effects {
        let mut effects = Effects::new();
        self.close_into(&mut effects);
        effects
    }

    fn close_into(&mut self, effects: &mut Effects) {
        if self.state != ConnectionState::Closed {
            self.set_state(ConnectionState::Closed, effects);
            effects.push(Effect::Stop);
        }
    }

    fn set_state(&mut self, state: ConnectionState, effects: &mut Effects) {
        if self.state != state {
            self.state = state;
            effects.push(Effect::State(state));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Jitter;

    const T0: Duration = Duration::ZERO;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn machine(max_retries: Option<u32>, reconnect_on_end: bool) -> Machine {
        let backoff = Backoff::exponential(ms(100))
            .jitter(Jitter::None)
            .max_retries(max_retries);
        Machine::new(backoff, String::new(), reconnect_on_end)
    }

    fn failure(class: FailureClass) -> Failure {
        Failure {
            error: SseError::network("lost"),
            class,
            retry_after: None,
        }
    }

    /// A compact rendering of effects: `connect`, `wait 100`, `stop`, `state open`,
    /// `error network`.
    fn show(effects: Effects) -> Vec<String> {
        effects
            .into_iter()
            .map(|effect| match effect {
                Effect::Connect => "connect".to_owned(),
                Effect::Wait(delay) => format!("wait {}", delay.as_millis()),
                Effect::Stop => "stop".to_owned(),
                Effect::Suspend => "suspend".to_owned(),
                Effect::State(state) => format!("state {state}"),
                Effect::Error(error) => format!("error {}", error.kind()),
            })
            .collect()
    }

    #[test]
    fn the_first_connect_reports_no_change() {
        let mut machine = machine(None, true);
        assert_eq!(show(machine.connect()), ["connect"]);
        assert_eq!(show(machine.opened(T0)), ["state open"]);
    }

    #[test]
    fn a_lost_stream_waits_then_connects_again() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.opened(T0);
        let lost = machine.failed(failure(FailureClass::Ended), T0, 0.5);
        assert_eq!(
            show(lost),
            ["error network", "state reconnecting", "wait 100"]
        );
        assert_eq!(
            machine.state(),
            ConnectionState::Reconnecting {
                attempt: 1,
                delay: ms(100)
            }
        );
        assert_eq!(show(machine.connect()), ["state connecting", "connect"]);
    }

    #[test]
    fn failures_before_open_back_off_exponentially() {
        let mut machine = machine(None, true);
        machine.connect();
        let mut waits = Vec::new();
        for _ in 0..4 {
            let effects = show(machine.failed(failure(FailureClass::Retryable), T0, 0.5));
            waits.push(effects.last().cloned().unwrap());
            machine.connect();
        }
        assert_eq!(waits, ["wait 100", "wait 200", "wait 400", "wait 800"]);
    }

    #[test]
    fn exhaustion_reports_the_failure_then_the_exhaustion_then_closes() {
        let mut machine = machine(Some(1), true);
        machine.connect();
        machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        machine.connect();
        let last = machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        assert_eq!(
            show(last),
            [
                "error network",
                "error retries-exhausted",
                "state closed",
                "stop"
            ]
        );
        assert!(
            machine.connect().is_empty(),
            "a closed machine makes no request"
        );
    }

    #[test]
    fn fatal_failures_and_unwanted_ends_close() {
        let mut fatal = machine(None, true);
        fatal.connect();
        let effects = fatal.failed(failure(FailureClass::Fatal), T0, 0.5);
        assert_eq!(show(effects), ["error network", "state closed", "stop"]);

        let mut ended = machine(None, false);
        ended.connect();
        ended.opened(T0);
        let effects = ended.failed(failure(FailureClass::Ended), T0, 0.5);
        assert_eq!(show(effects), ["error network", "state closed", "stop"]);
    }

    #[test]
    fn close_reports_closed_once_and_silences_everything_after() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.opened(T0);
        assert_eq!(show(machine.close()), ["state closed", "stop"]);
        assert!(machine.close().is_empty());
        assert!(machine.reconnect().is_empty());
        assert!(machine
            .failed(failure(FailureClass::Retryable), T0, 0.5)
            .is_empty());
    }

    #[test]
    fn reconnect_counts_no_failure_and_reports_no_error() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        assert_eq!(show(machine.reconnect()), ["state connecting", "connect"]);
        machine.opened(T0);
        assert_eq!(show(machine.reconnect()), ["state connecting", "connect"]);
        // The earlier failure still counts: the next delay is the second one.
        let effects = show(machine.failed(failure(FailureClass::Retryable), T0, 0.5));
        assert_eq!(effects.last().unwrap(), "wait 200");
    }

    #[test]
    fn events_carry_the_id_and_reset_the_backoff() {
        let mut machine = Machine::new(
            Backoff::exponential(ms(100)).jitter(Jitter::None),
            "7".into(),
            true,
        );
        assert_eq!(machine.last_event_id(), "7");
        machine.connect();
        machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        machine.connect();
        machine.opened(T0);
        machine.event();
        assert_eq!(
            machine.last_event_id(),
            "7",
            "no id field yet: keep the carried id"
        );
        machine.id("8".into());
        assert_eq!(machine.last_event_id(), "8");
        let effects = show(machine.failed(failure(FailureClass::Ended), T0, 0.5));
        assert_eq!(effects.last().unwrap(), "wait 100");
    }

    #[test]
    fn retry_after_and_server_retry_raise_the_next_delay() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.server_retry(ms(250));
        let slow = Failure {
            retry_after: Some(ms(1000)),
            ..failure(FailureClass::Retryable)
        };
        assert_eq!(
            show(machine.failed(slow, T0, 0.5)).last().unwrap(),
            "wait 1000"
        );
        machine.connect();
        let next = show(machine.failed(failure(FailureClass::Retryable), T0, 0.5));
        assert_eq!(next.last().unwrap(), "wait 250");
    }
    #[test]
    fn wake_skips_the_rest_of_the_wait_and_keeps_the_attempt_count() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        machine.connect();
        machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        assert_eq!(
            machine.state(),
            ConnectionState::Reconnecting {
                attempt: 2,
                delay: ms(200)
            }
        );
        assert_eq!(show(machine.wake()), ["state connecting", "connect"]);
        // The woken request failed too: the third attempt, after the third delay.
        machine.failed(failure(FailureClass::Retryable), T0, 0.5);
        assert_eq!(
            machine.state(),
            ConnectionState::Reconnecting {
                attempt: 3,
                delay: ms(400)
            }
        );
    }

    #[test]
    fn wake_does_nothing_unless_waiting_to_reconnect() {
        let mut machine = machine(None, true);
        machine.connect();
        assert!(machine.wake().is_empty(), "connecting");
        machine.opened(T0);
        assert!(machine.wake().is_empty(), "open");
        machine.pause();
        assert!(machine.wake().is_empty(), "paused: online does nothing");
        assert_eq!(machine.state(), ConnectionState::Paused);
        machine.close();
        assert!(machine.wake().is_empty(), "closed");
    }

    #[test]
    fn pause_lets_go_from_any_state_but_closed() {
        let mut connecting = machine(None, true);
        connecting.connect();
        assert_eq!(show(connecting.pause()), ["state paused", "suspend"]);
        assert!(connecting.pause().is_empty(), "paused once");

        let mut open = machine(None, true);
        open.connect();
        open.opened(T0);
        assert_eq!(show(open.pause()), ["state paused", "suspend"]);

        let mut waiting = machine(None, true);
        waiting.connect();
        waiting.failed(failure(FailureClass::Retryable), T0, 0.5);
        assert_eq!(show(waiting.pause()), ["state paused", "suspend"]);
        assert!(
            waiting
                .connect()
                .iter()
                .all(|e| !matches!(e, Effect::Wait(_))),
            "no retry is pending while paused"
        );

        let mut closed = machine(None, true);
        closed.close();
        assert!(closed.pause().is_empty());
        assert_eq!(closed.state(), ConnectionState::Closed);
    }

    #[test]
    fn resume_connects_a_paused_machine_from_the_last_id() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.opened(T0);
        machine.id("5".into());
        assert!(machine.resume().is_empty(), "not paused: nothing to resume");
        machine.pause();
        assert_eq!(show(machine.resume()), ["state connecting", "connect"]);
        assert_eq!(machine.last_event_id(), "5");
        assert!(machine.resume().is_empty(), "resumed once");
    }

    #[test]
    fn a_failure_reported_while_paused_is_ignored() {
        let mut machine = machine(None, true);
        machine.connect();
        machine.opened(T0);
        machine.pause();
        assert!(machine
            .failed(failure(FailureClass::Fatal), T0, 0.5)
            .is_empty());
        assert_eq!(machine.state(), ConnectionState::Paused);
    }

    #[test]
    fn close_and_reconnect_while_paused() {
        let mut closing = machine(None, true);
        closing.connect();
        closing.pause();
        assert_eq!(show(closing.close()), ["state closed", "stop"]);
        assert!(closing.resume().is_empty());
        assert!(closing.wake().is_empty());

        let mut reconnecting = machine(None, true);
        reconnecting.connect();
        reconnecting.pause();
        assert_eq!(
            show(reconnecting.reconnect()),
            ["state connecting", "connect"]
        );
    }
}
