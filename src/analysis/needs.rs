//! Minimum needs of evacuees: an editable profile of supply items (InaSAFE's defaults) and
//! the amounts it calls for, for a number of people over a number of days.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// How an item's quantity scales.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NeedRate {
    /// `quantity` per `people` persons every `days` days (rice: 0.4 kg per 1 person per 1
    /// day; family kits: 1 per 5 persons per 7 days).
    Consumed { people: f64, days: f64 },
    /// `quantity` per `people` persons for the whole stay, whatever its length (toilets: 1
    /// per 20 persons).
    Standing { people: f64 },
}

/// One supply item of a needs profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeedItem {
    pub name_zh: String,
    pub name_en: String,
    /// Unit of `quantity` (kg, L, 个...).
    pub unit: String,
    pub quantity: f64,
    pub rate: NeedRate,
    /// Countable items (kits, toilets) are rounded up to whole units.
    #[serde(default)]
    pub whole_units: bool,
}

impl NeedItem {
    /// The item's name in `lang`.
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_zh, &self.name_en)
    }

    /// Amount of this item for `people` evacuees over `days` days (non-finite or negative
    /// inputs and a zero divisor give 0).
    pub fn amount(&self, people: u64, days: f64) -> f64 {
        let n = people as f64;
        let days = if days.is_finite() { days.max(0.0) } else { 0.0 };
        let raw = match self.rate {
            NeedRate::Consumed {
                people: per_people,
                days: per_days,
            } => {
                if per_people > 0.0 && per_days > 0.0 {
                    self.quantity * n / per_people * days / per_days
                } else {
                    0.0
                }
            }
            NeedRate::Standing { people: per_people } => {
                if per_people > 0.0 {
                    // A standing item serves whole groups: 21 people need 2 toilets.
                    self.quantity * (n / per_people).ceil()
                } else {
                    0.0
                }
            }
        };
        let raw = if raw.is_finite() { raw.max(0.0) } else { 0.0 };
        if self.whole_units { raw.ceil() } else { raw }
    }
}

/// An editable list of supply items (stored in the project file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeedsProfile {
    pub name: String,
    pub items: Vec<NeedItem>,
}

/// One line of computed needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeedAmount {
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub amount: f64,
}

impl Default for NeedsProfile {
    /// InaSAFE's minimum needs per displaced person: rice 400 g and drinking water 2.5 L
    /// and clean water 9.6 L per day, one family kit per 5 people per week, one toilet per
    /// 20 people.
    fn default() -> Self {
        let daily = NeedRate::Consumed {
            people: 1.0,
            days: 1.0,
        };
        let item = |zh: &str, en: &str, unit: &str, quantity: f64, rate, whole_units| NeedItem {
            name_zh: zh.into(),
            name_en: en.into(),
            unit: unit.into(),
            quantity,
            rate,
            whole_units,
        };
        NeedsProfile {
            name: "InaSAFE".into(),
            items: vec![
                item("大米", "Rice", "kg", 0.4, daily, false),
                item("饮用水", "Drinking water", "L", 2.5, daily, false),
                item("生活用水", "Clean water", "L", 9.6, daily, false),
                item(
                    "家庭用品包",
                    "Family kits",
                    "kit",
                    1.0,
                    NeedRate::Consumed {
                        people: 5.0,
                        days: 7.0,
                    },
                    true,
                ),
                item(
                    "厕所",
                    "Toilets",
                    "unit",
                    1.0,
                    NeedRate::Standing { people: 20.0 },
                    true,
                ),
            ],
        }
    }
}

impl NeedsProfile {
    /// What `people` evacuees need over `days` days, item by item in profile order.
    pub fn needs(&self, people: u64, days: f64) -> Vec<NeedAmount> {
        self.items
            .iter()
            .map(|item| NeedAmount {
                name_zh: item.name_zh.clone(),
                name_en: item.name_en.clone(),
                unit: item.unit.clone(),
                amount: item.amount(people, days),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_profile_gives_inasafe_amounts() {
        let needs = NeedsProfile::default().needs(1000, 1.0);
        let amounts: Vec<f64> = needs.iter().map(|n| n.amount).collect();
        // 1000/5/7 = 28.57 kits a day, rounded up; 1000/20 = 50 toilets.
        assert_eq!(amounts, vec![400.0, 2500.0, 9600.0, 29.0, 50.0]);
        let week = NeedsProfile::default().needs(21, 7.0);
        assert!((week[0].amount - 58.8).abs() < 1e-9);
        assert_eq!(week[3].amount, 5.0);
        assert_eq!(week[4].amount, 2.0);
        assert!(
            NeedsProfile::default()
                .needs(0, 1.0)
                .iter()
                .all(|n| n.amount == 0.0)
        );
    }

    #[test]
    fn profile_round_trips_through_json_and_bad_rates_give_zero() {
        let mut profile = NeedsProfile::default();
        profile.items.push(NeedItem {
            name_zh: "毛毯".into(),
            name_en: "Blankets".into(),
            unit: "条".into(),
            quantity: 2.0,
            rate: NeedRate::Consumed {
                people: 0.0,
                days: 1.0,
            },
            whole_units: true,
        });
        let text = serde_json::to_string(&profile).unwrap();
        let back: NeedsProfile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, profile);
        assert_eq!(back.items[5].amount(100, 1.0), 0.0);
        assert_eq!(back.items[0].amount(100, f64::NAN), 0.0);
        assert_eq!(back.items[0].name(Lang::Zh), "大米");
    }
}
