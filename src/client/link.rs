//! What a client's handle drives: a connection of its own, or its part in a
//! connection shared among tabs (`client/share.rs`).

use std::rc::Rc;

use super::driver::Driver;
#[cfg(feature = "share")]
use super::share::Shared;
use crate::event::{ConnectionState, Role};

pub(crate) enum Link {
    Solo(Rc<Driver>),
    #[cfg(feature = "share")]
    Shared(Rc<Shared>),
}

impl Link {
    pub(crate) fn role(&self) -> Role {
        match self {
            Link::Solo(_) => Role::Solo,
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.role(),
        }
    }

    pub(crate) fn state(&self) -> ConnectionState {
        match self {
            Link::Solo(driver) => driver.state(),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.state(),
        }
    }

    pub(crate) fn last_event_id(&self) -> String {
        match self {
            Link::Solo(driver) => driver.last_event_id(),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.last_event_id(),
        }
    }

    pub(crate) fn url(&self) -> &str {
        match self {
            Link::Solo(driver) => driver.url(),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.url(),
        }
    }

    pub(crate) fn reconnect(&self) {
        match self {
            Link::Solo(driver) => driver.reconnect(),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.reconnect(),
        }
    }

    pub(crate) fn close(&self) {
        match self {
            Link::Solo(driver) => driver.close(),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.close(),
        }
    }

    pub(crate) fn listen(&self, event_type: &str) {
        match self {
            Link::Solo(driver) => driver.listen(event_type),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.listen(event_type),
        }
    }

    pub(crate) fn unlisten(&self, event_type: &str) {
        match self {
            Link::Solo(driver) => driver.unlisten(event_type),
            #[cfg(feature = "share")]
            Link::Shared(shared) => shared.unlisten(event_type),
        }
    }
}
