//! Points and great-circle distances. Rust-side distances come from `geoutils` (haversine);
//! the same formula, with the same Earth radius, runs inside the database for `near` filters and
//! distance ordering, so paging never needs rows the database did not rank.

use async_graphql::InputObject;
use sea_orm::{
    Condition,
    sea_query::{Alias, Expr, ExprTrait, Func, SimpleExpr},
};

use crate::error::AppError;

/// Earth radius used everywhere (the one `geoutils` uses), in meters.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Largest `radiusMeters` accepted by `near` filters.
pub const MAX_RADIUS_M: f64 = 200_000.0;

/// A validated WGS-84 point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    /// Latitude in degrees, −90…90.
    pub latitude: f64,
    /// Longitude in degrees, −180…180.
    pub longitude: f64,
}

impl GeoPoint {
    /// Check ranges; `field` names the input for the error.
    pub fn new(latitude: f64, longitude: f64, field: &str) -> Result<Self, AppError> {
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(AppError::bad_input(
                format!("{field}.latitude"),
                msg!("must be between -90 and 90", "纬度须在 -90 至 90 之间"),
            ));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(AppError::bad_input(
                format!("{field}.longitude"),
                msg!("must be between -180 and 180", "经度须在 -180 至 180 之间"),
            ));
        }
        Ok(Self {
            latitude,
            longitude,
        })
    }

    /// Great-circle distance in meters.
    pub fn distance_to(&self, other: &GeoPoint) -> f64 {
        geoutils::Location::new(self.latitude, self.longitude)
            .haversine_distance_to(&geoutils::Location::new(other.latitude, other.longitude))
            .meters()
    }
}

/// A circle to search in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Near {
    /// Center.
    pub center: GeoPoint,
    /// Radius in meters.
    pub radius_m: f64,
}

/// A point and radius to search around.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct NearInput {
    /// Latitude of the center (WGS-84).
    pub latitude: f64,
    /// Longitude of the center (WGS-84).
    pub longitude: f64,
    /// Radius in meters (at most 200 km).
    pub radius_meters: f64,
}

impl NearInput {
    /// Validate into a [`Near`].
    pub fn parse(self, field: &str) -> Result<Near, AppError> {
        let center = GeoPoint::new(self.latitude, self.longitude, field)?;
        if !self.radius_meters.is_finite()
            || self.radius_meters <= 0.0
            || self.radius_meters > MAX_RADIUS_M
        {
            return Err(AppError::bad_input(
                format!("{field}.radiusMeters"),
                msg!(
                    "must be greater than 0 and at most 200000",
                    "半径须大于 0 米且不超过 200000 米"
                ),
            ));
        }
        Ok(Near {
            center,
            radius_m: self.radius_meters,
        })
    }
}

/// A latitude/longitude point as input.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct LocationInput {
    /// Latitude (WGS-84).
    pub latitude: f64,
    /// Longitude (WGS-84).
    pub longitude: f64,
}

impl Near {
    /// Bounding box (min lat, max lat, min lng, max lng) that contains the circle; lets an index
    /// narrow the rows before the exact distance is computed.
    pub fn bounding_box(&self) -> (f64, f64, f64, f64) {
        let dlat = (self.radius_m / EARTH_RADIUS_M).to_degrees();
        let cos = self.center.latitude.to_radians().cos().max(0.01);
        let dlng = (self.radius_m / (EARTH_RADIUS_M * cos))
            .to_degrees()
            .min(180.0);
        (
            self.center.latitude - dlat,
            self.center.latitude + dlat,
            self.center.longitude - dlng,
            self.center.longitude + dlng,
        )
    }
}

/// SQL expression for the haversine distance in meters from `center` to the point in columns
/// `table.lat` / `table.lng`. Built from portable function calls (`sin`, `cos`, `power`, `sqrt`,
/// `asin`) so each backend binds the center its own way: PostgreSQL has these built in, and
/// the bundled SQLite gets them from `SQLITE_ENABLE_MATH_FUNCTIONS` (see `.cargo/config.toml`).
pub fn distance_sql(table: &str, lat: &str, lng: &str, center: GeoPoint) -> SimpleExpr {
    let call = |name: &str, args: Vec<Expr>| -> Expr {
        let mut f = Func::cust(Alias::new(name));
        for a in args {
            f = f.arg(a);
        }
        Expr::from(f)
    };
    let deg = std::f64::consts::PI / 180.0;
    let col = |c: &str| Expr::col((Alias::new(table), Alias::new(c)));
    let half_sin_sq = |c: &str, center_deg: f64| {
        call(
            "power",
            vec![
                call("sin", vec![col(c).sub(center_deg).mul(deg / 2.0)]),
                Expr::val(2),
            ],
        )
    };
    let a = half_sin_sq(lat, center.latitude).add(
        Expr::val(center.latitude.to_radians().cos())
            .mul(call("cos", vec![col(lat).mul(deg)]))
            .mul(half_sin_sq(lng, center.longitude)),
    );
    Expr::val(2.0 * EARTH_RADIUS_M).mul(call("asin", vec![call("sqrt", vec![a])]))
}

/// Rows whose point (columns of `table`) lies within `near`: an indexable bounding box, then
/// the exact great-circle distance.
pub fn within(near: Near, table: &str, lat: &str, lng: &str) -> Condition {
    let (min_lat, max_lat, min_lng, max_lng) = near.bounding_box();
    let t = Alias::new(table);
    let la = Alias::new(lat);
    let ln = Alias::new(lng);
    Condition::all()
        .add(Expr::col((t.clone(), la.clone())).between(min_lat, max_lat))
        .add(Expr::col((t, ln)).between(min_lng, max_lng))
        .add(Expr::expr(distance_sql(table, lat, lng, near.center)).lte(near.radius_m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_matches_a_hand_computed_value() {
        // Two points in Suzhou about 2.4 km apart, checked by hand with the
        // haversine formula and R = 6371 km.
        let station = GeoPoint::new(31.3300, 120.6100, "p").unwrap();
        let guanqian = GeoPoint::new(31.3100, 120.6200, "p").unwrap();
        let d = station.distance_to(&guanqian);
        let dlat = (31.31f64 - 31.33).to_radians();
        let dlng = (120.62f64 - 120.61).to_radians();
        let a = (dlat / 2.0).sin().powi(2)
            + 31.33f64.to_radians().cos()
                * 31.31f64.to_radians().cos()
                * (dlng / 2.0).sin().powi(2);
        let by_hand = 2.0 * 6_371_000.0 * a.sqrt().asin();
        assert!((d - by_hand).abs() < 1.0, "{d} vs {by_hand}");
        assert!((2400.0..2500.0).contains(&d), "{d}");
    }

    #[test]
    fn bounding_box_contains_the_circle() {
        let near = Near {
            center: GeoPoint::new(31.3, 120.6, "p").unwrap(),
            radius_m: 5_000.0,
        };
        let (min_lat, max_lat, min_lng, max_lng) = near.bounding_box();
        for (lat, lng) in [
            (max_lat, 120.6),
            (min_lat, 120.6),
            (31.3, max_lng),
            (31.3, min_lng),
        ] {
            let edge = GeoPoint::new(lat, lng, "p").unwrap();
            assert!((near.center.distance_to(&edge) - 5_000.0).abs() < 5.0);
        }
    }

    #[test]
    fn inputs_are_range_checked() {
        assert!(GeoPoint::new(91.0, 0.0, "p").is_err());
        assert!(GeoPoint::new(0.0, f64::NAN, "p").is_err());
        let bad = NearInput {
            latitude: 31.0,
            longitude: 120.0,
            radius_meters: 0.0,
        };
        assert!(bad.parse("near").is_err());
    }
}
#[cfg(test)]
mod sql_tests {
    use sea_orm::{DbBackend, EntityTrait, QueryFilter, QueryTrait};

    #[test]
    fn distance_sql_binds_the_center_on_both_backends() {
        let near = super::Near {
            center: super::GeoPoint::new(31.38, 120.98, "p").unwrap(),
            radius_m: 10_000.0,
        };
        let q = entity::charity_event::Entity::find().filter(super::within(
            near,
            "charity_event",
            "latitude",
            "longitude",
        ));
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let values = q.build(backend).values.expect("bound values").0;
            let count = |x: f64| {
                values
                    .iter()
                    .filter(|v| **v == sea_orm::Value::Double(Some(x)))
                    .count()
            };
            assert_eq!(count(31.38), 1, "{backend:?}: {values:?}");
            assert_eq!(count(120.98), 1, "{backend:?}: {values:?}");
        }
    }
}
