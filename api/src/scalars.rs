//! Scalars of the schema beyond GraphQL's own: `Date`, a calendar day as ISO 8601
//! `YYYY-MM-DD` (what GraphQL users expect; chrono's `NaiveDate` name stays out of the schema).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar day, `YYYY-MM-DD` (ISO 8601), in China Standard Time where it matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar day as ISO 8601 `YYYY-MM-DD`, e.g. `2026-12-06`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                // `%Y` also takes `+12345` and short years: only the four-digit form is a Date.
                .filter(|_| s.len() == 10)
                .map(Date)
                .ok_or_else(|| InputValueError::custom("a Date is YYYY-MM-DD, e.g. 2026-12-06")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Self(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso_days_and_nothing_else() {
        let d = Date::parse(Value::String("2026-12-06".into())).unwrap();
        assert_eq!(d.0, NaiveDate::from_ymd_opt(2026, 12, 6).unwrap());
        assert_eq!(d.to_value(), Value::String("2026-12-06".into()));
        for bad in [
            "2026-13-01",
            "2026-2-30",
            "26-12-06",
            "2026-12-06T00:00:00Z",
            "",
            "+2026-12-06",
        ] {
            assert!(Date::parse(Value::String(bad.into())).is_err(), "{bad}");
        }
        assert!(Date::parse(Value::Number(20261206.into())).is_err());
    }
}
