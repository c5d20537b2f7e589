//! How much of a step's checks is put in words. A plan shows every check; a segment row
//! shows one reason, and wording every check of every account was a third of a
//! million-account scan. Only the words change: every verdict is computed the same way.

/// Which of a step's checks are put in words (their `actual`, `required` and `detail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Words {
    /// Every check, with the gate's notes and missing inputs: what `check_health` answers.
    All,
    /// Only the first check that did not pass, and neither notes nor missing inputs: a
    /// segment row shows one reason (`segment::blocked_reason`) and the checks' verdicts.
    /// Every verdict, figure and status is the same as with `All`.
    FirstOpen,
}

/// Whether the next check is worded, for [`Words`]: the gate's checks, or step 2's
/// readiness checks, one after another in their order.
pub struct Wording {
    words: Words,
    worded_open: bool,
}

impl Wording {
    pub fn new(words: Words) -> Self {
        Wording {
            words,
            worded_open: false,
        }
    }

    pub fn wants(&mut self, passed: Option<bool>) -> bool {
        match self.words {
            Words::All => true,
            Words::FirstOpen if passed == Some(true) || self.worded_open => false,
            Words::FirstOpen => {
                self.worded_open = true;
                true
            }
        }
    }
}

/// `text()` when the check is worded, an empty string (no allocation) when it is not.
pub fn say(worded: bool, text: impl FnOnce() -> String) -> String {
    if worded { text() } else { String::new() }
}
