//! The one validation module: how a JSON (or form) body's fields are read, as DRF's serializer fields
//! read them, with the errors collected in a [`FieldErrors`] (`{"field": ["message"]}`, in the order
//! the fields were checked). Every endpoint validates through it, so the spellings a boolean accepts,
//! what a char field refuses and the messages are the same everywhere.
//!
//! Text that PostgreSQL refuses to store (a NUL character) is refused here with DRF's own message,
//! and the body extractors (`extract::Body`) refuse it anywhere in a body, so it never reaches SQL.

use serde_json::{Map, Value, json};
use unicode_normalization::UnicodeNormalization;

pub use crate::error::FieldErrors;

pub const REQUIRED: &str = "This field is required.";
pub const NULL: &str = "This field may not be null.";
pub const BLANK: &str = "This field may not be blank.";
pub const INVALID_INT: &str = "A valid integer is required.";
pub const INVALID_BOOL: &str = "Must be a valid boolean.";
pub const INVALID_STRING: &str = "Not a valid string.";
/// DRF's `ProhibitNullCharactersValidator` message.
pub const NUL_CHARACTERS: &str = "Null characters are not allowed.";

/// Python's name for a JSON value's type, as DRF's messages show it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// The body as an object, or DRF's serializer answer naming the real type
/// (`{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`).
pub fn object(body: &Value) -> Result<&Map<String, Value>, FieldErrors> {
    body.as_object().ok_or_else(|| {
        FieldErrors::one(
            "non_field_errors",
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                type_name(body)
            ),
        )
    })
}

/// The rules of a char field: required or not, blank allowed or not, a maximum length in characters.
/// Values are trimmed (DRF's `trim_whitespace`).
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub required: bool,
    pub allow_blank: bool,
    pub max: Option<usize>,
}

impl Text {
    /// Required, not blank.
    pub const fn required() -> Self {
        Self {
            required: true,
            allow_blank: false,
            max: None,
        }
    }

    /// May be omitted; blank allowed.
    pub const fn optional() -> Self {
        Self {
            required: false,
            allow_blank: true,
            max: None,
        }
    }

    pub const fn max(self, max: usize) -> Self {
        Self {
            max: Some(max),
            ..self
        }
    }

    pub const fn blank(self, allow_blank: bool) -> Self {
        Self {
            allow_blank,
            ..self
        }
    }
}

/// A CharField: strings (trimmed) and numbers, never booleans, lists or objects; no NUL character.
/// `Some` when present and valid.
pub fn text(body: &Value, name: &str, rules: Text, errors: &mut FieldErrors) -> Option<String> {
    let value = match body.get(name) {
        None => {
            if rules.required {
                errors.add(name, REQUIRED);
            }
            return None;
        }
        Some(value) => value,
    };
    text_value(value, rules)
        .map_err(|message| errors.add(name, message))
        .ok()
}

/// [`text`] on one value: the cleaned string or the message.
pub fn text_value(value: &Value, rules: Text) -> Result<String, String> {
    let value = match value {
        Value::Null => return Err(NULL.into()),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(INVALID_STRING.into()),
    };
    if value.contains('\0') {
        return Err(NUL_CHARACTERS.into());
    }
    if value.is_empty() && !rules.allow_blank {
        return Err(BLANK.into());
    }
    if let Some(max) = rules.max
        && value.chars().count() > max
    {
        return Err(format!(
            "Ensure this field has no more than {max} characters."
        ));
    }
    Ok(value)
}

/// A string as a plain view reads `request.data.get(name)` (numbers taken as text, nothing
/// trimmed): `None` when absent or not text. A NUL character is an error with [`NUL_CHARACTERS`].
pub fn raw_text(body: &Value, name: &str) -> Result<Option<String>, String> {
    let text = match body.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Ok(None),
    };
    if text.contains('\0') {
        return Err(NUL_CHARACTERS.into());
    }
    Ok(Some(text))
}

/// An integer as DRF's IntegerField reads it (`5`, `"5"`, `5.0`, `"7.00"`).
pub fn parse_int(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Some(i128::from(u))
            } else {
                match n.as_f64() {
                    Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => {
                        Some(f as i128)
                    }
                    _ => None,
                }
            }
        }
        Value::String(s) if s.len() <= 1000 => {
            let t = s.trim();
            // DRF strips a decimal tail of zeros: "7.00" is 7.
            let t = match t.split_once('.') {
                Some((whole, frac)) if frac.chars().all(|c| c == '0') => whole,
                _ => t,
            };
            t.parse::<i128>().ok()
        }
        _ => None,
    }
}

/// An IntegerField within the database's int range. `None`: absent or invalid; `Some(None)`: null
/// (only when `nullable`; an empty string counts as null there, as a form would send it).
pub fn integer(
    body: &Value,
    name: &str,
    required: bool,
    nullable: bool,
    errors: &mut FieldErrors,
) -> Option<Option<i32>> {
    let value = match body.get(name) {
        None => {
            if required {
                errors.add(name, REQUIRED);
            }
            return None;
        }
        Some(Value::Null) if nullable => return Some(None),
        Some(Value::String(s)) if nullable && s.trim().is_empty() => return Some(None),
        Some(Value::Null) => {
            errors.add(name, NULL);
            return None;
        }
        Some(v) => v,
    };
    match parse_int(value) {
        None => {
            errors.add(name, INVALID_INT);
            None
        }
        Some(n) if n > i128::from(i32::MAX) => {
            errors.add(
                name,
                format!("Ensure this value is less than or equal to {}.", i32::MAX),
            );
            None
        }
        Some(n) if n < i128::from(i32::MIN) => {
            errors.add(
                name,
                format!(
                    "Ensure this value is greater than or equal to {}.",
                    i32::MIN
                ),
            );
            None
        }
        Some(n) => i32::try_from(n).ok().map(Some),
    }
}

/// A BooleanField: `true`/`false`, `1`/`0`, and the strings DRF accepts (`"true"`, `"t"`, `"yes"`,
/// `"y"`, `"on"`, `"1"` and their opposites, any case). `None`: absent or invalid (null included).
pub fn boolean(body: &Value, name: &str, errors: &mut FieldErrors) -> Option<bool> {
    let value = body.get(name)?;
    let parsed = boolean_value(value);
    if parsed.is_none() {
        errors.add(name, if value.is_null() { NULL } else { INVALID_BOOL });
    }
    parsed
}

/// [`boolean`] on one value.
pub fn boolean_value(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A list of integers (`[3, "4"]`), or the message for the whole list.
pub fn id_list(value: &Value) -> Result<Vec<i64>, String> {
    let Value::Array(list) = value else {
        return Err(not_a_list(value));
    };
    list.iter()
        .map(|v| id_value(v).ok_or_else(|| INVALID_INT.to_string()))
        .collect()
}

/// DRF's ListField message for a value that is not a list.
pub fn not_a_list(value: &Value) -> String {
    format!(
        "Expected a list of items but got type \"{}\".",
        type_name(value)
    )
}

/// A list of strings; per-item errors as DRF's ListField reports them (`{"0": ["…"]}`).
pub fn string_list(value: &Value) -> Result<Vec<String>, Value> {
    let Value::Array(list) = value else {
        return Err(json!([not_a_list(value)]));
    };
    let mut item_errors = Map::new();
    let mut items = Vec::with_capacity(list.len());
    for (index, item) in list.iter().enumerate() {
        match item {
            Value::String(s) if s.contains('\0') => {
                item_errors.insert(index.to_string(), json!([NUL_CHARACTERS]));
            }
            Value::String(s) => items.push(s.clone()),
            _ => {
                item_errors.insert(index.to_string(), json!([INVALID_STRING]));
            }
        }
    }
    if item_errors.is_empty() {
        Ok(items)
    } else {
        Err(Value::Object(item_errors))
    }
}

/// An integer id (`3` or `"3"`).
pub fn id_value(value: &Value) -> Option<i64> {
    parse_int(value).and_then(|n| i64::try_from(n).ok())
}

/// An integer that fits an `INTEGER` column (orders, positions).
pub fn order_value(value: &Value) -> Option<i32> {
    parse_int(value).and_then(|n| i32::try_from(n).ok())
}

/// A username as Django stores it: NFKC-normalised (`ａｄｍｉｎ` is `admin`), so two accounts
/// never look alike in the panel.
pub fn normalize_username(username: &str) -> String {
    username.nfkc().collect()
}

/// Where the first string holding a NUL character is in `value` (object keys included): the
/// top-level field's name, `""` when the value itself is such a string or a key of the top level.
pub fn find_nul(value: &Value) -> Option<String> {
    fn holds_nul(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(list) => list.iter().any(holds_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
            _ => false,
        }
    }
    match value {
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            if key.contains('\0') {
                Some(String::new())
            } else {
                holds_nul(v).then(|| key.clone())
            }
        }),
        other => holds_nul(other).then(String::new),
    }
}

/// The field errors of a body holding a NUL character (see [`find_nul`]).
pub fn nul_errors(field: &str) -> FieldErrors {
    let field = if field.is_empty() {
        "non_field_errors"
    } else {
        field
    };
    FieldErrors::one(field, NUL_CHARACTERS)
}

/// A ChoiceField: `Some(value)` when present and one of `choices` (DRF's message otherwise).
pub fn choice(
    body: &Value,
    name: &str,
    choices: &[&str],
    required: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = match body.get(name) {
        None => {
            if required {
                errors.add(name, REQUIRED);
            }
            return None;
        }
        Some(Value::Null) => {
            errors.add(name, NULL);
            return None;
        }
        Some(v) => v,
    };
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        other => other.to_string(),
    };
    if text.contains('\0') {
        errors.add(name, NUL_CHARACTERS);
        return None;
    }
    if choices.contains(&text.as_str()) {
        Some(text)
    } else {
        errors.add(name, format!("\"{text}\" is not a valid choice."));
        None
    }
}

/// A DecimalField of rupees (10 digits, 2 places) as paise, at least `min_paise` when given.
pub fn money(
    body: &Value,
    name: &str,
    required: bool,
    min_paise: Option<i64>,
    errors: &mut FieldErrors,
) -> Option<i64> {
    let value = match body.get(name) {
        None => {
            if required {
                errors.add(name, REQUIRED);
            }
            return None;
        }
        Some(Value::Null) => {
            if required {
                errors.add(name, NULL);
            }
            return None;
        }
        Some(Value::String(s)) if s.trim().is_empty() && !required => return None,
        Some(v) => v,
    };
    match crate::money::parse_rupees(value) {
        Err(e) => {
            errors.add(name, e.message());
            None
        }
        Ok(paise) => match min_paise {
            Some(min) if paise < min => {
                errors.add(
                    name,
                    format!(
                        "Ensure this value is greater than or equal to {}.",
                        crate::money::format_paise(min)
                    ),
                );
                None
            }
            _ => Some(paise),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_drf() {
        for (value, want) in [
            (json!(5), Some(5)),
            (json!("7"), Some(7)),
            (json!(" 8 "), Some(8)),
            (json!("9.00"), Some(9)),
            (json!(3.0), Some(3)),
            (json!(3.5), None),
            (json!("x"), None),
            (json!(true), None),
        ] {
            assert_eq!(parse_int(&value).map(|n| n as i64), want, "{value}");
        }
    }

    #[test]
    fn char_fields_refuse_booleans_and_nul() {
        let body = json!({"a": true, "b": "x\u{0}y", "c": 12, "d": "  ", "e": "abcd"});
        let mut errors = FieldErrors::default();
        assert_eq!(text(&body, "a", Text::required(), &mut errors), None);
        assert_eq!(text(&body, "b", Text::required(), &mut errors), None);
        assert_eq!(
            text(&body, "c", Text::required(), &mut errors).as_deref(),
            Some("12")
        );
        assert_eq!(text(&body, "d", Text::required(), &mut errors), None);
        assert_eq!(text(&body, "e", Text::required().max(3), &mut errors), None);
        assert_eq!(text(&body, "z", Text::optional(), &mut errors), None);
        assert_eq!(
            errors.into_value(),
            json!({
                "a": [INVALID_STRING],
                "b": [NUL_CHARACTERS],
                "d": [BLANK],
                "e": ["Ensure this field has no more than 3 characters."],
            })
        );
    }

    #[test]
    fn errors_keep_the_order_fields_were_checked_in() {
        let mut errors = FieldErrors::default();
        errors.add("name", REQUIRED);
        errors.add("price", REQUIRED);
        errors.add("description", REQUIRED);
        let text = serde_json::to_string(&errors).expect("json");
        assert_eq!(
            text,
            r#"{"name":["This field is required."],"price":["This field is required."],"description":["This field is required."]}"#
        );
    }

    #[test]
    fn the_same_boolean_spellings_everywhere() {
        for yes in [
            json!(true),
            json!(1),
            json!("True"),
            json!("yes"),
            json!("on"),
            json!("1"),
        ] {
            assert_eq!(boolean_value(&yes), Some(true), "{yes}");
        }
        for no in [
            json!(false),
            json!(0),
            json!("false"),
            json!("N"),
            json!("off"),
            json!("0"),
        ] {
            assert_eq!(boolean_value(&no), Some(false), "{no}");
        }
        for neither in [json!(null), json!(2), json!("maybe"), json!([])] {
            assert_eq!(boolean_value(&neither), None, "{neither}");
        }
    }

    #[test]
    fn non_objects_name_their_type() {
        assert_eq!(
            object(&json!([1])).err().map(FieldErrors::into_value),
            Some(
                json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
            )
        );
        assert_eq!(
            object(&json!(3)).err().map(FieldErrors::into_value),
            Some(
                json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]})
            )
        );
    }

    #[test]
    fn usernames_are_nfkc_normalised() {
        assert_eq!(normalize_username("ａｄｍｉｎ"), "admin");
        assert_eq!(normalize_username("admin"), "admin");
    }

    #[test]
    fn nul_is_found_anywhere() {
        assert_eq!(
            find_nul(&json!({"a": "ok", "b": ["x", "\u{0}"]})).as_deref(),
            Some("b")
        );
        assert_eq!(find_nul(&json!({"a\u{0}": 1})).as_deref(), Some(""));
        assert_eq!(find_nul(&json!({"a": {"k": "v"}})), None);
    }
}
