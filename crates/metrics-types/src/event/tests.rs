//! Unit tests of the field list: every field, whatever its kind, goes from what a writer sends
//! to what the file holds, and every plain kind's limits and load rules hold for each of its
//! fields. The tests walk `AgentEvent::FIELD_KINDS`, so a field added to the list is covered
//! by them without a change here (a new `special` field needs its sample below).

use serde_json::{Value, json};

use super::*;
use crate::validate;

/// A value for each field, chosen so that every field differs from its default.
fn sample(field: &str, kind: &str, index: usize) -> Value {
    match (kind, field) {
        ("label", _) => json!(format!("{field}-{index}")),
        ("free_text", _) => json!(format!("the text of {field}")),
        ("text_list", _) => json!([format!("{field}:a"), format!("{field}:b")]),
        ("count", _) => json!(1000 + index),
        ("amount", _) => json!(0.25 + index as f64),
        ("special", "event_id") => json!("evt-sample"),
        ("special", "agent_name") => json!("coding"),
        ("special", "started_at") => json!("2026-02-14T17:00:00+00:00"),
        ("special", "ended_at") => json!("2026-02-14T17:00:03.500000+00:00"),
        ("special", "status") => json!("error"),
        ("special", "duration_seconds") => json!(3.5),
        // Derived: filled in once the counts are known.
        ("special", "total_tokens") => Value::Null,
        _ => panic!("no sample for the {kind} field {field}: add one to this test"),
    }
}

fn full_input() -> serde_json::Map<String, Value> {
    let mut input: serde_json::Map<String, Value> = AgentEvent::FIELD_KINDS
        .iter()
        .enumerate()
        .map(|(index, (field, kind))| ((*field).to_owned(), sample(field, kind, index)))
        .collect();
    let count = |name: &str| input[name].as_u64().unwrap();
    let total = count("input_tokens") + count("output_tokens");
    input.insert("total_tokens".into(), json!(total));
    input
}

#[test]
fn every_field_a_writer_sends_is_what_the_file_holds() {
    let input = full_input();
    let text = Value::Object(input.clone()).to_string();
    let sent = EventInput::parse_many(&text).unwrap().remove(0);
    let now = "2026-02-14T18:00:00+00:00".parse().unwrap();
    let event = sent.into_event(now, || unreachable!("the id is given")).unwrap();
    let Value::Object(written) = serde_json::to_value(&event).unwrap() else { unreachable!() };
    let names: Vec<&String> = written.keys().collect();
    assert_eq!(names, AgentEvent::field_names(), "the file holds every field, in order");
    for (field, value) in &input {
        assert_eq!(&written[field], value, "{field} was not carried from input to file");
    }
}

#[test]
fn every_field_of_a_plain_kind_is_a_getter_of_its_value() {
    let input = full_input();
    let event: AgentEvent = serde_json::from_value(Value::Object(input.clone())).unwrap();
    for (field, kind) in AgentEvent::FIELD_KINDS.iter().filter(|(_, kind)| *kind != "special") {
        assert_eq!(getter_of(&event, field), input[*field], "the getter of the {kind} {field}");
    }
}

/// The getter of a plain field, as JSON: each plain field's getter is generated from its
/// kind, so this table is the one place a new plain field needs a line in these tests.
fn getter_of(event: &AgentEvent, field: &str) -> Value {
    match field {
        "session_id" => json!(event.session_id()),
        "ticket_key" => json!(event.ticket_key()),
        "input_tokens" => json!(event.input_tokens()),
        "output_tokens" => json!(event.output_tokens()),
        "estimated_cost_usd" => json!(event.estimated_cost_usd()),
        "artifacts" => json!(event.artifacts()),
        "error_message" => json!(event.error_message()),
        "model_used" => json!(event.model_used()),
        _ => panic!("{field}: a plain field this test does not know; add its getter here"),
    }
}

fn fields_of_kind(kind: &str) -> impl Iterator<Item = &'static str> {
    AgentEvent::FIELD_KINDS.iter().filter(move |(_, k)| *k == kind).map(|(field, _)| *field)
}

/// An input with the sample values, one field replaced, built as a Rust caller builds it.
fn built_with(field: &str, value: Value) -> Result<AgentEvent, crate::ValidationError> {
    let mut input = full_input();
    input.remove("total_tokens");
    input.insert(field.to_owned(), value);
    let sent: EventInput = serde_json::from_value(Value::Object(input)).unwrap();
    sent.into_event("2026-02-14T18:00:00+00:00".parse().unwrap(), String::new)
}

fn paths(result: Result<AgentEvent, crate::ValidationError>) -> Vec<String> {
    match result {
        Ok(_) => Vec::new(),
        Err(crate::ValidationError::Invalid { violations }) => {
            violations.into_iter().map(|violation| violation.path).collect()
        }
        Err(other) => panic!("not a list of violations: {other}"),
    }
}

#[test]
fn every_label_is_refused_past_the_identifier_limit() {
    let labels: Vec<&str> = fields_of_kind("label").collect();
    assert!(labels.len() >= 3, "{labels:?}");
    for field in labels {
        let at_limit = "x".repeat(crate::MAX_IDENTIFIER_BYTES);
        assert_eq!(paths(built_with(field, json!(at_limit))), Vec::<String>::new(), "{field}");
        let past = "x".repeat(crate::MAX_IDENTIFIER_BYTES + 1);
        assert_eq!(paths(built_with(field, json!(past))), [field], "{field}");
    }
}

#[test]
fn every_free_text_and_text_list_is_cut_not_refused() {
    for field in fields_of_kind("free_text") {
        let long = "x".repeat(crate::MAX_ERROR_MESSAGE_BYTES * 2);
        let event = built_with(field, json!(long)).unwrap();
        let written = serde_json::to_value(&event).unwrap()[field].as_str().unwrap().to_owned();
        assert!(written.len() <= crate::MAX_ERROR_MESSAGE_BYTES, "{field}: {}", written.len());
        assert!(written.ends_with(&crate::truncation_marker(long.len())), "{field}");
    }
    for field in fields_of_kind("text_list") {
        let many: Vec<String> = (0..crate::MAX_ARTIFACTS * 2).map(|n| n.to_string()).collect();
        let event = built_with(field, json!(many)).unwrap();
        let written = serde_json::to_value(&event).unwrap()[field].as_array().unwrap().clone();
        assert_eq!(written.len(), crate::MAX_ARTIFACTS, "{field}");
        let left_out = many.len() - (crate::MAX_ARTIFACTS - 1);
        assert_eq!(
            written.last().unwrap(),
            &json!(format!("… [{left_out} more {field} left out]"))
        );
    }
}

#[test]
fn every_count_and_amount_is_checked_when_loaded() {
    let checked: Vec<&str> = fields_of_kind("count").chain(fields_of_kind("amount")).collect();
    assert!(checked.len() >= 3, "{checked:?}");
    for field in checked {
        let mut record = full_input();
        record.insert(field.to_owned(), json!(-1));
        if field.ends_with("_tokens") {
            record.remove("total_tokens");
        }
        let event: AgentEvent = serde_json::from_value(Value::Object(record)).unwrap();
        let err = validate::standalone(|report| validate::event(report, &event, &String::new))
            .expect_err(field);
        let crate::ValidationError::Invalid { violations } = err else { panic!("{field}") };
        assert!(
            violations.iter().any(|v| v.path == field && v.message.contains("negative")),
            "{field}: {violations:?}"
        );
    }
}
