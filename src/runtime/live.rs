//! Counts what the library hands to the browser for as long as it lives, so tests and
//! benchmarks can prove that every closure is dropped again.

use std::cell::Cell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    static LIVE_CLOSURES: Cell<usize> = const { Cell::new(0) };
}

/// Counts one live thing while it exists: a closure ([`Tracked`]), a timer, or a fetch
/// connection's task, which owns the closures of the promises it waits on.
pub(crate) struct LiveToken(());

impl LiveToken {
    pub(crate) fn new() -> Self {
        LIVE_CLOSURES.with(|live| live.set(live.get() + 1));
        LiveToken(())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        LIVE_CLOSURES.with(|live| live.set(live.get().saturating_sub(1)));
    }
}

/// A JS closure that counts itself while alive.
pub(crate) struct Tracked<T: ?Sized> {
    closure: Closure<T>,
    _live: LiveToken,
}

impl<T: ?Sized> Tracked<T> {
    pub(crate) fn new(closure: Closure<T>) -> Self {
        Tracked {
            closure,
            _live: LiveToken::new(),
        }
    }

    pub(crate) fn function(&self) -> &js_sys::Function {
        self.closure.as_ref().unchecked_ref()
    }
}

/// How many JS closures owned by sse-wasm are alive (event listeners, timers, and the
/// tasks of fetch connections, which own the closures of the promises they await).
///
/// For leak tests and benchmarks (feature `test-hooks`): once every client is closed or
/// dropped it is back to what it was before they were made.
#[cfg(feature = "test-hooks")]
pub fn live_closures() -> usize {
    LIVE_CLOSURES.with(Cell::get)
}
