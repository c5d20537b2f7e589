//! Sales talk in a draft message: the playbook's step 4 "BAD (sales)" column as data-driven
//! rules, each with its category, why and enablement rewrite.
//!
//! A draft is read sentence by sentence. A sentence is sales talk when one rule's cue matches
//! it and that rule's `unless` (when it has one) does not; the first such rule in `SPECS`
//! names the finding, and whether a sentence is flagged does not depend on the order. Cues
//! are the words CSMs and AEs use when the message is about our sale rather than the
//! customer's outcome: asks to buy or sign, urgency from our calendar, our quota, discounts,
//! pitches and "our product" talk. Most are phrases; the "pairs" need two things in one
//! sentence (a sale verb and what is sold, time pressure and a deal), and the two fallbacks
//! catch an offer of a plan, module or quote. Words a CSM also uses when answering the
//! customer ("upgrade", a quote, a named tier) stand down when the sentence says the customer
//! asked or decides (`CUSTOMER_LED`) or, for the fallbacks, rests on the customer's own
//! usage, results or goals (`GROUNDED`). The rules were written from
//! `tests/data/framing/train/`; the test `framing` in `tests/it/` measures them on sentences
//! they were not written from, and DESIGN.md gives the figures.

use std::sync::LazyLock;

mod score;

use regex::{Regex, RegexBuilder};

use crate::model::results::{
    ExpansionType, FramingCheck, FramingFinding, FramingResult, SalesCategory,
};

/// The sentence says the customer raised it: they asked, mentioned or requested it, or the
/// decision is left to them. Rules whose cues a CSM also uses to answer the customer's own
/// question stand down on it.
const CUSTOMER_LED: &[&str] = &[CUSTOMER_LED_ASKED, CUSTOMER_LED_DECIDES];

/// The customer asked, mentioned or requested it.
const CUSTOMER_LED_ASKED: &str = r"\b(you|they|customer|client|champion|(your|their|the) [\w-]+( [\w-]+)?)\s+(asked|mentioned|requested|told us|wanted to know)\b";

/// The decision is left to the customer.
const CUSTOMER_LED_DECIDES: &str = r"\b(if|when|once|whenever)\s+(you|your [\w-]+|they|their [\w-]+)(\s+[\w-]+)?\s+(decide|decides|choose|chooses)\b|\b(whenever|when|once)\s+(you|your [\w-]+|they|their [\w-]+)(\s+[\w-]+)?('re| are| is) ready\b";

/// The words of a commercial ask a deadline attaches to (rule `deadline_on_the_deal`).
const COMMERCIAL: &str = r"\b(sign|signs|signature|commit|buy|purchase|order form|po|offer|price|pricing|deal|discount|quote|paperwork|upsell)\b";

/// The verbs of a commercial ask, for the weaker deadlines ("this week").
const ASK: &str = r"\b(sign|signs|commit|buy|purchase|order|close|decide)\b";

/// A deadline (rule `deadline_on_the_deal`).
const DEADLINE: &str = r"(\btoday\b|\btonight\b|\btomorrow\b|\b(by|before|b4) (monday|tuesday|wednesday|thursday|friday|the weekend|eow|eod|eom|eoq|the \d{1,2}(st|nd|rd|th)|the end of|end of|the holidays|xmas|christmas)\b|\basap\b|\bimmediately\b|\bin the meeting\b)";

/// One rule: cues, when it does not apply, why it is sales talk, and what to say instead.
struct Spec {
    id: &'static str,
    category: SalesCategory,
    /// Any of these, case-insensitive, makes the sentence sales talk...
    cues: &'static [&'static str],
    /// ...unless any of these matches the sentence too.
    unless: &'static [&'static str],
    why: &'static str,
    rewrite: &'static str,
    /// The expansion type whose account statement makes the best rewrite, when one does.
    expansion: Option<ExpansionType>,
}

const UPGRADE_REWRITE: &str = "You're generating more than your current plan was built for. Let's make sure the platform keeps up with your growth.";
const SEATS_REWRITE: &str =
    "Your team has grown, and not everyone has access yet. Let's get everyone onboarded.";
const UPSELL_REWRITE: &str = "You mentioned wanting to track this. That's exactly what this capability does; let's look at it against your goals.";
const CROSS_SELL_REWRITE: &str =
    "Several customers with your workflow have found this removes the manual step you mentioned.";
const TIMING_REWRITE: &str =
    "Let's line this up with your planning cycle so it's in next year's budget.";
const OUTCOME_REWRITE: &str =
    "Here's what we've seen in your usage, and what it could mean for your team's goals.";
const VALUE_REWRITE: &str = "Here's what your team has achieved so far, and the goals still ahead; happy to look at the options against them with you.";

/// The rules, in the order they are tried: the first that matches a sentence names it.
const SPECS: &[Spec] = &[
    // --- quota: our targets, our calendar, our bosses ----------------------------------
    Spec {
        id: "hit_quota",
        category: SalesCategory::Quota,
        cues: &[
            r"\bquotas?\b",
            r"\b(hit|make|making|hitting)\s+(my|our|the)\s+(number|target|quota)\b",
            r"\bmy\s+(targets?|quarter|qtr|q[1-4]?|numbers?|forecast|pipeline|commit|biggest opp)\b",
            r"\bour\s+(quarter|fiscal( year| close| quarter)?|year[- ]end|quarter[- ]end|forecast|pipeline|board( number| meeting)?)\b",
            r"\bforecast (it|this)\b",
            r"\bthe forecast\b",
            r"\bexpansion (target|number)\b",
            r"\beasy win\b",
            r"\bopportunity for us\b",
            r"\bour (books|bookings|sales (kickoff|team|target|targets))\b",
            r"\bbookings\b",
            r"\bmy sales (director|manager|vp|lead)\b",
            r"\bmy (manager|director|vp|boss) (asked|wants|needs)\b",
            r"\bbefore i go on\b",
            r"\bi'?d be (so |really )?grateful if\b",
            r"\bhelp us both\b",
            r"\breport it at\b",
            r"\bopp\b",
        ],
        unless: &[],
        why: "talks about our targets: expansion follows the customer's cycle, not our quota",
        rewrite: OUTCOME_REWRITE,
        expansion: None,
    },
    Spec {
        id: "our_calendar",
        category: SalesCategory::Quota,
        cues: &[
            r"\b(end|close) of (the |this |our |my )?(quarter|qtr|q[1-4]|month|fiscal( year)?|financial year|year)\b",
            r"\b(the|this|our|my|next)\s+(quarter|qtr|q[1-4]|fiscal( year)?|financial year|year)\s+(clos\w*|ends?|end\w*)\b",
            r"\b(before|by|until|ahead of)\s+(the\s+)?(quarter|qtr|fiscal|month|year)[- ]?(end|close)\b",
            r"\b(into|out of) (this|next|my|our) (quarter|qtr|q)\b",
            r"\bclose out the year\b",
        ],
        unless: &[
            r"\byour\s+([\w-]+\s+)?(fiscal|financial|budget|year|quarter|month)",
            r"\b(your|their) (goal|target|aim)\b",
        ],
        why: "urgency from our quarter or year end, not the customer's planning cycle",
        rewrite: TIMING_REWRITE,
        expansion: None,
    },
    Spec {
        id: "help_me",
        category: SalesCategory::Quota,
        cues: &[
            r"\bmy\s+(manager|director|vp|boss|leadership|management)\s+(keeps|is|has|wants|approved|needs|signed|authori[sz]ed|only)\b",
            r"\b(got|get) my (manager|director|vp|boss) to\b",
            r"\bpressure from my\b",
            r"\b(asked|ask|asking) my (manager|director|vp|boss)\b",
            r"\b(mean|means) a lot to me\b",
            r"\b(would|will|that'?d|it'?d|really)\s+(really\s+)?help\s+(me|my)\b",
            r"\bhelp me (push|close|get)\b",
            r"\bfavou?r to (us|me)\b",
            r"\bgone to bat\b",
            r"\bunder (a bit of |some |a lot of )?pressure\b",
        ],
        unless: &[],
        why: "asks the customer to act for our sake: our manager, our pressure, our quarter",
        rewrite: OUTCOME_REWRITE,
        expansion: None,
    },
    // --- discount ----------------------------------------------------------------------
    Spec {
        id: "discount",
        category: SalesCategory::Discount,
        cues: &[
            r"\bdiscount\w*",
            r"\d+\s?%\s*(off|less)\b",
            r"\bper ?cent off\b",
            r"\boff (the )?list\b",
            r"\bspecial (price|prices|pricing|rate|rates|offer|deal|bundle|terms)\b",
            r"\bexclusive\s+([\w-]+\s+){0,2}(offer|price|pricing|deal|co-term|rate)\b",
            r"\bpromo\b",
            r"\bpromotion(al)?\s+(on|price|pricing|rates?|offers?|ends|period)\b",
            r"\brunning a promotion\b",
            r"\bfree (months?|of charge|onboarding|setup)\b",
            r"\bmonths? (free|on us)\b",
            r"\b(month|quarter|year) free\b",
            r"\bat no (extra |additional )?(cost|charge)\b",
            r"\bwaiv\w+",
            r"\block(ed|ing)? (it |this |them |you |yours |your rate )?in\b",
            r"\blast year'?s (rate|price|pricing)\b",
            r"\bspecial allocation\b",
            r"\bexclusive (invitation|access)\b",
            r"\bgrandfathered\b",
            r"\blegacy (pricing|rate|price)\b",
            r"\bfreeze (your|the) price\b",
            r"\b(best|lowest|better|reduced|bundle|volume|loyalty|discounted)\s+(price|pricing|rate|deal|band)\b",
            r"\blowest\b[^.?!]{0,30}\b(price|pricing|rate)\b",
            r"\bbargain\b",
            r"\band save\b",
            r"\bsave (\d+|heaps|big|money)\b",
            r"\bthe more you save\b",
            r"\bsavings? program\b",
            r"\bincentive\b",
            r"\bsweeten\w*",
            r"\bmatch any\b",
            r"\bfor a fee\b",
            r"\bcracking offer\b",
            r"\bsavings (are|is|would be)\b",
            r"\b(half|reduced|old|partner|special|one-time|bundle|bundled|intro\w*|early[- ]\w+)\s+(price|pricing|rate)\b",
            r"\bat half price\b",
            r"\bbonus\b",
            r"\b(extra|additional|two|three|\d+) [\w-]+( [\w-]+)? free\b",
            r"\bcheaper\b",
            r"\bkeep (the \d{4}|your current|your old|your existing|the current|the old) (rate|price|pricing)\b",
            r"\bpricing model changes\b",
            r"\b(left|leaving|leave) ([\w-]+ ){0,3}on the table\b",
            r"\bfor one price\b",
            r"\b(cyber monday|black friday) (offer|deal|sale|price|pricing)\b",
        ],
        unless: &[
            CUSTOMER_LED_ASKED,
            CUSTOMER_LED_DECIDES,
            r"\b(on our side|our mistake|our error|apolog\w+)\b",
        ],
        why: "leads with a discount: the price becomes the reason, not the customer's need",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    // --- urgency -----------------------------------------------------------------------
    Spec {
        id: "limited_time_discount",
        category: SalesCategory::Urgency,
        cues: &[
            r"\blimited[- ]time\b",
            r"\bfor a limited time\b",
            r"\blimited slots\b",
            r"\bact (now|fast)\b",
            r"\bhurry\b",
            r"\blast chance\b",
            r"\b(offer|quote|pricing|price|discount|deal|promo\w*|rate|incentive|proposal)\b[^.?!]{0,40}\bexpir\w*",
            r"\b(offer|deal|discount|promo\w*|incentive)\s+(\w+\s+){0,2}ends?\b",
            r"\blet this slip\b",
            r"\brunning low\b",
            r"\bbefore it fills up\b",
            r"\breserve your (spot|slot|place)\b",
            r"\b(reserved|holding|hold|set aside|earmarked) (a block of|some|\d+) (seats|licen[cs]es)\b",
            r"\bonly hold (them|it|this|these)\b",
            r"\b(hold|reserve|reserved|holding) (the|your|this|these) ([\w-]+ )?(seats|price|pricing|rate|discount|offer|slot|terms)\b",
            r"\b(offer|price|pricing|rate|deal|discount|quote|promo)\s+(is\s+)?(only\s+)?(valid|good|available)\b",
            r"\bonly (good|valid) (until|till|for)\b",
            r"\b(discount|offer|price|pricing|rate|deal) goes away\b",
            r"\bwon'?t last\b",
            r"\bwon'?t be around\b",
            r"\bwhile (you can|it lasts|the terms)\b",
            r"\bbefore it'?s gone\b",
            r"\bmiss(ing)? out\b",
            r"\bclock is ticking\b",
            r"\b(this (week|month)|today) only\b",
            r"\bonly (today|this week|this month|for today)\b",
            r"\bstill (be )?on the table\b",
            r"\btime to (upgr?a?d\w*|buy|expand|renew|sign)\b",
            r"\bslips? (into|out of)\b",
        ],
        unless: &[r"\bno (hurry|rush)\b"],
        why: "urgency from our calendar, not the customer's planning cycle",
        rewrite: TIMING_REWRITE,
        expansion: None,
    },
    Spec {
        id: "buy_now",
        category: SalesCategory::Urgency,
        cues: &[
            r"\b(buy|upgr?a?d\w*|sign\w*|commit|renew|expand|order|purchase|act|lock \w+ in|decide|licen[cs]e)\s+(\w+\s+){0,3}now\b",
            r"\bnow is (a|the) (good |great |perfect |right )?(time|moment)\b",
            r"\badjusting (list |our )?prices\b",
            r"\b(before|ahead of) the price\b",
            r"\bprices? (goes up|go up|increase\w*|rises?|will (rise|increase|go up|change)|changes? (in|on|next))\b",
            r"\bprice (increase|hike|rise|change)\b",
            r"\bpricing (increase\w*|go)\b",
            r"\bprice list changes\b",
            r"\b(before|until|ahead of) (our|the) (pricing|price|prices|price list) (chang|increas|ris|go)\w*",
            r"\blist price\b",
        ],
        unless: &[r"\bnow that\b"],
        why: "pushes for a decision now, on our timing",
        rewrite: TIMING_REWRITE,
        expansion: None,
    },
    Spec {
        id: "deadline_on_the_deal",
        category: SalesCategory::Urgency,
        // A commercial word and a deadline in one sentence, in either order.
        cues: &[
            r"<COMMERCIAL>[^.?!]{0,60}<DEADLINE>",
            r"<DEADLINE>[^.?!]{0,60}<COMMERCIAL>",
            r"<ASK>[^.?!]{0,40}<SOON>",
            r"\bcontract\b[^.?!]{0,60}\b(by|before|b4) (monday|tuesday|wednesday|thursday|friday|eow|the \d{1,2}(st|nd|rd|th))\b",
        ],
        unless: &[
            r"\b(use|using|have|has|pay|paying|run|running|live|active)\s+today\b",
            r"\btoday'?s\b",
            r"\bas today\b",
            CUSTOMER_LED_ASKED,
        ],
        why: "attaches a deadline to a commercial ask: the customer's cycle sets the date, not ours",
        rewrite: TIMING_REWRITE,
        expansion: None,
    },
    // --- transactional -----------------------------------------------------------------
    Spec {
        id: "would_you_like_to_upgrade",
        category: SalesCategory::Transactional,
        cues: &[
            r"\b(would|do|will)\s+you\s+(like|want|wish|care)\s+to\s+(upgr?a?d\w*|buy|purchase|move (up|to)|sign|add|renew|go ahead)\b",
            r"\bwould\s+you\s+(consider|be open to|be interested in)\s+(upgr?a?d\w*|buy\w*|purchas\w+|sign\w*|adding|moving|renewing|investing)",
            r"\b(are you|would you be|would your [\w-]+( [\w-]+)? be) interested in (our|the|purchasing|buying|upgrading|adding)\b",
            r"\bhave you thought about (moving|upgrading|adding|buying)\b",
        ],
        unless: &[],
        why: "asks for a purchase instead of connecting to the customer's growth",
        rewrite: UPGRADE_REWRITE,
        expansion: Some(ExpansionType::Upgrade),
    },
    Spec {
        id: "can_we_add_seats",
        category: SalesCategory::Transactional,
        cues: &[
            r"\b(can|could|shall|should|may)\s+(we|i)\s+(add|sell|put you down|bump|squeeze|upsell)\b",
            r"\b(add|adding|grab|grabbing|get|buy|purchase|order|confirm)\s+(another|more|extra|the extra|additional|the additional)?\s*(\d[\d,]*\s+)?(more\s+|extra\s+|additional\s+)?(seats|licen[cs]es|users)\b",
            r"\b(another|more)\s+(\d[\d,]*\s+)?(seats|licen[cs]es)\b",
            r"\bhow many (more )?(seats|licen[cs]es)\b",
            r"\bpencil (you|them) in\b",
            r"\badd(ing)? [^.?!]{0,30} to (the|your) account\b",
            r"\bput you down for\b",
        ],
        unless: &[
            CUSTOMER_LED_ASKED,
            CUSTOMER_LED_DECIDES,
            r"\b(lets|let|allows|enables) (you|your [\w-]+) (to )?add\b",
            r"\bno rush\b",
            r"\bwon'?t (fix|help|solve|change)\b",
        ],
        why: "asks for seats instead of naming who on their team lacks access",
        rewrite: SEATS_REWRITE,
        expansion: Some(ExpansionType::Seats),
    },
    Spec {
        id: "buy_more",
        category: SalesCategory::Transactional,
        cues: &[
            r"\b(buy|buying|purchas(e|es|ed|ing))\b",
            r"\b(we|i) sell\b",
            r"\bto sell (you|them|u)\b",
            r"\bsell(ing)? (you|them|u)\b",
            r"\bpaid (add-?on|plan|tier|module|upgrade)\b",
            r"\bconvert\w*\b[^.?!]{0,40}\bpaid\b",
        ],
        unless: &[
            r"\b(nothing|no need|don'?t need|do not need|not need)\s+to\s+(buy|purchase)\b",
            r"\bbuy-?in\b",
        ],
        why: "frames the conversation as a transaction",
        rewrite: SEATS_REWRITE,
        expansion: Some(ExpansionType::Seats),
    },
    Spec {
        id: "close_the_deal",
        category: SalesCategory::Transactional,
        cues: &[
            r"\bdeals?\b",
            r"\bclos(e|ed|ing)\s+(this|the|that|it|out|them)?\s*(deal|renewal|expansion|upgrade|upsell|order|sale)\b",
            r"\bclose (by|before)\b",
            r"\bto close\s*([;,.!?]|$)",
            r"\b(the|a) sale\b",
            r"\b(over|across) the (finish )?line\b",
            r"\bsigning (call|meeting)\b",
            r"\bwrap(ped)? (this |it |the whole thing )?up\b",
            r"\bget (this|it|the whole thing) wrapped\b",
            r"\bget (the|this|your) (contract|deal|order|paperwork|renewal|upgrade|expansion) moving\b",
            r"\bball moving\b",
            r"\bink on paper\b",
            r"\bget (this|it) done\b",
            r"\bwrap (this|it) up\b",
            r"\bbook (it|this)\b",
            r"\bbank it\b",
            r"\bball rolling\b",
            r"\bpull the trigger\b",
            r"\bsaying yes\b",
            r"\ba yes from you\b",
            r"\bcommercials\b",
            r"\b(ready|willing) to (buy|purchase|sign|commit|upgr?a?d\w*|move forward|proceed|go ahead)\b",
            r"\b(proceed|move forward) with (the|your|this)\s+(\w+\s+)?(order|purchase|upgrade|deal|contract|expansion)\b",
            r"\bgood to proceed\b",
            r"\bgo ahead (with|and)\b",
            r"\bnext step on the contract\b",
            r"\bverbal commitment\b",
            r"\bland (the|this|an?)\s+(\w+\s+)?(deal|expansion|upgrade|upsell|renewal)\b",
            r"\btrial close\b",
        ],
        unless: &[
            r"\bdeal(s|t|ing)? with\b",
            r"\ba (great|good) deal (of|more)\b",
            r"\bdeal desk\b",
        ],
        why: "talks about closing our deal, not the customer's outcome",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    Spec {
        id: "sign_the_order",
        category: SalesCategory::Transactional,
        cues: &[
            r"\border form\b",
            r"\bpurchase order\b",
            r"\bpo( number)?\b",
            r"\b(send|sent|the|a) docusign\b",
            r"\b(get|getting|finali[sz]e|finali[sz]ing|finish|sort|complete|with|on)\s+(the|your)\s+(\w+\s+)?paperwork\b",
            r"\b(expansion|this|my|upgrade|seat) order\b",
            r"\b(put|get|place|raise|process|finali[sz]e)\w* the order\b",
            r"\border\s+(raised|through|processed|this week|today|now)\b",
            r"\bsign(ed|s)?[- ]off on (the|this|your) (deal|order|quote|contract|expansion|upgrade|renewal|purchase)\b",
            r"\bneeds? to sign off\b",
            r"\bget (the|this|it) ([\w-]+ )?signed off\b",
            r"\b(contract|one) signature\b",
            r"\b(need|just need|just) (a|your) signature\b",
            r"\bsign (it|this|the|a|and|before|by|today|now)\b",
            r"\bget (it|this|the [\w-]+( [\w-]+)?) signed\b",
            r"\bsigned (and|by|this|today|back|renewal)\b",
            r"\bcommit\s+(to|by|before|now|today|in|this)\b",
            r"\b(you|they) commit\b",
            r"\b(verbal|\d+-year|multi-year) commitment\b",
            r"\b(send|sending|draw up|prepare)\s+(you\s+|them\s+|over\s+){0,2}(a|the)\s+([\w-]+\s+){0,3}(quote|contract)\b",
            r"\bour standard (contract|term)\b",
            r"\byour sign-?off\b",
            r"\bfinali[sz]e the (terms|numbers|deal|order|contract)\b",
            r"\bcommitting to (the|a|\d)",
            r"\badd\w* (it|this|them|the [\w-]+( [\w-]+)?) to (your|the|next) (invoice|contract|renewal|subscription|order|bill)\b",
        ],
        unless: CUSTOMER_LED,
        why: "asks for a signature or an order: a transaction, not the customer's outcome",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    Spec {
        id: "chasing",
        category: SalesCategory::Transactional,
        cues: &[
            r"\b(following up|follow up|circling back|circle back|checking in|chasing|chase|nudge|bump(ing)?|any (update|news|thoughts|movement)|where (things|we) stand|had a chance to)\b[^.?!]{0,60}\b(proposal|quote|order( form)?|contract|paperwork|pricing|expansion|po|signature|offer|deal|purchase)\b",
            r"\b(floating|bumping|bubbling)\s+(this|my\s+\w+)\b",
            r"\btop of your inbox\b",
            r"\b(numbers|figures|quote|proposal|pricing) i sent\b",
        ],
        unless: CUSTOMER_LED,
        why: "chases our proposal instead of bringing the customer something of value",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    Spec {
        id: "upsell_talk",
        category: SalesCategory::Transactional,
        cues: &[
            r"\bups?-?sell\w*",
            r"\bcross-?sell\w*",
            r"\bupsiz\w+",
            r"\bsqueez\w*\s+(another|more|an? extra|in)\s+(\d+\s+)?(\w+\s+)?(seats|licen[cs]es|users|expansion|deal)\b",
            r"\bpitch\w*",
            r"\bpush(ed)?\s+(for|hard)\b",
            r"\bpush\s+\w+\s+to\s+(upgr?a?d\w*|buy|sign|commit|renew|expand)\b",
            r"\b(keep pushing|if we push|help me push|push your accounts)\b",
            r"\bcreate (some )?urgency\b",
            r"\b(get|got|make|making) (them|him|her|the customer|the cfo|the \w+) (to )?(upgr?a?d\w*|buy|commit|sign (off|the|a|it))\b",
            r"\b(they'?ll|probably|will) bite\b",
            r"\b(they|he|she|customer) bit on\b",
            r"\bdangle\b",
            r"\b(grow|expand|uplift|increase)\w*\s+(the\s+account|(the\s+|our\s+)?(footprint|arr|acv)|our revenue)\b",
            r"\barr uplift\b",
            r"\bget the uplift\b",
            r"\bbump (you|them) up\b",
            r"\bmove (you|them) up\b",
            r"\bget (you|u|them) (upgraded|signed)\b",
            r"\bget (you|u|them) (on|onto) (the|our|a) ([\w-]+\s+)?(licen[cs]e|tier|plan|contract|package|edition|subscription)\b",
            r"\bexpansion opportunity\b",
            r"\bripe for\b",
            r"\b(bigger|larger) (renewal|contract|deal|order|subscription|commitment)\b",
            r"\b(renewal|contract|deal|order) (a lot |much )?bigger\b",
            r"\b(we'?d|i'?d) (love|like) to (have|see|get) (you|your [\w-]+) (on|onto|upgraded|signed|moved)\b",
        ],
        unless: &[],
        why: "names the sale we want to make, not the customer's need",
        rewrite: UPSELL_REWRITE,
        expansion: Some(ExpansionType::Upsell),
    },
    Spec {
        id: "upgrade_to",
        category: SalesCategory::Transactional,
        cues: &[
            r"\bupgr?a?d(e|es|ed|ing)\b",
            r"\bupgade\w*",
            r"\b(top|highest|bigger) (tier|plan|package|contract)\b",
            r"\bnext (tier|band)\b",
            r"\b(move|moving|switch|switching|step up|go) (up )?to (the |our )?([\w-]+ ){0,2}(tier|plan|edition|package)\b",
        ],
        unless: &[
            CUSTOMER_LED_ASKED,
            r"\basked (about|whether|if|for)\b",
            r"\bplan the upgrade\b",
            r"\bafter your\b",
            r"\b(platform|system|server|scheduled|version|software|infrastructure|database|maintenance|security) upgrade",
            r"\bupgraded (the|your) (servers?|platform|version|instance|database)\b",
            r"\bupgrade (to|of) (version|v\d|the latest version)\b",
            r"\bupgrade (the|your) ([\w-]+ )?(app|browser|client|integration|connector|agent|version|os)\b",
            r"\bupgrades?\b[^.?!]{0,40}\b(happens|happen|is scheduled|maintenance|downtime|overnight|release notes|goes live)\b",
        ],
        why: "names the tier before the need",
        rewrite: UPGRADE_REWRITE,
        expansion: Some(ExpansionType::Upgrade),
    },
    // --- pitch -------------------------------------------------------------------------
    Spec {
        id: "tier_has_great_features",
        category: SalesCategory::Pitch,
        cues: &[
            r"\b(great|amazing|awesome|brilliant|fantastic|powerful|exciting|shiny|cool|incredible|loads of|lots of|ton of|tons of|heaps of|premium|prem\w*um)\s+(new\s+)?(features?|capabilit\w+|functionality|experience)\b",
            r"\b(features?|capabilit\w+)\s+(you'?d|you will|you'?ll|your [\w-]+( [\w-]+)? would|they'?d)\s+(really\s+)?(love|enjoy|like)\b",
            r"\bmore features\b",
            r"\bonly\s+[$€£]\s?\d",
        ],
        unless: CUSTOMER_LED,
        why: "pitches the product's features instead of the customer's need",
        rewrite: UPSELL_REWRITE,
        expansion: Some(ExpansionType::Upsell),
    },
    Spec {
        id: "best_on_the_market",
        category: SalesCategory::Pitch,
        cues: &[
            r"\b(our [\w-]+( [\w-]+)?|it|we|this|that) (is|are|'re|'s) (the|simply the|honestly the) best\b",
            r"\bthe best (value|deal|price|choice|on the market|in the (industry|market|business)|of the best|product|platform|solution)\b",
            r"\bbest value\b",
            r"#1\b",
            r"\baward[- ]winning\b",
            r"\bsecond to none\b",
            r"\bbest[- ]in[- ]class\b",
            r"\b(market|industry)[- ]leading\b",
            r"\b(market|industry) leader\b",
            r"\bleading (vendor|provider|platform|solution|software)\b",
            r"\bstreets ahead\b",
            r"\bmiles ahead\b",
            r"\bhands down\b",
            r"\boutperform\w*",
            r"\bworld[- ]class\b",
            r"\bcutting[- ]edge\b",
            r"\bstate[- ]of[- ]the[- ]art\b",
            r"\bour most (popular|advanced)\b",
            r"\bmost popular (package|plan|tier|option|edition)\b",
            r"\bbest[- ]selling\b",
            r"\bour flagship\b",
            r"\bflagship product\b",
            r"\bno[- ]brainer\b",
            r"\bmust[- ]have\b",
            r"\bgame[- ]changer\b",
            r"\bworth every penny\b",
            r"\bpays for itself\b",
            r"\bobvious choice\b",
            r"\bfull stop\b",
            r"\bflying off the shelves\b",
            r"\bwe win\b",
            r"\bis the future of\b",
            r"\bwhere you belong\b",
            r"\bholding you back\b",
            r"\byou'?ll want to\b",
            r"\bperfect (add-?on|fit|match)\b",
            r"\bgood fit for (the|our) ([\w-]+ )?(package|tier|plan|bundle|edition)\b",
            r"\bmost of our ([\w-]+ )?customers\b",
            r"\bjustify the cost\b",
            r"\bway more value\b",
            r"\bsuperior\b",
            r"\bonly platform\b",
            r"\byou won'?t find\b",
            r"\byou really should\b",
            r"\benjoy the (new )?features\b",
            r"\b(super|very|really|hugely) popular\b",
            r"\bpopular right now\b",
            r"\bsells itself\b",
            r"\bmost successful customers\b",
            r"\bimagine what\b",
        ],
        unless: &[],
        why: "praises our product instead of showing what it does for this customer",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    Spec {
        id: "fear_of_missing_out",
        category: SalesCategory::Pitch,
        cues: &[
            r"\beveryone else\b",
            r"\ball serious\b",
            r"\bmade the switch\b",
            r"\bfall(ing)? behind\b",
            r"\bleft behind\b",
            r"\b(you'?d|you would) be (crazy|mad|silly)\b",
            r"\bpass (this|it) up\b",
            r"\byou don'?t want to be\b",
            r"\bi'?d hate for you\b",
            r"\btrust me\b",
            r"\blived without\b",
            r"\bmost customers your size\b",
            r"\bour biggest clients\b",
            r"\bonly vendor\b",
            r"\bcompetitors?\b",
            r"\bcan'?t match\b",
            r"\ball upgrading\b",
        ],
        unless: &[],
        why: "pressure by comparison or fear of missing out, not the customer's own results",
        rewrite: CROSS_SELL_REWRITE,
        expansion: None,
    },
    // --- our product -------------------------------------------------------------------
    Spec {
        id: "we_also_have",
        category: SalesCategory::OurProduct,
        cues: &[
            r"\bwe\s+also\s+(have|offer|sell|do|provide)\b",
            r"\bwe\s+(just\s+|recently\s+)?(launched|released)\s+(a|an|our)\s+(brand[- ]new\s+|new\s+)?([\w-]+\s+){0,2}(product|module|add-?on|tier|plan|suite|tool)\b",
            r"\bwe\s+(now\s+)?(have|offer)\s+(a|an)\s+(great\s+|brand[- ]new\s+|new\s+)([\w-]+\s+){0,2}(product|module|add-?on|tier|plan|suite|offering|package)\b",
            r"^introducing\b",
            r"\bintroducing (our|the new)\b",
            r"\bnew from us\b",
            r"\bhave you seen our\b",
            r"\bcheck out our\b",
            r"\bdid you know\b",
            r"\bcollect them all\b",
            r"\bwe'?ve (just )?(rolled out|launched|released)\b[^.?!]{0,40}\b(perfect|add-?on|module|product|tier|package|great fit)\b",
        ],
        unless: &[],
        why: "pitches another product without the customer's workflow",
        rewrite: CROSS_SELL_REWRITE,
        expansion: Some(ExpansionType::CrossSell),
    },
    Spec {
        id: "our_product",
        category: SalesCategory::OurProduct,
        cues: &[
            r"\bour\s+(new|latest|brand[- ]new)\b",
            r"\bour\s+(flagship\s+|whole\s+|full\s+)?([\w+-]+\s+){0,2}(products?|product (line|suite)|suite|solution|software|offering|bundle|package|edition|add-?ons?|modules|roadmap|features|price (sheet|list)|subscription|tiers?)\b",
            r"\bour\s+(?-i:[A-Z])[\w+-]*\s+([\w+-]+\s+)?plan\b",
            r"\bour\s+(top|premium|pro|enterprise|business|basic|starter|gold|platinum|advanced|higher|highest|best[\w-]*|most \w+)\s+plan\b",
        ],
        unless: &[
            CUSTOMER_LED_ASKED,
            r"\bour\s+product\s+(team|manager|managers|people|org|lead|leads|group)\b",
            r"\bour new (help|support|status|knowledge|community|training|academy|guide|docs|documentation|portal|office|team|colleague|hire|csm|account manager|engineer)",
        ],
        why: "talks about our product instead of the customer's goal",
        rewrite: CROSS_SELL_REWRITE,
        expansion: Some(ExpansionType::CrossSell),
    },
    // --- pairs: two cues in one sentence -------------------------------------------
    Spec {
        id: "pressure_on_the_sale",
        category: SalesCategory::Urgency,
        // Time pressure and a sale in one sentence, in either order.
        cues: &[
            r"<PRESSURE>[^.?!]{0,60}<DEAL_OBJECT>",
            r"<DEAL_OBJECT>[^.?!]{0,60}<PRESSURE>",
        ],
        unless: &[
            CUSTOMER_LED_ASKED,
            CUSTOMER_LED_DECIDES,
            r"\b(right|for|until|by|just) now\b",
            r"\bnow that\b",
            r"\b(is|are|'s|'re) now\b",
            r"\bnow (run|runs|plans?|shares?|handles?|covers?|takes?|closes?|uses?)\b",
            r"\b(use|using|have|has|active|live)\s+today\b",
            r"\b(your|their) (goal|target|aim)\b",
            r"\b(went|goes|go) live\b",
            r"\bgo-live\b",
        ],
        why: "puts our time pressure on a commercial step: the customer's cycle sets the date",
        rewrite: TIMING_REWRITE,
        expansion: None,
    },
    Spec {
        id: "conditional_offer",
        category: SalesCategory::Discount,
        cues: &[
            r"\b(who|if you|if they|when you|once you|if your [\w-]+) (expand|upgrade|sign|renew|buy|purchase|commit|agree to|add|lock|prepay|bundle)\w*\b",
        ],
        unless: &[CUSTOMER_LED_DECIDES],
        why: "trades a favour for a purchase: the customer's need should be the reason",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    Spec {
        id: "commercial_ask",
        category: SalesCategory::Transactional,
        // A verb that moves a sale, then what the sale is about.
        cues: &[r"<SALE_VERB>[^.?!]{0,40}<SALE_OBJECT>"],
        unless: &[
            CUSTOMER_LED_ASKED,
            CUSTOMER_LED_DECIDES,
            r"\b(if it helps|only if|would show whether|so you can (decide|compare|plan|weigh))\b",
            r"\bnothing changes\b",
            r"\bno need\b",
            r"\b(reassign\w*|idle|unused)\b",
        ],
        why: "asks the customer to take a commercial step instead of starting from their need",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    // --- the fallbacks: a commercial offer with nothing of the customer in it -----------
    Spec {
        id: "commercial_phrase",
        category: SalesCategory::Pitch,
        cues: &[
            r"\b(go bigger|level up|earn (more of )?your business|appreciate your business|your business on)\b",
            r"\b(one-time|once-in-a-\w+) opportunity\b",
            r"\b(existing|selected) customers only\b",
            r"\bflexible payment\b",
            r"\b(great|smart|smartest|wise|worthwhile|bigger|small) investment\b",
            r"\bworth the (extra|money|spend|investment)\b",
            r"\bnever look back\b",
            r"\bget in early\b",
            r"\bmake the (price|numbers) work\b",
            r"\bnumbers will work\b",
            r"\bcustom quote\b",
            r"\bextra (fee|charge|spend)\b",
            r"\bbudget left\b",
            r"\bappetite (to|for)\b",
            r"\bsend (over )?(some )?options\b",
            r"\bprices are being\b",
            r"\bsecure the allocation\b",
            r"\brenewal time\b",
            r"\b(go|going|think|thinking) bigger\b",
            r"\bto the next level\b",
            r"\bbest (money|investment|decision)\b",
            r"\blevel (things |it |you )?up\b",
            r"\bdue for a (refresh|change|review of your plan)\b",
            r"\b(new )?price point\b",
            r"\b(expansion|growth|upgrade) proposal\b",
            r"\bstep up in (cost|price)\b",
            r"\b(cost|price) down\b",
            r"\b(double|grow|expand|increase) (the|our) footprint\b",
            r"\bspread the cost\b",
            r"\bif budget is (tight|the blocker)\b",
            r"\bflexibility on (the )?(price|pricing|terms|rate)\b",
            r"\b(like|want|need) to licen[cs]e\b",
            r"\blicen[cs]e (the|your) (new|whole|entire)\b",
            r"\b(isn'?t|not|wasn'?t) (really )?built for\b",
            r"\bmakes (so much |perfect |total )?sense\b[^.?!]{0,20}$",
        ],
        unless: &[CUSTOMER_LED_ASKED, CUSTOMER_LED_DECIDES, GROUNDED],
        why: "sells the purchase itself, with nothing of the customer's need, numbers or timing",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
    Spec {
        id: "commercial_offer",
        category: SalesCategory::Transactional,
        // An offer or ask, and what is on offer, in either order.
        cues: &[
            r"<OFFER_ASK>[^.?!]{0,80}<OFFER_OBJECT>",
            r"<OFFER_OBJECT>[^.?!]{0,60}<OFFER_ASK>",
        ],
        unless: &[
            CUSTOMER_LED_ASKED,
            CUSTOMER_LED_DECIDES,
            GROUNDED,
            r"\byour (current |existing )?([\w-]+ )?(plan|tier|package|edition|subscription)\b",
            r"\bexpansion (of|into)\b",
        ],
        why: "offers a plan, module or quote with nothing of the customer's need, numbers or timing",
        rewrite: VALUE_REWRITE,
        expansion: None,
    },
];

/// An offer or an ask (rule `commercial_offer`).
const OFFER_ASK: &str = r"\b(let me|let['’]s|let us|would love|love to|why not|you'?ll want|assume|imagine|i can|i'?d|we can|we'?d|shall (i|we)|want me to|would you|could we|can we|can i|let me know|once you'?re|if you'?re not|you should|you'?d get|you'?ll (never|love|get)|worth|investment|any chance|do you have|i'?ve (gone ahead and )?(drafted|prepared|put together)|would be a)\b";

/// What is on offer (rule `commercial_offer`).
const OFFER_OBJECT: &str = r"(\b(the|our|a|an) (new |brand[- ]new )?(?-i:[A-Z])[\w-]+ (plan|tier|suite|package|edition|bundle)\b|\b(enterprise|premium|business|pro|professional|platinum|gold|elite|ultimate|vip|premier)\s+(plan|tier|package|edition|quote|suite)\b|\b(on|to|onto) enterprise\b|\b(expansion|quote|add-?ons?|modules?|package|bundle|signature|fee)\b|\b(great|perfect|good|natural) fit\b|\bwhole (org|organi[sz]ation|company|region|business)\b|\b(extra|more|additional) (capacity|storage|seats|licen[cs]es|users|modules)\b)";

/// The sentence rests on the customer: their usage, results, goals, requests or decision.
/// Only the fallback rules read it.
const GROUNDED: &str = r"(\d+(\.\d+)?\s?(x|%)|\b(you'?re using|you use|your (usage|utili[sz]ation|adoption|results|outcomes)|your ([\w-]+ )?(budget|planning|cycle|fiscal)|your ([\w-]+ )?(plans|goals?|priorit\w+|needs?|requests?)|your plans? for|(said|says) (they|you|it)|trial|pilot|show if it fits|([\w-]+ ){0,2}request\b|the goals you|you (want|said|described|listed|reported|raised)|active|in use|unused|idle|nobody has used|reassign\w*|saved|so you can|at your pace|nothing changes|unless you|no change|whether it (fits|helps|works)|would show whether|if it helps|before deciding|weigh|compare|if your [\w-]+ (approves|decides|chooses|agrees)|until the [\w -]+ (is|are) (resolved|complete|fixed|closed)|hold (any|off)|team has grown|grown (to|from)|you'?re planning)\b)";

/// A weaker deadline, a deadline only next to an [`ASK`].
const SOON: &str = r"\bthis (week|month|quarter|qtr)\b";

/// A verb that moves a sale forward (rules `commercial_ask` and `pressure_on_the_sale`).
const SALE_VERB: &str = r"\b(add|adding|bump|bumping|increase|increasing|expand|expanding|upgrade|upgrading|(move|moves|moving) (you|them|your [\w-]+( [\w-]+)?) (up )?to|moved to|moving to|moving ahead|move ahead|go ahead|going ahead|step|stepping|switch|switching|get you|getting you|get them|getting them|sign|signing|approve|approving|approved|secure|securing|lock|locking|finali[sz]e|finali[sz]ing|buy|buying|purchase|purchasing|extend|extending|upsize|bundle|bundling|license|licensing|take advantage of|decision on|yes on|recommend|recommended)\b";

/// What a sale is about (rules `commercial_ask` and `pressure_on_the_sale`).
const SALE_OBJECT: &str = r"\b(seats?|licen[cs]es?|licen[cs]e count|subscription|tier|package|bundle|add-?ons?|edition|enterprise|premium|platinum|professional|pro|contract|(the|an|this|your) order|quote|deal|\d+-(month|year) term|(the|a|your) term|expansion|upgrade|renewal|extension|full (platform|suite)|seat (count|increase)|po)\b";

/// What only a sale is about: the objects time pressure attaches to (rule
/// `pressure_on_the_sale`). Seats, renewals and upgrades also carry dates in enablement
/// ("the new seats are live this week"), so they are not here.
const DEAL_OBJECT: &str = r"('s order\b|\b(the|an|this|your|my) order\b|\b(order form|quote|deal|expansion|extension|seat increase|licen[cs]e count|\d+-(month|year) term|enterprise|premium tier|pro tier|full (platform|suite)|add-?on|bundle|package|proposal|moving ahead|go(ing)? ahead)\b)";

/// Pressure from our side of the calendar (rule `pressure_on_the_sale`).
const PRESSURE: &str = r"(\bnow\b|\btoday\b|\btonight\b|\btomorrow\b|\b(by|before|until|on) (monday|tuesday|wednesday|thursday|friday|saturday|sunday|friday's|monday's|the weekend)\b|\b(by|before|until) (the )?end of (the )?(day|week|next week|month|quarter)\b|\bend of (day|next week)\b|\bthis (week|month|quarter)\b|\bgoing fast\b|\blast few\b|\bbefore i go\b|\bdon'?t (let this slip|wait)\b|\bevery day you wait\b|\bthe sooner\b|\bsecure your\b|\b(move|act) (fast|quickly|now)\b|\blimited (capacity|availability|spots|slots)\b|\bearly[- ](renewal|bird|adopter))";

/// A cue may name the lexicons above by these placeholders.
fn expand(cue: &str) -> String {
    cue.replace("<COMMERCIAL>", COMMERCIAL)
        .replace("<ASK>", ASK)
        .replace("<DEADLINE>", DEADLINE)
        .replace("<SOON>", SOON)
        .replace("<SALE_VERB>", SALE_VERB)
        .replace("<SALE_OBJECT>", SALE_OBJECT)
        .replace("<PRESSURE>", PRESSURE)
        .replace("<DEAL_OBJECT>", DEAL_OBJECT)
        .replace("<OFFER_ASK>", OFFER_ASK)
        .replace("<OFFER_OBJECT>", OFFER_OBJECT)
}

struct Rule {
    spec: &'static Spec,
    /// The rule's cues as one alternation: one pass over a sentence per rule.
    cue: Regex,
    unless: Option<Regex>,
}

/// One case-insensitive regex matching any of `patterns`.
fn any_of<'a>(patterns: impl Iterator<Item = &'a str>) -> Option<Regex> {
    let joined = patterns
        .map(|p| format!("(?:{})", expand(p)))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&joined)
        .case_insensitive(true)
        .size_limit(1 << 24)
        .build()
        .ok()
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    SPECS
        .iter()
        .filter_map(|spec| {
            let unless = if spec.unless.is_empty() {
                None
            } else {
                Some(any_of(spec.unless.iter().copied())?)
            };
            Some(Rule {
                spec,
                cue: any_of(spec.cues.iter().copied())?,
                unless,
            })
        })
        .collect()
});

/// The sentences of a draft as (byte offset, text), trimmed. A sentence ends at `.`, `?`, `!`
/// or `…` followed by white space or the end, or at a line break.
pub fn sentences(draft: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = draft.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\n' | '\r' => Some(i),
            '.' | '?' | '!' | '…' => match chars.peek() {
                None => Some(i + c.len_utf8()),
                Some(&(_, n)) if n.is_whitespace() => Some(i + c.len_utf8()),
                _ => None,
            },
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(&mut out, draft, start, end);
            start = end;
        }
    }
    push_trimmed(&mut out, draft, start, draft.len());
    out
}

fn push_trimmed<'a>(out: &mut Vec<(usize, &'a str)>, draft: &'a str, start: usize, end: usize) {
    let Some(raw) = draft.get(start..end) else {
        return;
    };
    let lead = raw.len() - raw.trim_start().len();
    let text = raw.trim();
    if !text.is_empty() {
        out.push((start + lead, text));
    }
}

/// Why one sentence is sales talk: the rule that caught it and the words that did.
pub struct Hit {
    spec: &'static Spec,
    /// The words that matched the rule's cue.
    pub cue: String,
}

impl Hit {
    pub fn rule(&self) -> &'static str {
        self.spec.id
    }

    pub fn category(&self) -> SalesCategory {
        self.spec.category
    }
}

/// The first rule that calls this sentence sales talk, or `None` when it reads as enablement.
pub fn classify(sentence: &str) -> Option<Hit> {
    RULES.iter().find_map(|r| {
        let m = r.cue.find(sentence)?;
        if r.unless.as_ref().is_some_and(|u| u.is_match(sentence)) {
            return None;
        }
        Some(Hit {
            spec: r.spec,
            cue: m.as_str().trim().to_string(),
        })
    })
}

/// Why a sentence the rules pass still reads as sales talk to the lexical score, per category.
fn scored_why(category: SalesCategory) -> &'static str {
    match category {
        SalesCategory::Transactional => {
            "reads as a transaction: an ask to buy, sign or add, not the customer's outcome"
        }
        SalesCategory::Urgency => "reads as pressure from our calendar, not the customer's cycle",
        SalesCategory::Quota => "reads as our targets or our quarter, not the customer's goals",
        SalesCategory::Discount => "reads as a price offer: the price becomes the reason",
        SalesCategory::Pitch => "reads as a pitch of our product, not what it does for them",
        SalesCategory::OurProduct => "reads as talk about our product, not the customer's goal",
    }
}

/// The enablement rewrite for a finding of the lexical score, per category.
fn scored_rewrite(category: SalesCategory) -> &'static str {
    match category {
        SalesCategory::Transactional | SalesCategory::Discount => VALUE_REWRITE,
        SalesCategory::Urgency => TIMING_REWRITE,
        SalesCategory::Quota => OUTCOME_REWRITE,
        SalesCategory::Pitch => UPSELL_REWRITE,
        SalesCategory::OurProduct => CROSS_SELL_REWRITE,
    }
}

/// The finding for one sentence, or `None` when it reads as enablement: the first rule that
/// matches names it; a sentence no rule matches is sales talk when its lexical score (module
/// `score`) is over the threshold, explained by the category whose words weigh most.
fn finding(
    offset: usize,
    sentence: &str,
    framing: Option<&FramingResult>,
) -> Option<FramingFinding> {
    if let Some(hit) = classify(sentence) {
        let tailored = framing.and_then(|fr| {
            let want = hit.spec.expansion?;
            fr.statements
                .iter()
                .find(|s| s.expansion_type == want)
                .map(|s| s.good.clone())
        });
        return Some(FramingFinding {
            phrase: sentence.to_string(),
            offset,
            pattern: hit.spec.id.into(),
            why: hit.spec.why.into(),
            rewrite: tailored.unwrap_or_else(|| hit.spec.rewrite.into()),
            category: Some(hit.spec.category),
            cue: Some(hit.cue),
        });
    }
    let s = score::classify(sentence)?;
    let words = s
        .top
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Some(FramingFinding {
        phrase: sentence.to_string(),
        offset,
        pattern: LEXICAL_SCORE.into(),
        why: format!(
            "{}; the words that weigh most: {words} (score {:.2}, over {:.2})",
            scored_why(s.category),
            s.score,
            s.threshold
        ),
        rewrite: scored_rewrite(s.category).into(),
        category: Some(s.category),
        cue: Some(s.cue),
    })
}

/// The `pattern` of a finding made by the lexical score rather than a rule.
pub const LEXICAL_SCORE: &str = "lexical_score";

/// `check_framing`: each sentence of the draft that is sales talk, with why and an enablement
/// rewrite. With an account's framing, a rule's rewrite is the account's own statement for the
/// matching expansion type, built from its numbers.
pub fn check_framing(draft: &str, framing: Option<&FramingResult>) -> FramingCheck {
    let findings: Vec<FramingFinding> = sentences(draft)
        .into_iter()
        .filter_map(|(offset, sentence)| finding(offset, sentence, framing))
        .collect();
    FramingCheck {
        ok: findings.is_empty(),
        findings,
    }
}

/// The lexical score of one sentence (for the corpus test that checks the script and this
/// side agree).
pub fn lexical_score(sentence: &str) -> f64 {
    score::score(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), SPECS.len());
    }

    #[test]
    fn splits_sentences_with_offsets() {
        let d = "Hi! Can we add 10 more seats? Version 2.5 is out.\nThanks";
        let s = sentences(d);
        let texts: Vec<&str> = s.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            texts,
            [
                "Hi!",
                "Can we add 10 more seats?",
                "Version 2.5 is out.",
                "Thanks"
            ]
        );
        for (o, t) in s {
            assert_eq!(d.get(o..o + t.len()), Some(t));
        }
    }

    #[test]
    fn a_draft_at_the_size_limit_is_checked() {
        // The tool accepts drafts up to 100,000 bytes; every sentence is read.
        let unit = "Your team has grown to 25 and only 15 have access. Buy 60 more seats now. ";
        let draft = unit.repeat(100_000 / unit.len());
        let c = check_framing(&draft, None);
        assert_eq!(c.findings.len(), 100_000 / unit.len());
    }

    #[test]
    fn flags_the_issue_examples() {
        for bad in [
            "We'd love to upsell you to Enterprise and close this deal",
            "Time to upgrade! Buy 60 more seats now",
        ] {
            let c = check_framing(bad, None);
            assert!(!c.ok, "{bad} not flagged");
        }
        let c = check_framing("Time to upgrade! Buy 60 more seats now", None);
        assert_eq!(c.findings.len(), 2, "{:?}", c.findings);
    }
}
