//! docs/format.md describes every field of an event, in the file's order: the one doc line a
//! new field needs beside its line in the field list.

use metrics_types::AgentEvent;

#[test]
fn the_format_doc_has_a_row_for_every_event_field_in_file_order() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let section = doc.split("\n### Event\n").nth(1).expect("an Event section");
    let section = section.split("\n### ").next().unwrap();
    let documented: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    assert_eq!(documented, AgentEvent::field_names(), "the Event table of docs/format.md");
}
