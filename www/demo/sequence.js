// Watches the feed's sequence numbers (every event's id, also `seq` in its data) and
// counts what a resumable stream must never show: gaps (events skipped) and
// duplicates (events seen twice). A `snapshot` says where the sequence stands for a
// fresh connection; a `resume` says the server is about to replay what was missed.

/** Most sequence numbers kept in `recent` (for the strip on the page and the tests). */
const KEEP = 20_000;

export class SequenceTracker {
  constructor() {
    /** Last sequence number accounted for (null before the first snapshot). */
    this.last = null;
    this.gaps = 0;
    this.missing = 0;
    this.duplicates = 0;
    this.received = 0;
    /** Every sequence number received, in order of arrival (bounded). */
    this.recent = [];
    /** Events still to come from the replay announced by the last `resume`. */
    this.replaying = 0;
    this.resumes = 0;
    this.lastResume = null;
  }

  /** A snapshot that stands for every event up to `head`. */
  snapshot(head) {
    this.last = head;
    this.replaying = 0;
  }

  /** The server replays `replayed` events after `from` (`missed` are lost for good). */
  resume({ from, replayed, missed }) {
    this.resumes += 1;
    this.lastResume = { from, replayed, missed, at: Date.now() };
    this.replaying = replayed;
  }

  /**
   * Accounts for one event; returns how it fits: "ok", "gap", "duplicate", plus
   * whether it came from a replay.
   */
  see(seq) {
    this.received += 1;
    this.recent.push(seq);
    if (this.recent.length > KEEP) this.recent.splice(0, this.recent.length - KEEP);
    const replayed = this.replaying > 0;
    if (replayed) this.replaying -= 1;
    let fit = "ok";
    if (this.last !== null) {
      if (seq <= this.last) fit = "duplicate";
      else if (seq > this.last + 1) fit = "gap";
    }
    if (fit === "duplicate") {
      this.duplicates += 1;
    } else {
      if (fit === "gap") {
        this.gaps += 1;
        this.missing += seq - this.last - 1;
      }
      this.last = seq;
    }
    return { fit, replayed };
  }
}
