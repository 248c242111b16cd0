//! The board's data out over HTTP (`GET /api/export`): the CSV is safe to open in a
//! spreadsheet, every cell a spreadsheet would run as a formula written to be shown as text.

use std::collections::HashMap;

use super::support::*;
use serde_json::json;

/// The cells of the CSV export, by task title as written there, then by column.
fn csv_by_title(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|row| {
            let row: HashMap<String, String> = columns
                .iter()
                .cloned()
                .zip(row.unwrap().iter().map(str::to_owned))
                .collect();
            (row["title"].clone(), row)
        })
        .collect()
}

#[tokio::test]
async fn the_csv_export_writes_formula_cells_as_text() {
    let s = App::start().await;
    let admin = s.login().await;
    for task in [
        json!({"title": "=HYPERLINK(\"http://example.com\",\"open\")", "description": "\t=1+1",
               "tags": ["+tag", "@tag"]}),
        json!({"title": "-2+3", "description": "  @SUM(A1:A9)"}),
        json!({"title": "@cmd", "description": "\r\n=cmd|' /C calc'!A0"}),
        json!({"title": "+1", "description": "line\n=not at the start"}),
        json!({"title": "Plain a=b", "description": "1-2", "tags": ["x-y"]}),
    ] {
        let r = admin.create_task(task).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let csv = admin.export("format=csv").await;
    assert_eq!(csv.status, 200);
    let rows = csv_by_title(csv.body.as_str().unwrap());
    let link = &rows["'=HYPERLINK(\"http://example.com\",\"open\")"];
    assert_eq!(link["description"], "'\t=1+1");
    assert_eq!(link["tags"], "'+tag;@tag");
    assert_eq!(rows["'-2+3"]["description"], "'  @SUM(A1:A9)");
    assert_eq!(rows["'@cmd"]["description"], "'\r\n=cmd|' /C calc'!A0");
    assert_eq!(rows["'+1"]["description"], "line\n=not at the start");
    let plain = &rows["Plain a=b"];
    assert_eq!(plain["description"], "1-2");
    assert_eq!(plain["tags"], "x-y");
    assert_eq!(plain["status"], "backlog");
    // The JSON export carries every value as it is.
    let json = admin.export("").await;
    let titles: Vec<&str> = json.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"-2+3"), "{titles:?}");
}
