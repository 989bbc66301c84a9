//! Every operation the simulator serves, checked against Meraki's own OpenAPI schema and example for it
//! (`../shared/meraki/openapi-subset.json`, cut from Meraki's official spec v1.42.0).
//!
//! The schemas are tightened before use so the check can fail for real: objects may not carry fields the spec
//! does not define (`additionalProperties: false`), and each item must carry every top-level field Meraki's
//! example shows. Where the spec leaves an item untyped, the schema is derived from the example. Loss, latency,
//! jitter and goodput may be `null` (a down uplink), which the spec's `number` does not admit but Meraki sends.

use semaphore_meraki_sim::{EstateShape, SimConfig, spawn};
use serde_json::{Map, Value, json};

/// Fields Meraki's examples show that a simulated MX legitimately lacks (no cellular modem, no enrollment).
const MAY_BE_ABSENT: &[&str] = &["imei", "enrollmentString"];
const NULLABLE: &[&str] = &["lossPercent", "latencyMs", "jitter", "goodput"];

fn spec() -> Value {
    semaphore_meraki_sim::spec::load().unwrap_or_else(|reason| panic!("{reason}"))
}

/// A JSON Schema for a value shaped like `example`: nothing beyond its keys allowed, and at the top level of
/// an item every key required (nested objects vary: a DHCP WAN has no static IP fields).
fn schema_from_example(example: &Value, top_level_item: bool) -> Value {
    match example {
        Value::Object(map) => {
            let required: Vec<&String> = if top_level_item {
                map.keys()
                    .filter(|key| !MAY_BE_ABSENT.contains(&key.as_str()))
                    .collect()
            } else {
                Vec::new()
            };
            json!({
                "type": "object",
                "properties": map.iter().map(|(key, value)| (key.clone(), schema_from_example(value, false))).collect::<Map<_, _>>(),
                "required": required,
                "additionalProperties": false,
            })
        }
        Value::Array(items) => match items.first() {
            Some(first) => json!({"type": "array", "items": schema_from_example(first, top_level_item)}),
            None => json!({"type": "array"}),
        },
        Value::String(_) => json!({"type": "string"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Null => json!({}),
    }
}

/// The spec's schema made strict; untyped objects get the example's shape.
fn tighten(schema: &Value, example: &Value, top_level_item: bool) -> Value {
    let mut schema = schema.clone();
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match kind.as_str() {
        "array" => {
            let items = schema.get("items").cloned().unwrap_or(json!({}));
            let first = example
                .as_array()
                .and_then(|items| items.first())
                .cloned()
                .unwrap_or(Value::Null);
            schema["items"] = tighten(&items, &first, top_level_item);
        }
        "object" if schema.get("properties").is_none() => {
            return schema_from_example(example, top_level_item);
        }
        "object" => {
            let properties = schema["properties"].as_object().cloned().unwrap_or_default();
            let mut tightened = Map::new();
            for (name, property) in properties {
                let mut property = tighten(&property, example.get(&name).unwrap_or(&Value::Null), false);
                if NULLABLE.contains(&name.as_str()) {
                    property["type"] = json!(["number", "null"]);
                }
                tightened.insert(name, property);
            }
            schema["properties"] = Value::Object(tightened);
            schema["additionalProperties"] = json!(false);
            if top_level_item && let Some(example) = example.as_object() {
                let required: Vec<&String> = example
                    .keys()
                    .filter(|key| !MAY_BE_ABSENT.contains(&key.as_str()))
                    .collect();
                schema["required"] = json!(required);
            }
        }
        _ => {}
    }
    schema
}

fn nullable_everywhere(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                for name in NULLABLE {
                    if let Some(property) = properties.get_mut(*name) {
                        property["type"] = json!(["number", "null"]);
                    }
                }
            }
            map.values_mut().for_each(nullable_everywhere);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_everywhere),
        _ => {}
    }
}

#[tokio::test]
async fn every_operation_matches_merakis_schema_and_example() {
    let spec = spec();
    let shape = EstateShape {
        seed: 3,
        organizations: 2,
        networks: 4,
        appliances: 40,
        clients_per_network: 12,
    };
    let running = spawn(SimConfig {
        shape,
        rate_limit: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let estate = &running.simulator.estate;
    let organization_id = estate.organizations[0].id.clone();
    let network_id = estate.networks[&organization_id][0].id.clone();
    let serial = estate.appliances[&organization_id][0].device.serial.clone();
    let http = reqwest::Client::new();
    let operations = spec["operations"].as_array().expect("operations");
    assert_eq!(operations.len(), 10, "the subset's operations are all served");
    for operation in operations {
        let operation_id = operation["operationId"].as_str().unwrap();
        let path = operation["path"]
            .as_str()
            .unwrap()
            .replace("{organizationId}", &organization_id)
            .replace("{networkId}", &network_id)
            .replace("{serial}", &serial);
        let query = match operation_id {
            "getDeviceLossAndLatencyHistory" => "?ip=8.8.8.8&timespan=3600",
            "getNetworkClients" => "?perPage=5",
            _ => "",
        };
        let url = format!("{}{path}{query}", running.base_url());
        let response = http.get(&url).bearer_auth("any-key").send().await.unwrap();
        assert_eq!(response.status(), 200, "{operation_id}: {url}");
        let paginated = operation["paginated"].as_bool().unwrap();
        assert_eq!(
            response.headers().contains_key("link"),
            paginated,
            "{operation_id}: Link header iff paginated"
        );
        let body: Value = response.json().await.unwrap();
        let response_spec = &operation["responses"]["200"];
        let mut declared = response_spec["schema"].clone();
        let mut example = response_spec["example"].clone();
        if operation_id == "getNetworkClients" {
            // The spec declares one object for this paginated list (x-notes); the API returns an array of them.
            declared = json!({"type": "array", "items": declared});
            example = json!([example]);
        }
        let mut schema = tighten(&declared, &example, true);
        nullable_everywhere(&mut schema);
        let validator = jsonschema::draft7::new(&schema)
            .unwrap_or_else(|error| panic!("{operation_id}: bad schema: {error}"));
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(5)
            .map(|error| format!("{} at {}", error, error.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{operation_id}: {errors:#?}\nbody starts: {:.400}",
            body.to_string()
        );
        if let Some(items) = body.as_array() {
            assert!(
                !items.is_empty(),
                "{operation_id}: the simulator returned no items"
            );
        }
    }
}

#[test]
fn tightened_schemas_reject_misspelt_and_missing_fields() {
    let spec = spec();
    let operation = spec["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|operation| operation["operationId"] == "getOrganizationDevicesUplinksLossAndLatency")
        .unwrap();
    let response_spec = &operation["responses"]["200"];
    let schema = tighten(&response_spec["schema"], &response_spec["example"], true);
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let good = json!([{"networkId": "N_1", "serial": "Q", "uplink": "wan1", "ip": "8.8.8.8",
        "timeSeries": [{"ts": "2019-01-31T18:46:13Z", "lossPercent": null, "latencyMs": null}]}]);
    assert!(
        validator.is_valid(&good),
        "{:?}",
        validator
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let misspelt = json!([{"networkId": "N_1", "serial": "Q", "uplink": "wan1", "ip": "8.8.8.8",
        "timeSeries": [{"ts": "2019-01-31T18:46:13Z", "lossPercentage": 1.0, "latencyMs": 2.0}]}]);
    assert!(!validator.is_valid(&misspelt));
    let missing = json!([{"networkId": "N_1", "serial": "Q", "uplink": "wan1", "timeSeries": []}]);
    assert!(!validator.is_valid(&missing));
    let zero_is_not_null = json!([{"networkId": "N_1", "serial": "Q", "uplink": "wan1", "ip": "8.8.8.8",
        "timeSeries": [{"ts": "2019-01-31T18:46:13Z", "lossPercent": "0", "latencyMs": 2.0}]}]);
    assert!(!validator.is_valid(&zero_is_not_null));
}
