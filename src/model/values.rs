//! Value types that carry the project's arithmetic rules: money in integer cents, calendar
//! days without a clock, and percentages rounded once, at the edge, to one decimal.

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
    pub fn ratio_pct(self, other: Money) -> Option<f64> {
        if other.0 == 0 {
            return None;
        }
        Some(ratio_pct_i128(i128::from(self.0), i128::from(other.0)))
    }
}

/// `num / den × 100` rounded half up to one decimal, computed on integers so that the
/// displayed figure is the exact one (26.666… → 26.7, 60.0 stays 60.0).
pub fn ratio_pct(num: u64, den: u64) -> Option<f64> {
    if den == 0 {
        return None;
    }
    Some(ratio_pct_i128(i128::from(num), i128::from(den)))
}

fn ratio_pct_i128(num: i128, den: i128) -> f64 {
    // tenths of a percent = num * 1000 / den, rounded half up.
    let tenths = (num * 2000 + den) / (2 * den);
    tenths as f64 / 10.0
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

/// `num / den × 100` in tenths of a percent, rounded half up, but never rounded across one of
/// `thresholds` (tenths): a figure just below a threshold shows one tenth below it, so 1,199
/// of 2,000 (59.95 %) reads 59.9 %, never a failing "60.0 %".
pub fn pct_tenths_not_across(num: u64, den: u64, thresholds: &[u64]) -> Option<u64> {
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
    Some(t)
}

/// A score (0-100) with one decimal that never rounds across `threshold`: 69.95 against a
/// gate of 70 shows 69.9, because it fails.
pub fn score_not_across(x: f64, thresholds: &[f64]) -> f64 {
    let mut r = round1(x);
    for &th in thresholds {
        if x < th && r >= th {
            r = round1(th - 0.1);
        }
    }
    r
}

/// Rounds a score or percentage to one decimal for display and output.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Formats a percentage with exactly one decimal: `26.7%`.
pub fn fmt_pct(x: f64) -> String {
    format!("{x:.1}%")
}

/// Formats a score with one decimal, dropping nothing: `72.0`.
pub fn fmt_score(x: f64) -> String {
    format!("{x:.1}")
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
    use super::*;

    #[test]
    fn pct_rounds_half_up_on_integers() {
        assert_eq!(ratio_pct(12, 45), Some(26.7));
        assert_eq!(ratio_pct(27, 45), Some(60.0));
        assert_eq!(ratio_pct(1, 8), Some(12.5));
        assert_eq!(ratio_pct(1, 0), None);
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
}
