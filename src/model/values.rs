//! Value types that carry the project's arithmetic rules: money in integer cents, calendar
//! days without a clock, and percentages and scores in integer tenths, rounded once, never
//! across a threshold, so that no result can hold a NaN or an infinity.

use std::borrow::Cow;
use std::fmt;

use jiff::civil::Date;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount accepted anywhere: ten trillion a year. Anything above is a unit or
/// typing mistake, and refusing it keeps every cent computation far from `i64` overflow.
pub const MAX_MONEY_CENTS: i64 = 1_000_000_000_000_000;

/// An annual amount of money in integer cents.
///
/// JSON carries money as a number of currency units (`95000.5`); it is converted to cents
/// once, when read, and every sum, product and scenario is computed on the integer. That is
/// why a 50 % scenario of 33,333.33 is 16,666.67 and never 16,666.665000000001.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Converts a JSON number of currency units into cents, refusing what cannot be money.
    pub fn from_units(units: f64) -> Result<Money, String> {
        if !units.is_finite() {
            return Err(format!("must be a finite number (got {units})"));
        }
        if units < 0.0 {
            return Err(format!("must not be negative (got {units})"));
        }
        let cents = (units * 100.0).round();
        if cents > MAX_MONEY_CENTS as f64 {
            return Err(format!(
                "is implausibly large (got {units}; at most 10000000000000)"
            ));
        }
        // The range check above makes the cast exact.
        Ok(Money(cents as i64))
    }

    /// Units as a JSON number; exact for every value below 2^53 cents.
    pub fn as_units(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `self × n`, saturating: with the input bounds (10^15 cents, u32 counts) no real
    /// product comes near the limit, but saturating keeps a pathological one finite.
    pub fn times(self, n: u64) -> Money {
        Money(i64::try_from(i128::from(self.0) * i128::from(n)).unwrap_or(i64::MAX))
    }

    /// `self × pct / 100` with `pct` given in tenths of a percent, rounded half away from
    /// zero to the cent.
    pub fn percent_tenths(self, tenths: i64) -> Money {
        let num = i128::from(self.0) * i128::from(tenths);
        let rounded = if num >= 0 {
            (num + 500) / 1000
        } else {
            (num - 500) / 1000
        };
        Money(i64::try_from(rounded).unwrap_or(i64::MAX))
    }

    /// `self / n` rounded half up to the cent; `None` when `n` is zero.
    pub fn divided_by(self, n: u64) -> Option<Money> {
        if n == 0 {
            return None;
        }
        let n = i128::from(n);
        let v = (i128::from(self.0) * 2 + n) / (2 * n);
        i64::try_from(v).ok().map(Money)
    }

    /// `self × num / den`, multiplied before it is divided, rounded half away from zero to
    /// the currency's minor unit (`minor_digits` 2 for USD, 0 for JPY): JPY 10,000,000 × 45
    /// / 300 is JPY 1,500,000, not 45 × 33,333.33. `None` when `den` is zero.
    pub fn mul_div(self, num: u64, den: u64, minor_digits: u32) -> Option<Money> {
        if den == 0 {
            return None;
        }
        // Work in the currency's minor unit: cents / step, where step is 1 (2 digits) or
        // 100 (0 digits).
        let step: i128 = match minor_digits {
            0 => 100,
            1 => 10,
            _ => 1,
        };
        let n = i128::from(self.0) * i128::from(num);
        let d = i128::from(den) * step;
        let q = (2 * n + d) / (2 * d);
        i64::try_from(q * step).ok().map(Money)
    }

    /// Rounded half up to the currency's minor unit (a no-op for two-decimal currencies).
    pub fn to_minor(self, minor_digits: u32) -> Money {
        self.mul_div(1, 1, minor_digits).unwrap_or(self)
    }

    /// `self / other` as a percentage rounded to one decimal; `None` when `other` is zero.
    pub fn ratio_pct(self, other: Money) -> Option<Pct> {
        if other.0 == 0 {
            return None;
        }
        Some(ratio_pct_i128(i128::from(self.0), i128::from(other.0)))
    }
}

/// `num / den × 100` rounded half up to one decimal, computed on integers so that the
/// displayed figure is the exact one (26.666… → 26.7, 60.0 stays 60.0).
pub fn ratio_pct(num: u64, den: u64) -> Option<Pct> {
    if den == 0 {
        return None;
    }
    Some(ratio_pct_i128(i128::from(num), i128::from(den)))
}

fn ratio_pct_i128(num: i128, den: i128) -> Pct {
    // tenths of a percent = num * 1000 / den, rounded half up.
    let tenths = (num * 2000 + den) / (2 * den);
    Pct(i64::try_from(tenths).unwrap_or(if tenths < 0 { i64::MIN } else { i64::MAX }))
}

/// Digits after the decimal point in a currency's minor unit (ISO 4217). Amounts are kept in
/// hundredths; currencies without minor units round to whole units, and three-digit ones
/// (BHD, KWD...) keep hundredths, the finest the store holds.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "PYG" | "XAF" | "XOF" | "XPF" | "KMF"
        | "GNF" | "RWF" | "VUV" | "DJF" | "BIF" => 0,
        _ => 2,
    }
}

/// A percentage in integer tenths: 59.9 % is 599.
///
/// Every percentage a result carries is one of these, so a NaN or an infinity cannot be
/// built: the figure is computed on integers (`ratio_pct`, `pct_tenths_not_across`) and
/// written as a JSON number with one decimal (`59.9`, `60.0`) only when it is serialised.
/// Comparisons against a threshold are made on the exact figure before it becomes a `Pct`,
/// never on the rounded one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pct(i64);

impl Pct {
    pub const fn from_tenths(tenths: i64) -> Pct {
        Pct(tenths)
    }

    pub fn tenths(self) -> i64 {
        self.0
    }

    /// The figure as a number of percent (`59.9`): the nearest `f64` to the one-decimal
    /// figure, which serde_json and `{:.1}` both write back as exactly that decimal.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 10.0
    }

    /// A JSON number of percent, rounded half away from zero to a tenth; refuses what is not
    /// a finite number or lies beyond what any `Pct` can hold.
    pub fn from_number(x: f64) -> Result<Pct, String> {
        let t = (x * 10.0).round();
        if !t.is_finite() || t.abs() > MAX_TENTHS {
            return Err(format!("must be a finite percentage (got {x})"));
        }
        // The range check above makes the cast exact.
        Ok(Pct(t as i64))
    }
}

/// The largest magnitude, in tenths, a `Pct` read from a number takes: 2^53, below which
/// every integer is an exact `f64`.
const MAX_TENTHS: f64 = 9_007_199_254_740_992.0;

/// A score from 0 to 100 in integer tenths: 72.5 is 725.
///
/// Scores arrive as JSON numbers (the snapshot's `health.score` and components) and the
/// composite is a weighted mean of them, computed exactly in `f64` for the gate's
/// comparisons. What a result carries is the score as shown, with one decimal and never
/// rounded across a threshold (`Score::shown`): a type that holds no NaN, no infinity and
/// nothing outside 0-100.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(u16);

impl Score {
    pub const MAX: Score = Score(1000);

    /// `None` above 100.0.
    pub fn from_tenths(tenths: u16) -> Option<Score> {
        (tenths <= Score::MAX.0).then_some(Score(tenths))
    }

    pub fn tenths(self) -> u16 {
        self.0
    }

    /// The score as a number (`72.5`), for comparisons with a policy threshold and for JSON.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// The exact score `x` shown with one decimal, never rounded across one of `thresholds`:
    /// 69.95 against a gate of 70 shows 69.9, because it fails. `None` when `x` is not a
    /// score (not finite, or outside 0-100); input validation refuses those, so the engine
    /// never has one to show.
    pub fn shown(x: f64, thresholds: &[f64]) -> Option<Score> {
        if !(0.0..=100.0).contains(&x) {
            return None;
        }
        let mut t = (x * 10.0).round();
        for &th in thresholds {
            if x < th && t / 10.0 >= th {
                t = ((th - 0.1) * 10.0).round().max(0.0);
            }
        }
        // `t` is a whole number from 0 to 1000 here: the cast is exact.
        Score::from_tenths(t as u16)
    }

    /// The smallest score with one decimal at or above `x` (a target to reach); `None` when
    /// `x` is not a score.
    pub fn at_least(x: f64) -> Option<Score> {
        if !(0.0..=100.0).contains(&x) {
            return None;
        }
        let t = (x * 10.0).round();
        let t = if t / 10.0 < x { t + 1.0 } else { t };
        Score::from_tenths(t as u16)
    }

    /// A JSON number read back as a score, rounded to a tenth; refuses what is not one.
    pub fn from_number(x: f64) -> Result<Score, String> {
        if !(0.0..=100.0).contains(&x) {
            return Err(format!("must be a score from 0 to 100 (got {x})"));
        }
        Ok(Score((x * 10.0).round() as u16))
    }
}

/// `num / den × 100` in tenths of a percent, rounded half up, but never rounded across one of
/// `thresholds` (tenths): a figure just below a threshold shows one tenth below it, so 1,199
/// of 2,000 (59.95 %) reads 59.9 %, never a failing "60.0 %".
pub fn pct_tenths_not_across(num: u64, den: u64, thresholds: &[u64]) -> Option<Pct> {
    if den == 0 {
        return None;
    }
    let (n, d) = (u128::from(num), u128::from(den));
    let mut t = u64::try_from((n * 2000 + d) / (2 * d)).unwrap_or(u64::MAX);
    for &th in thresholds {
        // exact < th, but rounded up to th or beyond.
        if n * 1000 < u128::from(th) * d && t >= th {
            t = th.saturating_sub(1);
        }
    }
    Some(Pct(i64::try_from(t).unwrap_or(i64::MAX)))
}

/// Rounds a figure to one decimal, for text only (a difference of two scores, a plan limit's
/// share); what a result carries as a number is a `Pct` or a `Score`.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A figure with one decimal: a `Pct`, a `Score`, or a policy threshold as configured.
pub trait OneDecimal: Copy {
    /// The figure in tenths, when it is held that way.
    fn held_tenths(self) -> Option<i64>;
    /// The figure as a number.
    fn number(self) -> f64;
}

impl OneDecimal for f64 {
    fn held_tenths(self) -> Option<i64> {
        None
    }
    fn number(self) -> f64 {
        self
    }
}

impl OneDecimal for Pct {
    fn held_tenths(self) -> Option<i64> {
        Some(self.0)
    }
    fn number(self) -> f64 {
        self.as_f64()
    }
}

impl OneDecimal for Score {
    fn held_tenths(self) -> Option<i64> {
        Some(i64::from(self.0))
    }
    fn number(self) -> f64 {
        self.as_f64()
    }
}

/// `-59.9` from -599, with room for a unit after it.
fn tenths_text(t: i64) -> String {
    use std::fmt::Write;
    let a = t.unsigned_abs();
    let mut s = String::with_capacity(8);
    if t < 0 {
        s.push('-');
    }
    let _ = write!(s, "{}.{}", a / 10, a % 10);
    s
}

/// `59.9` from tenths, on integers; a bare number with `{:.1}`.
fn one_decimal(x: impl OneDecimal) -> String {
    match x.held_tenths() {
        Some(t) => tenths_text(t),
        None => {
            let v = x.number();
            let t = v * 10.0;
            // A figure that is a whole number of tenths in floating point (a threshold such
            // as 70, a provided score such as 86.5) prints as `{:.1}` would print it, on
            // integers: the exact binary value is within half an ulp of that tenth, nowhere
            // near a rounding boundary. `{:.1}` of a float took a bignum path that was a
            // tenth of a segment scan. Anything else (and -0.0) keeps `{:.1}`.
            if t == t.trunc() && (t > 0.0 || (t < 0.0 && t > -1e15)) && t < 1e15 {
                #[allow(clippy::cast_possible_truncation)]
                tenths_text(t as i64)
            } else {
                format!("{v:.1}")
            }
        }
    }
}

/// Formats a percentage with exactly one decimal: `26.7%`.
pub fn fmt_pct(x: impl OneDecimal) -> String {
    let mut s = one_decimal(x);
    s.push('%');
    s
}

/// Formats a score with one decimal, dropping nothing: `72.0`.
pub fn fmt_score(x: impl OneDecimal) -> String {
    one_decimal(x)
}

impl fmt::Display for Pct {
    /// `26.7%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fmt_pct(*self))
    }
}

impl fmt::Display for Score {
    /// `72.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&fmt_score(*self))
    }
}

impl Serialize for Pct {
    /// Always a number with a fraction (`60.0`, not `60`), as the figure was when it was an
    /// `f64`: clients that told the two apart see no change.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Pct {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pct, D::Error> {
        Pct::from_number(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Pct {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Pct".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number" })
    }
}

impl Serialize for Score {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Score, D::Error> {
        Score::from_number(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Score {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Score".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number" })
    }
}

impl fmt::Display for Money {
    /// `95,000` for whole amounts, `16,666.67` otherwise; the currency is added by callers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let units = abs / 100;
        let cents = abs % 100;
        let digits = units.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        if neg {
            f.write_str("-")?;
        }
        if cents == 0 {
            write!(f, "{grouped}")
        } else {
            write!(f, "{grouped}.{cents:02}")
        }
    }
}

/// The longest piece of user text an error message repeats: enough to recognise it, short
/// enough that a 10 MB string in the input does not become a 10 MB error.
pub const MAX_QUOTED_CHARS: usize = 60;

/// User text in backticks for an error message, shortened when long:
/// `` `Northwind` `` or `` `aaaa…` (10485760 characters) ``.
pub fn quote(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_QUOTED_CHARS {
        format!("`{s}`")
    } else {
        let head: String = s.chars().take(MAX_QUOTED_CHARS).collect();
        format!("`{head}…` ({n} characters)")
    }
}

/// Formats money with its currency code: `USD 95,000`.
pub fn fmt_money(m: Money, currency: &str) -> String {
    format!("{currency} {m}")
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            s.serialize_i64(self.0 / 100)
        } else {
            s.serialize_f64(self.as_units())
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let units = f64::deserialize(d)?;
        Money::from_units(units).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Money {
    fn schema_name() -> Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "maximum": 10_000_000_000_000_i64,
            "description": "An annual amount in the account's currency, as a number of currency units (cents are kept exactly)."
        })
    }
}

/// A calendar day (`YYYY-MM-DD`), with no time zone and no clock behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

impl Day {
    pub fn parse(s: &str) -> Result<Day, String> {
        let well_formed = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !well_formed {
            return Err(format!("{} is not a date in the form YYYY-MM-DD", quote(s)));
        }
        // The digits are checked: build the date from them (jiff checks the day exists),
        // and ask jiff's parser only for the words of the error.
        let b = s.as_bytes();
        let num = |r: std::ops::Range<usize>| {
            b.get(r).map_or(0, |d| {
                d.iter()
                    .fold(0i16, |n, &c| n * 10 + i16::from(c.wrapping_sub(b'0')))
            })
        };
        let (y, m, d) = (num(0..4), num(5..7), num(8..10));
        match (i8::try_from(m), i8::try_from(d)) {
            (Ok(m), Ok(d)) if y > 0 => {
                if let Ok(date) = Date::new(y, m, d) {
                    return Ok(Day(date));
                }
            }
            _ => {}
        }
        s.parse::<Date>()
            .map(Day)
            .map_err(|e| format!("`{s}` is not a real calendar date ({e})"))
    }

    /// The day `n` days later (earlier when negative), saturating at the calendar's ends.
    pub fn plus_days(self, n: i64) -> Day {
        let span = jiff::Span::new().try_days(n).unwrap_or_default();
        Day(self
            .0
            .checked_add(span)
            .unwrap_or(if n >= 0 { Date::MAX } else { Date::MIN }))
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        let mut total = 0_i64;
        // Date subtraction in days is exact for civil dates.
        if let Ok(span) = self.0.until((jiff::Unit::Day, later.0)) {
            total = i64::from(span.get_days());
        }
        total
    }

    pub fn year(self) -> i16 {
        self.0.year()
    }

    pub fn month(self) -> i8 {
        self.0.month()
    }

    pub fn first_of_month(year: i16, month: i8) -> Option<Day> {
        Date::new(year, month, 1).ok().map(Day)
    }

    pub fn day(self) -> i8 {
        self.0.day()
    }

    /// The last day of this day's month.
    pub fn last_of_month(self) -> Day {
        Day(self.0.last_of_month())
    }

    /// Saturday or Sunday.
    pub fn is_weekend(self) -> bool {
        matches!(
            self.0.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        )
    }

    /// This day, or the Monday after it when it falls on a weekend: no plan step is dated
    /// on a Saturday or a Sunday.
    pub fn working_day(self) -> Day {
        match self.0.weekday() {
            jiff::civil::Weekday::Saturday => self.plus_days(2),
            jiff::civil::Weekday::Sunday => self.plus_days(1),
            _ => self,
        }
    }

    /// This day, or the Friday before it when it falls on a weekend (for deadlines).
    pub fn working_day_before(self) -> Day {
        match self.0.weekday() {
            jiff::civil::Weekday::Saturday => self.plus_days(-1),
            jiff::civil::Weekday::Sunday => self.plus_days(-2),
            _ => self,
        }
    }

    /// `3 December 2026`, the way a plan is read aloud.
    pub fn long(self) -> String {
        let m = month_name(self.month()).unwrap_or("?");
        format!("{} {m} {}", self.day(), self.year())
    }
}

/// The English name of month `m` (1 = January), `None` outside 1..=12.
pub fn month_name(m: i8) -> Option<&'static str> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let s: Cow<'de, str> = Deserialize::deserialize(d)?;
        Day::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Day {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "description": "A calendar date, YYYY-MM-DD."
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn one_decimal_of_a_float_is_what_format_prints() {
        let mut xs: Vec<f64> = Vec::new();
        for k in -20_000..20_000 {
            xs.push(f64::from(k) / 10.0);
            xs.push(f64::from(k) / 100.0);
            xs.push(f64::from(k) / 3.0);
            xs.push(f64::from(k) * 0.1);
            xs.push(f64::from(k) * 0.05);
        }
        let mut r: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..200_000 {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            let x = f64::from_bits(r);
            if x.is_finite() {
                xs.push(x);
                xs.push((x % 1000.0).abs());
            }
        }
        xs.extend([
            0.0,
            -0.0,
            1e15,
            1e14 + 0.5,
            99.95,
            69.95,
            0.05,
            0.25,
            1e-300,
            f64::MAX,
        ]);
        for x in xs {
            assert_eq!(fmt_score(x), format!("{x:.1}"), "{x:e}");
        }
    }

    use super::*;

    #[test]
    fn pct_rounds_half_up_on_integers() {
        assert_eq!(ratio_pct(12, 45), Some(Pct::from_tenths(267)));
        assert_eq!(ratio_pct(27, 45), Some(Pct::from_tenths(600)));
        assert_eq!(ratio_pct(1, 8), Some(Pct::from_tenths(125)));
        assert_eq!(ratio_pct(1, 0), None);
        assert_eq!(fmt_pct(ratio_pct(12, 45).unwrap()), "26.7%");
        assert_eq!(
            serde_json::to_string(&Pct::from_tenths(599)).unwrap(),
            "59.9"
        );
        assert_eq!(
            serde_json::to_string(&Pct::from_tenths(600)).unwrap(),
            "60.0"
        );
    }

    #[test]
    fn scores_are_never_rounded_across_a_threshold() {
        assert_eq!(Score::shown(69.95, &[70.0]), Score::from_tenths(699));
        assert_eq!(Score::shown(69.96, &[]), Score::from_tenths(700));
        assert_eq!(Score::shown(70.0, &[70.0]), Score::from_tenths(700));
        assert_eq!(Score::shown(f64::NAN, &[70.0]), None);
        assert_eq!(Score::shown(f64::INFINITY, &[]), None);
        assert_eq!(Score::shown(100.01, &[]), None);
        assert_eq!(Score::at_least(70.25), Score::from_tenths(703));
        assert_eq!(Score::at_least(70.0), Score::from_tenths(700));
        assert_eq!(fmt_score(Score::from_tenths(720).unwrap()), "72.0");
        assert_eq!(fmt_score(72.0_f64), "72.0");
        assert_eq!(
            serde_json::to_string(&Score::from_tenths(725)).unwrap(),
            "72.5"
        );
        assert!(serde_json::from_str::<Score>("100.5").is_err());
        assert!(serde_json::from_str::<Pct>("1e300").is_err());
    }

    #[test]
    fn money_is_exact() {
        let m = Money::from_units(33_333.33).unwrap();
        assert_eq!(m.percent_tenths(500).cents(), 1_666_667);
        assert_eq!(m.to_string(), "33,333.33");
        assert_eq!(Money::from_units(95_000.0).unwrap().to_string(), "95,000");
        assert!(Money::from_units(f64::NAN).is_err());
        assert!(Money::from_units(-1.0).is_err());
    }

    #[test]
    fn dates_are_strict() {
        assert!(Day::parse("2027-02-30").is_err());
        assert!(Day::parse("2027-2-3").is_err());
        assert!(Day::parse("03/15/2027").is_err());
        let d = Day::parse("2026-11-29").unwrap();
        assert_eq!(d.plus_days(60).to_string(), "2027-01-28");
        assert_eq!(d.days_until(d.plus_days(90)), 90);
    }

    /// `Day::parse` builds the date from its digits; jiff's parser is the reference, for
    /// every day of a leap and a common year, the days that do not exist, and the years at
    /// the ends of the calendar.
    #[test]
    fn dates_read_as_jiff_reads_them() {
        let mut texts = vec![
            "0000-01-01".to_string(),
            "0001-01-01".to_string(),
            "9999-12-31".to_string(),
            "2027-00-10".to_string(),
            "2027-13-01".to_string(),
            "2027-01-00".to_string(),
            "2027-01-32".to_string(),
            "2100-02-29".to_string(),
            "2000-02-29".to_string(),
        ];
        for y in [2024, 2027] {
            for m in 1..=12 {
                for d in 1..=31 {
                    texts.push(format!("{y:04}-{m:02}-{d:02}"));
                }
            }
        }
        for t in texts {
            let ours = Day::parse(&t).map(|d| d.0);
            let jiffs = t.parse::<jiff::civil::Date>();
            assert_eq!(ours.is_ok(), jiffs.is_ok(), "{t}");
            if let (Ok(a), Ok(b)) = (ours, jiffs) {
                assert_eq!(a, b, "{t}");
            }
        }
    }
}
