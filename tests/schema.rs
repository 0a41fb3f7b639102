//! `kpi schema`: the JSON Schema accepts every definition file we ship and rejects broken ones.
//!
//! The validator below covers exactly the draft-07 subset that `kpi schema` emits, and fails
//! loudly on any other keyword, so a schema change cannot slip past it unchecked. (The
//! `jsonschema` crate would pull in an HTTP client and ICU for this one test.)

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn schema() -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_kpi")).arg("schema").output().expect("the kpi binary runs");
    assert_eq!(o.status.code(), Some(0));
    serde_json::from_slice(&o.stdout).expect("the schema is JSON")
}

fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).expect("valid YAML")
}

/// Every reason `value` does not match `schema`, with JSON-pointer-ish paths.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{at}: not allowed"));
        }
        return;
    };
    for (k, s) in obj {
        match k.as_str() {
            "$ref" => {
                let name = s.as_str().and_then(|r| r.strip_prefix("#/definitions/")).expect("local $ref");
                validate(root, &root["definitions"][name], value, at, errors);
            }
            "type" => {
                let types: Vec<&str> = match s {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type {s}"),
                };
                let ok = types.iter().any(|t| match *t {
                    "string" => value.is_string(),
                    "number" => value.is_number(),
                    "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    other => panic!("unknown type {other}"),
                });
                if !ok {
                    errors.push(format!("{at}: {value} is not of type {s}"));
                }
            }
            "enum" => {
                if !s.as_array().expect("enum list").contains(value) {
                    errors.push(format!("{at}: {value} is not one of {s}"));
                }
            }
            "const" => {
                if s != value {
                    errors.push(format!("{at}: {value} is not {s}"));
                }
            }
            "properties" => {
                if let Some(v) = value.as_object() {
                    for (p, ps) in s.as_object().expect("properties map") {
                        if let Some(pv) = v.get(p) {
                            validate(root, ps, pv, &format!("{at}/{p}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(v) = value.as_object() {
                    let known = obj.get("properties").and_then(Value::as_object);
                    for (p, pv) in v {
                        if known.is_none_or(|k| !k.contains_key(p)) {
                            if s == &Value::Bool(false) {
                                errors.push(format!("{at}: unknown key `{p}`"));
                            } else {
                                validate(root, s, pv, &format!("{at}/{p}"), errors);
                            }
                        }
                    }
                }
            }
            "required" => {
                if let Some(v) = value.as_object() {
                    for r in s.as_array().expect("required list").iter().filter_map(Value::as_str) {
                        if !v.contains_key(r) {
                            errors.push(format!("{at}: missing `{r}`"));
                        }
                    }
                }
            }
            "propertyNames" => {
                let pattern = s["pattern"].as_str().expect("propertyNames pattern");
                assert_eq!(pattern, "^[A-Za-z_][A-Za-z0-9_]*$", "the validator knows only the id pattern");
                for p in value.as_object().map(|v| v.keys().collect::<Vec<_>>()).unwrap_or_default() {
                    let mut cs = p.chars();
                    let ok = cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !ok {
                        errors.push(format!("{at}: `{p}` is not an id"));
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
                    validate(root, s, item, &format!("{at}/{i}"), errors);
                }
            }
            "anyOf" | "oneOf" | "allOf" => {
                let branches = s.as_array().expect("branches");
                let passing = branches
                    .iter()
                    .filter(|b| {
                        let mut e = Vec::new();
                        validate(root, b, value, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                let ok = match k.as_str() {
                    "anyOf" => passing > 0,
                    "oneOf" => passing == 1,
                    _ => passing == branches.len(),
                };
                if !ok {
                    errors.push(format!("{at}: {value} matches {passing} of the {k} branches"));
                }
            }
            "description" | "title" | "examples" | "$schema" | "definitions" => {}
            other => panic!("the test validator does not know the keyword `{other}`"),
        }
    }
}

fn errors_of(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(schema, schema, doc, "", &mut errors);
    errors
}

fn pack_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("kpis/smm"))
        .expect("kpis/smm")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files.push(root.join("tests/fixtures/parity/pack.yaml"));
    files.push(root.join("src/cli/templates/pack.yaml"));
    files
}

#[test]
fn schema_is_draft_07_and_closed() {
    let s = schema();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(s["additionalProperties"], false);
    for name in ["DatasetSchema", "KpiSchema", "GoalSchema", "DbSource"] {
        assert_eq!(s["definitions"][name]["additionalProperties"], false, "{name}");
    }
    // Every property has help text for the editor.
    fn described(v: &Value, at: &str) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (k, p) in props {
                assert!(p.get("description").is_some(), "{at}/{k} has no description");
            }
        }
    }
    described(&s, "");
    for (name, d) in s["definitions"].as_object().expect("definitions") {
        described(d, name);
    }
}

#[test]
fn schema_accepts_every_shipped_file() {
    let s = schema();
    let files = pack_files();
    assert!(files.len() >= 8, "{files:?}");
    for f in files {
        let doc = yaml_to_json(&std::fs::read_to_string(&f).expect("read"));
        let errors = errors_of(&s, &doc);
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
}

#[test]
fn schema_rejects_broken_files() {
    let s = schema();
    let cases = [
        ("kpis:\n  er:\n    formla: sum(likes)\n", "/kpis/er: unknown key `formla`"),
        ("kpis:\n  er:\n    formula: sum(likes)\n    grain: monthy\n", "/kpis/er/grain"),
        ("kpis:\n  er:\n    by: channel\n", "/kpis/er/by"),
        ("datasets:\n  posts:\n    source: {url: x, tabel: posts}\n", "/datasets/posts/source"),
        ("datasets:\n  posts:\n    columns: {likes: numbr}\n", "/datasets/posts/columns/likes"),
        ("goals:\n  g:\n    each: fortnight\n", "/goals/g/each"),
        ("goals:\n  g:\n    target: [1]\n", "/goals/g/target"),
        ("kpis:\n  engagement rate: {formula: x}\n", "/kpis: `engagement rate` is not an id"),
        ("packs: smm\n", ": unknown key `packs`"),
    ];
    for (text, want) in cases {
        let errors = errors_of(&s, &yaml_to_json(text));
        assert!(errors.iter().any(|e| e.starts_with(want)), "{text:?}: want {want:?}, got {errors:#?}");
    }
    // And the variants it must keep accepting.
    let ok = json!({
        "pack": "x", "version": 1.0,
        "datasets": {"posts": {"source": {"url": "${DATABASE_URL}", "query": "SELECT 1"}, "time": "day"}},
        "kpis": {"k": {"unit": "currency:USD", "grain": "weekly", "formula": "count()"}},
        "goals": {"g": {"for": {"channel": ["vk", "x"], "year": 2026}, "window": 2026, "baseline": 3, "target": ">= 1"}}
    });
    assert_eq!(errors_of(&s, &ok), Vec::<String>::new());
}
