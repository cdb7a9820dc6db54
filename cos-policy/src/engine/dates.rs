//! `time.add_date` with Go's `time.AddDate` semantics, as OPA has it,
//! replacing regorus 0.14's, which clamps the day where Go normalises
//! (2024-01-31 + 1 month is 2024-03-02 in OPA, 2024-02-29 in regorus): a
//! difference that moves expiry dates.

use regorus::Value;

use cos_core::time::{SECS_PER_DAY, civil_from_days, days_from_civil};

/// Nanoseconds in a day.
pub(crate) const NS_PER_DAY: i64 = SECS_PER_DAY * 1_000_000_000;

/// Adds years, months and days to a UTC time in nanoseconds since the
/// epoch, normalising overflow as Go's `time.AddDate` does; `None` outside
/// the `i64` nanosecond range (an error in OPA).
pub(crate) fn add_date_ns(ns: i64, years: i64, months: i64, days: i64) -> Option<i64> {
    let day = ns.div_euclid(NS_PER_DAY);
    let time_of_day = ns.rem_euclid(NS_PER_DAY);
    let (y, m, d) = civil_from_days(day);
    let month0 = i64::from(m - 1).checked_add(months)?;
    let y = y.checked_add(years)?.checked_add(month0.div_euclid(12))?;
    // 1..=12 by construction.
    let m = u32::try_from(month0.rem_euclid(12) + 1).ok()?;
    let day = days_from_civil(y, m, 1)?
        .checked_add(i64::from(d) - 1)?
        .checked_add(days)?;
    day.checked_mul(NS_PER_DAY)?.checked_add(time_of_day)
}

fn int(v: &Value, n: usize) -> anyhow::Result<i64> {
    v.as_i64()
        .map_err(|_| anyhow::anyhow!("time.add_date: operand {n} must be an integer number"))
}

/// `time.add_date(ns, years, months, days)` as a regorus extension.
pub(crate) fn add_date(args: Vec<Value>) -> anyhow::Result<Value> {
    let [ns, y, m, d] = args.as_slice() else {
        anyhow::bail!("time.add_date: expects 4 arguments");
    };
    let r = add_date_ns(int(ns, 1)?, int(y, 2)?, int(m, 3)?, int(d, 4)?)
        .ok_or_else(|| anyhow::anyhow!("time.add_date: time outside of valid range"))?;
    Ok(Value::from(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d).unwrap() * NS_PER_DAY
    }

    #[test]
    fn go_normalisation() {
        // Go: 2024-01-31 + 1 month = 2024-03-02 (Feb 31 -> Mar 2).
        assert_eq!(add_date_ns(ns(2024, 1, 31), 0, 1, 0), Some(ns(2024, 3, 2)));
        assert_eq!(add_date_ns(ns(2023, 1, 31), 0, 1, 0), Some(ns(2023, 3, 3)));
        assert_eq!(add_date_ns(ns(2024, 2, 29), 1, 0, 0), Some(ns(2025, 3, 1)));
        assert_eq!(
            add_date_ns(ns(2024, 12, 15), 0, 1, 0),
            Some(ns(2025, 1, 15))
        );
        assert_eq!(add_date_ns(ns(2024, 3, 31), 0, -1, 0), Some(ns(2024, 3, 2)));
        assert_eq!(
            add_date_ns(ns(2024, 1, 1), 0, 0, -1),
            Some(ns(2023, 12, 31))
        );
        assert_eq!(
            add_date_ns(ns(2024, 1, 1), 0, -13, 0),
            Some(ns(2022, 12, 1))
        );
        // Time of day kept, also before 1970.
        let t = ns(1969, 12, 31) + 3_600_000_000_000;
        assert_eq!(
            add_date_ns(t, 0, 0, 1),
            Some(ns(1970, 1, 1) + 3_600_000_000_000)
        );
        // Out of the int64 nanosecond range: None (an error in OPA).
        assert_eq!(add_date_ns(0, 300, 0, 0), None);
        assert_eq!(add_date_ns(i64::MAX, i64::MAX, i64::MAX, i64::MAX), None);
    }
}
