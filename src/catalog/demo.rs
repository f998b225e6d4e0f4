//! Demo catalog for `seed-demo`: realistic packages and campaigns, created once (by name).

use serde_json::json;

use crate::{
    catalog::{
        model::{ProductInput, ProductType},
        products::repo,
    },
    in_tx,
    state::AppState,
};

struct Demo {
    kind: ProductType,
    name: &'static str,
    rupees: i64,
    unit: Option<&'static str>,
    description: &'static str,
    features: &'static [&'static str],
    deliverables: &'static [&'static str],
    items: &'static [(&'static str, i32)],
    popular: bool,
}

const DEMO: &[Demo] = &[
    Demo {
        kind: ProductType::Package,
        name: "Election Hungama",
        rupees: 18_500,
        unit: None,
        description: "Everything a ward-level candidate needs for the last three weeks of a campaign.",
        features: &["Poster design", "Flex banners", "Social media kit"],
        deliverables: &[
            "Print-ready files",
            "Printed material delivered to the campaign office",
        ],
        items: &[
            ("A3 posters", 500),
            ("Flex banners (10x4 ft)", 10),
            ("Pamphlets", 5000),
        ],
        popular: true,
    },
    Demo {
        kind: ProductType::Package,
        name: "Premium Campaign Package",
        rupees: 35_000,
        unit: None,
        description: "A full constituency campaign: print, video, social media and a launch event.",
        features: &[
            "Campaign video",
            "Social media management",
            "Launch event setup",
        ],
        deliverables: &[
            "60-second campaign video",
            "30 days of social posts",
            "Event kit",
        ],
        items: &[
            ("Campaign video", 1),
            ("Social media posts", 30),
            ("Vehicle branding", 2),
        ],
        popular: true,
    },
    Demo {
        kind: ProductType::Package,
        name: "Starter Campaign Package",
        rupees: 4_999,
        unit: None,
        description: "Posters and pamphlets for a first-time candidate on a tight budget.",
        features: &["Poster design", "Pamphlet design"],
        deliverables: &["Print-ready files"],
        items: &[("A4 posters", 200), ("Pamphlets", 1000)],
        popular: false,
    },
    Demo {
        kind: ProductType::Campaign,
        name: "Coffee with Candidate",
        rupees: 10_000,
        unit: Some("Per Ward"),
        description: "An informal meet-the-voters session at a local tea stall, organised end to end.",
        features: &["Venue booking", "Invitations", "Photographer"],
        deliverables: &["Event photos", "Social media recap"],
        items: &[],
        popular: true,
    },
    Demo {
        kind: ProductType::Campaign,
        name: "Vision in VR",
        rupees: 25_000,
        unit: Some("Per Constituency"),
        description: "Voters walk through the candidate's development plan in virtual reality.",
        features: &["VR headsets", "3D walkthrough", "Operator"],
        deliverables: &["Two-day VR booth"],
        items: &[],
        popular: true,
    },
    Demo {
        kind: ProductType::Campaign,
        name: "Podcast Live Studio",
        rupees: 15_000,
        unit: Some("Per Episode"),
        description: "A mobile studio records a conversation with the candidate, edited and published.",
        features: &["Mobile studio", "Host", "Editing"],
        deliverables: &["Edited episode", "Short clips for social media"],
        items: &[],
        popular: false,
    },
    Demo {
        kind: ProductType::Campaign,
        name: "Health ATM",
        rupees: 12_000,
        unit: Some("Per Day"),
        description: "A free health check-up kiosk branded with the candidate's message.",
        features: &["Health kiosk", "Paramedic", "Branding"],
        deliverables: &["One-day kiosk", "Visitor report"],
        items: &[],
        popular: false,
    },
];

/// Creates the demo products that don't exist yet; returns how many were created.
pub async fn seed(state: &AppState, admin_id: i64) -> anyhow::Result<usize> {
    let mut created = 0;
    for demo in DEMO {
        if repo::name_taken(&state.db, demo.kind, demo.name, None).await? {
            continue;
        }
        let input = ProductInput {
            name: demo.name.to_string(),
            price_paise: demo.rupees * 100,
            description: demo.description.to_string(),
            unit: demo.unit.map(str::to_string),
            features: Some(json!(demo.features)),
            deliverables: Some(json!(demo.deliverables)),
            items: Some(
                demo.items
                    .iter()
                    .map(|(n, q)| ((*n).to_string(), *q))
                    .collect(),
            ),
            is_active: Some(true),
        };
        let id = in_tx!(state.db, |tx| repo::create(
            &mut tx, demo.kind, &input, admin_id
        ))
        .await?;
        if demo.popular {
            repo::mark_popular(&state.db, demo.kind, id).await?;
        }
        created += 1;
    }
    Ok(created)
}
