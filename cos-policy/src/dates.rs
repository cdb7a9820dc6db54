//! `time.add_date` with Go's `time.AddDate` semantics, as OPA has it,
//! replacing regorus 0.14's, which clamps the day where Go normalises
//! (2024-01-31 + 1 month is 2024-03-02 in OPA, 2024-02-29 in regorus): a
//! difference that moves expiry dates.

use regorus::Value;

pub(crate) const NS_PER_DAY: i128 = 86_400 * 1_000_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (any month and day
/// are accepted once the month is in 1..=12).
pub(crate) fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i128) -> (i128, i128, i128) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Adds years, months and days to a UTC time in nanoseconds since the
/// epoch, normalising overflow as Go's `time.AddDate` does.
pub(crate) fn add_date_ns(ns: i64, years: i64, months: i64, days: i64) -> Option<i64> {
    let ns = i128::from(ns);
    let day = ns.div_euclid(NS_PER_DAY);
    let time_of_day = ns.rem_euclid(NS_PER_DAY);
    let (y, m, d) = civil_from_days(day);
    let month0 = m - 1 + i128::from(months);
    let y = y + i128::from(years) + month0.div_euclid(12);
    let m = month0.rem_euclid(12) + 1;
    let day = days_from_civil(y, m, 1) + d - 1 + i128::from(days);
    i64::try_from(day.checked_mul(NS_PER_DAY)?.checked_add(time_of_day)?).ok()
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

    fn ns(y: i128, m: i128, d: i128) -> i64 {
        i64::try_from(days_from_civil(y, m, d) * NS_PER_DAY).unwrap()
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i128, -1, 0, 1, 11_016, 19_753, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
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
