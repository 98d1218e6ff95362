//! Ctrl-C during training, as Keras users expect it: the run stops after the
//! batch in progress, callbacks end it as usual (`EarlyStopping` puts the
//! best weights back), and `lstmkit train` saves it, resumable with
//! `--resume`. A second Ctrl-C ends the process at once.
//!
//! [`install`] sets the handler (the `lstmkit train` command does; a library
//! user's program keeps its own SIGINT behaviour unless it calls it);
//! [`Model::fit_with_callbacks`](crate::model::Model) asks [`requested`]
//! after every batch.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether a stop was requested (Ctrl-C, or [`request`]).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Asks the training in progress to stop after its current batch (what
/// Ctrl-C does once [`install`] ran).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Forgets a request (before a new run in the same process).
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

#[cfg(unix)]
extern "C" fn on_sigint(_sig: libc::c_int) {
    // only async-signal-safe calls here: an atomic swap, signal(), raise()
    if REQUESTED.swap(true, Ordering::SeqCst) {
        // SAFETY: restoring the default disposition and re-raising the
        // signal are async-signal-safe and touch no Rust state.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::raise(libc::SIGINT);
        }
    }
}

/// Makes the first Ctrl-C (SIGINT) a stop request instead of the end of the
/// process; the second one ends it.
pub fn install() {
    #[cfg(unix)]
    // SAFETY: the handler only performs async-signal-safe operations.
    unsafe {
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}
